//! `lifeline status`: the network, its policy and keepers, each group's endpoints with
//! their role and latest quorum verdict, and the recent migrations.
use anchor_lang::prelude::Pubkey;
use lifeline::engine::{collect, policy::effective_quorum, tally};
use lifeline::state::Reason;
use lifeline_client::ChainState;
use serde_json::{json, Value};

pub fn render(network_key: &Pubkey, state: &ChainState) -> (String, Value) {
    let (n, t, slot) = (&*state.network, &*state.topology, state.slot);
    let snap = state.snapshot();
    let ballot = collect(&snap);
    let quorum = effective_quorum(&n.policy, n.keeper_count as usize);
    let mut out = String::new();
    out.push_str(&format!("network   {} ({network_key})\n", n.name()));
    out.push_str(&format!("authority {}\n", n.authority));
    out.push_str(&format!(
        "epoch     {}   slot {slot}   {}\n",
        t.epoch,
        if n.is_paused() { "PAUSED" } else { "active" }
    ));
    let q = if quorum == usize::MAX {
        "none (no keepers)".to_string()
    } else {
        format!("{quorum} of {}", n.keeper_count)
    };
    out.push_str(&format!(
        "policy    quorum {q}, lag down {} / degraded {} slots, staleness {} slots, cooldown {} slots\n",
        n.policy.lag_down_slots, n.policy.lag_degraded_slots, n.policy.staleness_slots, n.policy.cooldown_slots
    ));
    out.push_str("\nkeepers\n");
    let mut keepers = Vec::new();
    for k in n.active_keepers() {
        let report = state
            .report_of(&k.keeper)
            .map(|(_, r)| r)
            .filter(|r| r.submitted_slot != 0);
        let counted = ballot.counted.iter().any(|c| c.report.keeper == k.keeper);
        let last = report.map_or("never".to_string(), |r| {
            if r.seq == 0 {
                "never".into()
            } else {
                format!("slot {} (seq {})", r.reference_slot, r.seq)
            }
        });
        out.push_str(&format!(
            "  {}  {:<12} {:<12} last report {last}{}\n",
            k.keeper,
            k.region(),
            k.provider(),
            if counted {
                ""
            } else {
                "  [not counting: stale or old epoch]"
            }
        ));
        keepers.push(json!({ "keeper": k.keeper.to_string(), "region": k.region(), "provider": k.provider(), "seq": report.map(|r| r.seq), "reference_slot": report.map(|r| r.reference_slot), "counting": counted }));
    }
    let mut groups: Vec<u8> = t.endpoints().iter().map(|e| e.group).collect();
    groups.sort_unstable();
    groups.dedup();
    let mut endpoints = Vec::new();
    for g in groups {
        out.push_str(&format!(
            "\ngroup {g}\n  {:<5} {:<11} {:<10} {:<10} {:<20} {}\n",
            "id", "role", "region", "provider", "verdict", "url"
        ));
        for e in t.endpoints().iter().filter(|e| e.group == g) {
            let tl = tally(&snap, &ballot, e.id);
            let verdict = if tl.down as usize >= quorum {
                format!("DOWN {}/{} ({:?})", tl.down, tl.observed, tl.reason)
            } else if tl.healthy as usize >= quorum {
                format!("healthy {}/{}", tl.healthy, tl.observed)
            } else if tl.observed == 0 {
                "no reports".into()
            } else {
                format!("split {}v/{}^ of {}", tl.down, tl.healthy, tl.observed)
            };
            let role = e.role().map_or("?".into(), |r| format!("{r:?}"));
            out.push_str(&format!(
                "  {:<5} {:<11} {:<10} {:<10} {:<20} {}\n",
                e.id,
                role,
                e.region(),
                e.provider(),
                verdict,
                e.url()
            ));
            endpoints.push(json!({
                "id": e.id, "group": e.group, "role": role, "url": e.url(), "region": e.region(), "provider": e.provider(),
                "priority": e.priority, "down_votes": tl.down, "healthy_votes": tl.healthy, "observed": tl.observed,
                "median_latency_ms": tl.median_latency_ms, "median_slot_lag": tl.median_slot_lag,
                "quarantine_until_slot": e.quarantine_until_slot, "ejections": e.ejection_count,
            }));
        }
    }
    let mut migrations = Vec::new();
    let recent: Vec<_> = t.recent_migrations().collect();
    if !recent.is_empty() {
        out.push_str("\nrecent migrations\n");
    }
    for m in recent {
        let from = if m.from_id == u32::MAX {
            "-".to_string()
        } else {
            m.from_id.to_string()
        };
        out.push_str(&format!(
            "  slot {:<10} group {} {from} -> {}  {:?}, {} voters, median lag {} slots, latency {} ms\n",
            m.slot, m.group, m.to_id, Reason::from_u8(m.rule), m.voter_count, m.median_slot_lag, m.median_latency_ms
        ));
        migrations.push(json!({ "slot": m.slot, "group": m.group, "from": (m.from_id != u32::MAX).then_some(m.from_id), "to": m.to_id, "rule": format!("{:?}", Reason::from_u8(m.rule)), "voters": m.voter_count, "median_slot_lag": m.median_slot_lag, "new_epoch": m.new_epoch }));
    }
    let json = json!({
        "network": network_key.to_string(), "name": n.name(), "authority": n.authority.to_string(), "epoch": t.epoch, "slot": slot,
        "paused": n.is_paused(), "quorum": (quorum != usize::MAX).then_some(quorum), "keepers": keepers, "endpoints": endpoints, "migrations": migrations,
    });
    (out, json)
}
