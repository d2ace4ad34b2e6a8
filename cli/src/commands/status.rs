//! `lifeline status`: what an operator needs during an incident. The network (authority,
//! pending authority, guardian, who paused it), the policy and what the keeper set
//! tolerates, every keeper and when it last attested, each group's endpoints with the
//! keepers' verdict in words (and how long quarantine and probation have left), and the
//! recent migrations with the transactions that made them. `--json` carries all of it.
use anchor_lang::prelude::Pubkey;
use lifeline::engine::ballot::cell_verdict;
use lifeline::engine::policy::{effective_quorum, fault_tolerance};
use lifeline::engine::{collect, tally, Electorate, Snapshot, Tally};
use lifeline::state::{Endpoint, PolicyParams, Reason, Role};
use lifeline_client::plan::tolerance_note;
use lifeline_client::{describe, history, kinds, ChainState};
use serde_json::{json, Value};

use super::{address, Cluster};
use crate::chain::{Chain, Failure};

#[derive(clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub cluster: Cluster,
    #[arg(long, env = "LIFELINE_NETWORK")]
    pub network: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(a: StatusArgs) -> Result<(), Failure> {
    let network = address("network", &a.network)?;
    let chain = Chain::new(&a.cluster.url);
    let state = chain.state(&network).await?;
    let records: Vec<_> = state.topology.recent_migrations().copied().collect();
    let signatures = history::migration_signatures(&chain.rpc, &network, &records).await;
    let (text, json) = render(&network, &state, &signatures);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    } else {
        print!("{text}");
    }
    Ok(())
}

/// Seconds for `slots` at 400 ms.
fn secs(slots: u64) -> String {
    let s = slots * 2 / 5;
    if s >= 120 {
        format!("~{} min", s / 60)
    } else {
        format!("~{s} s")
    }
}

fn key_or_none(k: &Pubkey) -> Option<String> {
    (*k != Pubkey::default()).then(|| k.to_string())
}

/// Per endpoint: how many counted keepers judge it healthy, degraded, down.
fn verdict_counts(snap: &Snapshot, e: &Electorate, j: usize) -> [u8; 4] {
    let mut counts = [0u8; 4];
    for c in e.counted.iter().filter(|c| !c.cut_off) {
        counts[cell_verdict(snap.topology, c.report, j) as usize] += 1;
    }
    counts
}

/// The keepers' verdict on one endpoint, in words.
fn verdict_words(t: &Tally, counts: [u8; 4], quorum: usize) -> String {
    let observed = t.observed as usize;
    if t.down as usize >= quorum {
        return format!(
            "DOWN {}/{}: {}",
            t.down,
            observed,
            describe::reason(t.reason)
        );
    }
    if t.healthy as usize >= quorum {
        return format!("healthy {}/{}", t.healthy, observed);
    }
    if observed == 0 {
        return "not judged yet".into();
    }
    let [_, healthy, degraded, down] = counts.map(|c| c as usize);
    for (n, word) in [(healthy, "healthy"), (degraded, "degraded"), (down, "down")] {
        if n == observed {
            return format!("{word} {n}/{observed} (votes short of quorum {quorum})");
        }
    }
    format!("split: {healthy} healthy, {degraded} degraded, {down} down")
}

/// How long a quarantined endpoint still waits: its quarantine, and the probation the
/// quorum-th best keeper still has to serve.
fn readmission_wait(snap: &Snapshot, e: &Electorate, x: &Endpoint, j: usize) -> (u64, Option<u64>) {
    let now = snap.now;
    let quarantine_left = x.quarantine_until_slot.saturating_sub(now);
    let policy = &snap.network.policy;
    let mut served: Vec<u64> = e
        .counted
        .iter()
        .filter(|c| !c.cut_off && c.report.votes[j].votes_healthy())
        .map(|c| now.saturating_sub(c.report.verdict_since_slot(j)))
        .collect();
    served.sort_unstable_by(|a, b| b.cmp(a));
    let probation_left = served
        .get(e.quorum.saturating_sub(1))
        .map(|s| policy.probation_slots.saturating_sub(*s));
    (quarantine_left, probation_left)
}

pub fn render(
    network_key: &Pubkey,
    state: &ChainState,
    signatures: &[Option<String>],
) -> (String, Value) {
    let (n, t, now) = (&*state.network, &*state.topology, state.slot);
    let snap = state.snapshot();
    let electorate = collect(&snap);
    let keepers = n.keeper_count as usize;
    let quorum = effective_quorum(&n.policy, keepers);
    let policy = PolicyParams::from(&n.policy);
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("network   {} ({network_key})", n.name()));
    line(format!(
        "authority {}{}",
        n.authority,
        key_or_none(&n.pending_authority).map_or(String::new(), |p| format!(
            "   (proposed: {p}, not yet accepted)"
        ))
    ));
    line(format!(
        "guardian  {}",
        key_or_none(&n.guardian).unwrap_or_else(|| "none".into())
    ));
    let paused_by = if n.paused_by == n.authority {
        "the authority".to_string()
    } else if n.paused_by == n.guardian {
        "the guardian".to_string()
    } else {
        n.paused_by.to_string()
    };
    line(format!(
        "state     {}   epoch {}   slot {now}",
        if n.is_paused() {
            format!("PAUSED by {paused_by}: no automatic migration or readmission")
        } else {
            "active".into()
        },
        t.epoch
    ));
    let (safety, liveness) = fault_tolerance(&n.policy, keepers);
    if quorum == usize::MAX {
        line("quorum    none: no keepers".into());
    } else {
        line(format!(
            "quorum    {quorum} of {keepers} (tolerates {liveness} silent and {safety} lying keepers)"
        ));
    }
    if let Some(w) = tolerance_note(keepers, &policy) {
        line(w);
    }
    let fields: Vec<String> = PolicyParams::FIELDS
        .iter()
        .map(|f| format!("{} {}", f.name, (f.get)(&policy)))
        .collect();
    line(format!("policy    {}", fields.join(", ")));

    line("\nkeepers".into());
    let mut keeper_json = Vec::new();
    for (i, k) in n.keepers.iter().enumerate().filter(|(_, k)| !k.is_empty()) {
        let row = &state.ballot.reports[i];
        let attested =
            (row.keeper == k.keeper && row.submitted_slot != 0).then_some(row.submitted_slot);
        let counted = electorate.counted.iter().find(|c| c.keeper_index == i);
        let standing = match (attested, counted) {
            (None, _) => "never attested".to_string(),
            (Some(at), Some(c)) => format!(
                "last attested slot {at} ({} ago, seq {}){}",
                secs(now.saturating_sub(at)),
                row.seq,
                if c.cut_off { "  [reaches no endpoint: its down votes are discounted]" } else { "" }
            ),
            (Some(at), None) if row.topology_epoch < t.policy_epoch => format!(
                "last attested slot {at}: before the policy changed, not counting until it attests again"
            ),
            (Some(at), None) => format!(
                "SILENT since slot {at} ({} ago): its votes no longer count",
                secs(now.saturating_sub(at))
            ),
        };
        line(format!(
            "  {}  {:<16} {:<16} {standing}",
            k.keeper,
            k.region(),
            k.provider()
        ));
        keeper_json.push(json!({
            "keeper": k.keeper.to_string(), "slot": i, "region": k.region(), "provider": k.provider(),
            "seq": row.seq, "last_attested_slot": attested, "counting": counted.is_some(),
            "cut_off": counted.is_some_and(|c| c.cut_off),
            "silent": attested.is_some() && counted.is_none() && row.topology_epoch >= t.policy_epoch,
        }));
    }

    let mut groups: Vec<u8> = t.endpoints().iter().map(|e| e.group).collect();
    groups.sort_unstable();
    groups.dedup();
    let mut endpoint_json = Vec::new();
    for g in groups {
        line(format!("\ngroup {g}"));
        for (j, e) in t
            .endpoints()
            .iter()
            .enumerate()
            .filter(|(_, e)| e.group == g)
        {
            let tl = tally(&snap, &electorate, e.id);
            let counts = verdict_counts(&snap, &electorate, j);
            let words = verdict_words(&tl, counts, quorum);
            let role = e.role().map_or("?", |r| match r {
                Role::Primary => "PRIMARY",
                Role::Standby => "standby",
                Role::Quarantined => "QUARANTINED",
                Role::Retired => "retired",
            });
            line(format!(
                "  {:<3} {:<11} {:<9} {:<44} {}",
                e.id,
                role,
                e.kind().map_or("?", kinds::name),
                words,
                e.url()
            ));
            if tl.observed > 0 {
                line(format!(
                    "      medians over {} keepers: latency {} ms, lag {} slots, errors {:.1} %",
                    tl.observed,
                    tl.median_latency_ms,
                    tl.median_slot_lag,
                    tl.median_error_bps as f64 / 100.0
                ));
            }
            let mut wait = json!(null);
            if e.role() == Some(Role::Quarantined) {
                let (q, p) = readmission_wait(&snap, &electorate, e, j);
                let probation = match p {
                    Some(0) => "probation served".to_string(),
                    Some(left) => format!("probation {left} slots left ({})", secs(left)),
                    None => format!("probation not started by {quorum} keepers"),
                };
                line(format!(
                    "      quarantined until slot {} ({}), {} ejection(s), last for {}; {probation}",
                    e.quarantine_until_slot,
                    if q == 0 { "elapsed".to_string() } else { format!("{q} slots left, {}", secs(q)) },
                    e.ejection_count,
                    describe::reason(Reason::from_u8(e.last_reason)),
                ));
                wait = json!({ "quarantine_slots_left": q, "probation_slots_left": p });
            }
            let [_, healthy, degraded, down] = counts;
            endpoint_json.push(json!({
                "id": e.id, "group": e.group, "kind": e.kind().map_or("unknown", kinds::name), "role": role.to_lowercase(),
                "url": e.url(), "region": e.region(), "provider": e.provider(), "priority": e.priority,
                "verdict": words,
                "reason": (tl.down as usize >= quorum).then(|| describe::reason(tl.reason)),
                "votes": { "down": tl.down, "healthy": tl.healthy, "probation": tl.probation },
                "verdicts": { "healthy": healthy, "degraded": degraded, "down": down, "observed": tl.observed },
                "medians": (tl.observed > 0).then(|| json!({
                    "latency_ms": tl.median_latency_ms, "slot_lag": tl.median_slot_lag, "error_bps": tl.median_error_bps,
                })),
                "quarantine_until_slot": e.quarantine_until_slot, "ejections": e.ejection_count,
                "readmission": wait,
            }));
        }
    }

    let recent: Vec<_> = t.recent_migrations().collect();
    if !recent.is_empty() {
        line("\nrecent migrations".into());
    }
    let mut migration_json = Vec::new();
    for (i, m) in recent.iter().enumerate() {
        let from = m.from().map_or("-".to_string(), |id| id.to_string());
        let rule = Reason::from_u8(m.rule);
        let tx = signatures.get(i).cloned().flatten();
        line(format!(
            "  slot {:<10} group {} {from} → {}  {}; {} voter(s), median lag {} slots, latency {} ms{}",
            m.slot,
            m.group,
            m.to_id,
            describe::reason(rule),
            m.voter_count,
            m.median_slot_lag,
            m.median_latency_ms,
            tx.as_ref().map_or(String::new(), |s| format!("\n      transaction {s}"))
        ));
        migration_json.push(json!({
            "slot": m.slot, "group": m.group, "from": m.from(), "to": m.to_id,
            "rule": format!("{rule:?}"), "reason": describe::reason(rule),
            "voters": describe::voters(n, m.voters), "voter_count": m.voter_count,
            "median_slot_lag": m.median_slot_lag, "median_latency_ms": m.median_latency_ms,
            "new_epoch": m.new_epoch, "transaction": tx,
        }));
    }
    let policy_json: serde_json::Map<String, Value> = PolicyParams::FIELDS
        .iter()
        .map(|f| (f.name.to_string(), json!((f.get)(&policy))))
        .collect();
    let json = json!({
        "network": network_key.to_string(), "name": n.name(), "authority": n.authority.to_string(),
        "pending_authority": key_or_none(&n.pending_authority), "guardian": key_or_none(&n.guardian),
        "paused": n.is_paused(), "paused_by": n.is_paused().then(|| n.paused_by.to_string()),
        "epoch": t.epoch, "slot": now, "policy": policy_json,
        "quorum": (quorum != usize::MAX).then_some(quorum),
        "tolerates": { "silent": liveness, "lying": safety },
        "warning": tolerance_note(keepers, &policy),
        "keepers": keeper_json, "endpoints": endpoint_json, "migrations": migration_json,
    });
    (out, json)
}
