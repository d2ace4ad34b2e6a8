//! `lifeline status`: what an operator needs during an incident. The network (authority,
//! pending authority, guardian, who paused it), the policy and what the keeper set
//! tolerates, every keeper and when it last attested, each group's endpoints with the
//! keepers' verdict in words (and how long quarantine and probation have left), and the
//! recent migrations with the transactions that made them. `--json` carries all of it.
use std::collections::BTreeMap;

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
    let balances = keeper_balances(&chain, &state).await;
    let (text, json) = render(&network, &state, &signatures, &balances);
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

/// Each keeper's balance, by key (missing when it cannot be read).
async fn keeper_balances(chain: &Chain, state: &ChainState) -> BTreeMap<Pubkey, u64> {
    let keys: Vec<Pubkey> = state
        .network
        .keepers
        .iter()
        .filter(|k| !k.is_empty())
        .map(|k| k.keeper)
        .collect();
    let Ok(accounts) = chain.rpc.get_multiple_accounts(&keys).await else {
        return BTreeMap::new();
    };
    keys.into_iter()
        .zip(accounts)
        .map(|(k, a)| (k, a.map_or(0, |a| a.lamports)))
        .collect()
}

/// A keeper is low on funds below this many days of fees at the steady state.
pub const LOW_FUNDS_DAYS: f64 = 7.0;

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

/// How many counted keepers' cells for endpoint `j` say it could not be reached, and how
/// many reached it. Both non-zero: reachable by some keepers only.
fn reachability(snap: &Snapshot, e: &Electorate, j: usize) -> (usize, usize) {
    let mut counts = (0, 0);
    for c in &e.counted {
        if cell_verdict(snap.topology, c.report, j) == lifeline::state::Verdict::Unknown {
            continue;
        }
        if c.report.votes[j].unreachable() {
            counts.0 += 1;
        } else {
            counts.1 += 1;
        }
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

/// The report being written: the chain read once, and the text so far.
struct Report<'a> {
    key: &'a Pubkey,
    state: &'a ChainState,
    balances: &'a BTreeMap<Pubkey, u64>,
    snap: &'a Snapshot<'a>,
    electorate: &'a Electorate<'a>,
    quorum: usize,
    policy: PolicyParams,
    out: String,
}

impl Report<'_> {
    fn line(&mut self, s: String) {
        self.out.push_str(&s);
        self.out.push('\n');
    }

    /// The network: authority, guardian, state, quorum, policy.
    fn header(&mut self) {
        let (n, t, now) = (&*self.state.network, &*self.state.topology, self.state.slot);
        self.line(format!("network   {} ({})", n.name(), self.key));
        let pending = key_or_none(&n.pending_authority).map_or(String::new(), |p| {
            format!("   (proposed: {p}, not yet accepted)")
        });
        self.line(format!("authority {}{pending}", n.authority));
        let guardian = key_or_none(&n.guardian).unwrap_or_else(|| "none".into());
        self.line(format!("guardian  {guardian}"));
        let paused_by = if n.paused_by == n.authority {
            "the authority".to_string()
        } else if n.paused_by == n.guardian {
            "the guardian".to_string()
        } else {
            n.paused_by.to_string()
        };
        let state = if n.is_paused() {
            format!("PAUSED by {paused_by}: no automatic migration or readmission")
        } else {
            "active".into()
        };
        self.line(format!(
            "state     {state}   epoch {}   slot {now}",
            t.epoch
        ));
        let keepers = n.keeper_count as usize;
        let (safety, liveness) = fault_tolerance(&n.policy, keepers);
        if self.quorum == usize::MAX {
            self.line("quorum    none: no keepers".into());
        } else {
            self.line(format!(
                "quorum    {} of {keepers} (tolerates {liveness} silent and {safety} lying keepers)",
                self.quorum
            ));
        }
        if let Some(w) = tolerance_note(keepers, &self.policy) {
            self.line(w);
        }
        let fields: Vec<String> = PolicyParams::FIELDS
            .iter()
            .map(|f| format!("{} {}", f.name, (f.get)(&self.policy)))
            .collect();
        self.line(format!("policy    {}", fields.join(", ")));
    }

    /// Every keeper: labels, and whether and since when its row counts.
    fn keepers(&mut self) -> Vec<Value> {
        let (n, t, now) = (&*self.state.network, &*self.state.topology, self.state.slot);
        self.line("\nkeepers".into());
        let mut json = Vec::new();
        for (i, k) in n.keepers.iter().enumerate().filter(|(_, k)| !k.is_empty()) {
            let row = &self.state.ballot.reports[i];
            let attested =
                (row.keeper == k.keeper && row.submitted_slot != 0).then_some(row.submitted_slot);
            let counted = self.electorate.counted.iter().find(|c| c.keeper_index == i);
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
            let balance = self.balances.get(&k.keeper).copied();
            let days = balance.map(|b| {
                lifeline_keeper::wallet::days_left(
                    b,
                    lifeline_keeper::wallet::steady_fees_per_day(&n.policy),
                )
            });
            let low = days.is_some_and(|d| d < LOW_FUNDS_DAYS);
            let funds = match (balance, days) {
                (Some(b), Some(d)) => format!(
                    "  {:.4} SOL, ~{d:.0} days of fees{}",
                    b as f64 / 1e9,
                    if low { "  [LOW ON FUNDS]" } else { "" }
                ),
                _ => String::new(),
            };
            self.line(format!(
                "  {}  {:<16} {:<16} {standing}{funds}",
                k.keeper,
                k.region(),
                k.provider()
            ));
            json.push(json!({
                "keeper": k.keeper.to_string(), "slot": i, "region": k.region(), "provider": k.provider(),
                "seq": row.seq, "last_attested_slot": attested, "counting": counted.is_some(),
                "cut_off": counted.is_some_and(|c| c.cut_off),
                "silent": attested.is_some() && counted.is_none() && row.topology_epoch >= t.policy_epoch,
                "balance_lamports": balance, "fee_days_left": days, "low_funds": low,
            }));
        }
        json
    }

    /// Each group's endpoints, with the keepers' verdict in words.
    fn groups(&mut self) -> Vec<Value> {
        let t = &*self.state.topology;
        let mut groups: Vec<u8> = t.endpoints().iter().map(|e| e.group).collect();
        groups.sort_unstable();
        groups.dedup();
        let mut json = Vec::new();
        for g in groups {
            self.line(format!("\ngroup {g}"));
            for (j, e) in t
                .endpoints()
                .iter()
                .enumerate()
                .filter(|(_, e)| e.group == g)
            {
                json.push(self.endpoint(j, e));
            }
        }
        json
    }

    /// One endpoint: role, kind, verdict, medians, and what a quarantined one waits for.
    fn endpoint(&mut self, j: usize, e: &Endpoint) -> Value {
        let (snap, electorate, quorum) = (self.snap, self.electorate, self.quorum);
        let tl = tally(snap, electorate, e.id);
        let counts = verdict_counts(snap, electorate, j);
        let words = verdict_words(&tl, counts, quorum);
        let role = e.role().map_or("?", |r| match r {
            Role::Primary => "PRIMARY",
            Role::Standby => "standby",
            Role::Quarantined => "QUARANTINED",
            Role::Retired => "retired",
        });
        let kind = e.kind().map_or("?", kinds::name);
        self.line(format!(
            "  {:<3} {role:<11} {kind:<9} {words:<44} {}",
            e.id,
            e.url()
        ));
        let (unreachable_by, reached_by) = reachability(snap, electorate, j);
        if unreachable_by > 0 && reached_by > 0 {
            self.line(format!(
                "      reachable by {reached_by} of {} keepers only: a partition, or an endpoint picking its callers",
                reached_by + unreachable_by
            ));
        }
        if tl.observed > 0 {
            self.line(format!(
                "      medians over {} keepers: latency {} ms, lag {} slots, errors {:.1} %",
                tl.observed,
                tl.median_latency_ms,
                tl.median_slot_lag,
                tl.median_error_bps as f64 / 100.0
            ));
        }
        let mut wait = json!(null);
        if e.role() == Some(Role::Quarantined) {
            let (q, p) = readmission_wait(snap, electorate, e, j);
            let probation = match p {
                Some(0) => "probation served".to_string(),
                Some(left) => format!("probation {left} slots left ({})", secs(left)),
                None => format!("probation not started by {quorum} keepers"),
            };
            let quarantine = if q == 0 {
                "elapsed".to_string()
            } else {
                format!("{q} slots left, {}", secs(q))
            };
            self.line(format!(
                "      quarantined until slot {} ({quarantine}), {} ejection(s), last for {}; {probation}",
                e.quarantine_until_slot,
                e.ejection_count,
                describe::reason(Reason::from_u8(e.last_reason)),
            ));
            wait = json!({ "quarantine_slots_left": q, "probation_slots_left": p });
        }
        let [_, healthy, degraded, down] = counts;
        json!({
            "id": e.id, "group": e.group, "kind": e.kind().map_or("unknown", kinds::name), "role": role.to_lowercase(),
            "url": e.url(), "region": e.region(), "provider": e.provider(), "priority": e.priority,
            "verdict": words,
            "reason": (tl.down as usize >= quorum).then(|| describe::reason(tl.reason)),
            "votes": { "down": tl.down, "healthy": tl.healthy, "probation": tl.probation },
            "verdicts": { "healthy": healthy, "degraded": degraded, "down": down, "observed": tl.observed },
            "reachable_by": reached_by, "unreachable_by": unreachable_by,
            "medians": (tl.observed > 0).then(|| json!({
                "latency_ms": tl.median_latency_ms, "slot_lag": tl.median_slot_lag, "error_bps": tl.median_error_bps,
            })),
            "quarantine_until_slot": e.quarantine_until_slot, "ejections": e.ejection_count,
            "readmission": wait,
        })
    }

    /// The recent migrations, with the transactions that made them.
    fn migrations(&mut self, signatures: &[Option<String>]) -> Vec<Value> {
        let (n, t) = (&*self.state.network, &*self.state.topology);
        let recent: Vec<_> = t.recent_migrations().collect();
        if !recent.is_empty() {
            self.line("\nrecent migrations".into());
        }
        let mut json = Vec::new();
        for (i, m) in recent.iter().enumerate() {
            let from = m.from().map_or("-".to_string(), |id| id.to_string());
            let rule = Reason::from_u8(m.rule);
            let tx = signatures.get(i).cloned().flatten();
            let tx_line = tx
                .as_ref()
                .map_or(String::new(), |s| format!("\n      transaction {s}"));
            self.line(format!(
                "  slot {:<10} group {} {from} → {}  {}; {} voter(s), median lag {} slots, latency {} ms{tx_line}",
                m.slot,
                m.group,
                m.to_id,
                describe::reason(rule),
                m.voter_count,
                m.median_slot_lag,
                m.median_latency_ms,
            ));
            json.push(json!({
                "slot": m.slot, "group": m.group, "from": m.from(), "to": m.to_id,
                "rule": format!("{rule:?}"), "reason": describe::reason(rule),
                "voters": describe::voters(n, m.voters), "voter_count": m.voter_count,
                "median_slot_lag": m.median_slot_lag, "median_latency_ms": m.median_latency_ms,
                "new_epoch": m.new_epoch, "transaction": tx,
            }));
        }
        json
    }
}

/// The status as text, and as JSON carrying the same (and the whole policy).
pub fn render(
    network_key: &Pubkey,
    state: &ChainState,
    signatures: &[Option<String>],
    balances: &BTreeMap<Pubkey, u64>,
) -> (String, Value) {
    let (n, t) = (&*state.network, &*state.topology);
    let snap = state.snapshot();
    let electorate = collect(&snap);
    let keepers = n.keeper_count as usize;
    let mut r = Report {
        key: network_key,
        state,
        balances,
        snap: &snap,
        electorate: &electorate,
        quorum: effective_quorum(&n.policy, keepers),
        policy: PolicyParams::from(&n.policy),
        out: String::new(),
    };
    r.header();
    let keeper_json = r.keepers();
    let endpoint_json = r.groups();
    let migration_json = r.migrations(signatures);
    let (safety, liveness) = fault_tolerance(&n.policy, keepers);
    let policy_json: serde_json::Map<String, Value> = PolicyParams::FIELDS
        .iter()
        .map(|f| (f.name.to_string(), json!((f.get)(&r.policy))))
        .collect();
    let json = json!({
        "network": network_key.to_string(), "name": n.name(), "authority": n.authority.to_string(),
        "pending_authority": key_or_none(&n.pending_authority), "guardian": key_or_none(&n.guardian),
        "paused": n.is_paused(), "paused_by": n.is_paused().then(|| n.paused_by.to_string()),
        "epoch": t.epoch, "slot": state.slot, "policy": policy_json,
        "quorum": (r.quorum != usize::MAX).then_some(r.quorum),
        "tolerates": { "silent": liveness, "lying": safety },
        "warning": tolerance_note(keepers, &r.policy),
        "keepers": keeper_json, "endpoints": endpoint_json, "migrations": migration_json,
    });
    (r.out, json)
}
