//! When to attest. Each attestation is a fee the keeper pays and an endpoint can provoke,
//! so a keeper attests at once only when a vote a decision reads changes:
//! * a primary's down vote (gained or withdrawn): a failover waits on it;
//! * a healthy vote lost on a standby or a quarantined endpoint (a decision must not
//!   promote or readmit it on a stale vote);
//! * a healthy vote gained on a standby of a group that needs one now (its primary voted
//!   down by this keeper, or no primary);
//!
//! and when the row would stop counting (first, policy or endpoints changed). Every other
//! change — a verdict that moves without a vote, a healthy vote gained where nothing waits
//! for it, a down vote on an endpoint that does not serve — waits until that endpoint's
//! cell has stood `debounce_slots` on chain, or rides the heartbeat (a third of the
//! liveness window). Breach evidence is refreshed for primaries only. The attester caps
//! what all this may cost (`cap.rs`). One attestation carries every endpoint.
use lifeline::engine::ballot::judge;
use lifeline::state::{
    KeeperReport, ObservationInput, Policy, Role, Topology, VOTE_DOWN, VOTE_HEALTHY,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// This keeper has no attestation on chain yet.
    First,
    /// The policy changed after the epoch the row was read at: the row no longer counts.
    PolicyChanged,
    /// An endpoint was added or its URL changed since the row was written.
    EndpointsChanged { endpoint_id: u32 },
    /// Some endpoint's verdict differs from the row, or a vote no decision waits on; its
    /// cell has stood `debounce_slots` on chain.
    VerdictChanged { endpoint_id: u32 },
    /// A vote a decision reads changed (see the module's rules).
    VoteChanged { endpoint_id: u32 },
    /// The row votes a primary down and its evidence is half-way to stale: keep it fresh
    /// while the breach lasts, so a migration blocked now (cooldown, no healthy standby)
    /// can still happen the moment it is allowed.
    BreachRefresh,
    /// Nothing changed, but the row is a third of the way to silence.
    Heartbeat,
}

impl Trigger {
    /// A stable label for logs and metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::First => "first",
            Self::PolicyChanged => "policy_changed",
            Self::EndpointsChanged { .. } => "endpoints_changed",
            Self::VerdictChanged { .. } => "verdict_changed",
            Self::VoteChanged { .. } => "vote_changed",
            Self::BreachRefresh => "breach_refresh",
            Self::Heartbeat => "heartbeat",
        }
    }
}

/// Heartbeat period: a third of the liveness window, so one lost heartbeat never silences
/// a keeper.
pub fn heartbeat_slots(policy: &Policy) -> u64 {
    (policy.liveness_slots / 3).max(1)
}

/// How often the evidence of an ongoing breach is refreshed: half the staleness window.
pub fn breach_refresh_slots(policy: &Policy) -> u64 {
    (policy.staleness_slots / 2).max(1)
}

/// How long an endpoint's cell must have stood on chain before a change no decision
/// waits for is attested on its own: half the heartbeat (50 s at the default policy).
pub fn debounce_slots(policy: &Policy) -> u64 {
    (heartbeat_slots(policy) / 2).max(1)
}

/// Whether changing this endpoint's votes from `was` to `now` (VOTE_* bits) must be
/// attested at once: a decision reads it now. `needs_standby`: the endpoint's group needs
/// a standby now (this keeper votes its primary down, or it has none).
fn urgent(role: Option<Role>, was: u8, now: u8, needs_standby: bool) -> bool {
    let down = |v: u8| v & VOTE_DOWN != 0;
    let healthy = |v: u8| v & VOTE_HEALTHY != 0;
    match role {
        Some(Role::Primary) => down(was) != down(now),
        Some(Role::Standby) => {
            (healthy(was) && !healthy(now)) || (!healthy(was) && healthy(now) && needs_standby)
        }
        Some(Role::Quarantined) => healthy(was) && !healthy(now),
        _ => false,
    }
}

/// The compute units an attestation asks for. The program executes a migration in the
/// attestation only for a group whose primary it votes down, or a group without a primary
/// (its standby voted healthy); any other attestation only records the row, a fraction of
/// the work, and asks for less (the priority fee is charged on what is asked for).
pub fn compute_units(policy: &Policy, topology: &Topology, next: &[ObservationInput]) -> u32 {
    use lifeline_client::budget::{
        ATTESTATION as ATTESTATION_COMPUTE_UNITS,
        QUIET_ATTESTATION as QUIET_ATTESTATION_COMPUTE_UNITS,
    };
    let votes_a_primary_down = next.iter().any(|o| {
        judge(policy, o).votes() & VOTE_DOWN != 0
            && topology
                .endpoint(o.endpoint_id)
                .is_some_and(|e| e.role() == Some(lifeline::state::Role::Primary))
    });
    let vacant_group = topology
        .endpoints()
        .iter()
        .any(|e| e.in_rotation() && topology.primary_of(e.group).is_none());
    if votes_a_primary_down || vacant_group {
        ATTESTATION_COMPUTE_UNITS
    } else {
        QUIET_ATTESTATION_COMPUTE_UNITS
    }
}

/// Decides whether to attest `next` (the latest observation of each endpoint) at chain
/// slot `now`, given this keeper's row as the chain holds it (None: no row).
pub fn should_attest(
    policy: &Policy,
    topology: &Topology,
    row: Option<&KeeperReport>,
    now: u64,
    next: &[ObservationInput],
) -> Option<Trigger> {
    let row = match row {
        Some(r) if r.submitted_slot != 0 => r,
        _ => return Some(Trigger::First),
    };
    if row.topology_epoch < topology.policy_epoch {
        return Some(Trigger::PolicyChanged);
    }
    let judged_of = |id: u32| {
        next.iter()
            .find(|o| o.endpoint_id == id)
            .map(|o| judge(policy, o))
    };
    // Groups that need a standby now: this keeper votes their primary down, or they have
    // none.
    let needs_standby = |group: u8| match topology.primary_of(group) {
        None => true,
        Some(p) => judged_of(p.id).is_some_and(|j| j.votes() & VOTE_DOWN != 0),
    };
    let mut breach = false;
    let mut settled_change = None;
    for (j, e) in topology.endpoints().iter().enumerate() {
        let Some(judged) = judged_of(e.id) else {
            continue;
        };
        if e.config_epoch > row.topology_epoch {
            return Some(Trigger::EndpointsChanged { endpoint_id: e.id });
        }
        let cell = &row.votes[j];
        let (was, votes) = (cell.flags & (VOTE_DOWN | VOTE_HEALTHY), judged.votes());
        if was != votes && urgent(e.role(), was, votes, needs_standby(e.group)) {
            return Some(Trigger::VoteChanged { endpoint_id: e.id });
        }
        if settled_change.is_none() && (cell.verdict() != judged.verdict || was != votes) {
            // The cell's verdict has stood since this slot on chain.
            let since = row.verdict_since_slot(j);
            if now.saturating_sub(since) >= debounce_slots(policy) {
                settled_change = Some(Trigger::VerdictChanged { endpoint_id: e.id });
            }
        }
        breach |= cell.votes_down() && e.role() == Some(Role::Primary);
    }
    if let Some(t) = settled_change {
        return Some(t);
    }
    if breach && now.saturating_sub(row.reference_slot) >= breach_refresh_slots(policy) {
        return Some(Trigger::BreachRefresh);
    }
    if now.saturating_sub(row.submitted_slot) >= heartbeat_slots(policy) {
        return Some(Trigger::Heartbeat);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use bytemuck::Zeroable;
    use lifeline::engine::{record, Attestation};
    use lifeline::state::{Endpoint, PolicyParams, Role, OBS_UNREACHABLE};

    const NOW: u64 = 10_000;

    fn policy() -> Policy {
        PolicyParams::default().into()
    }

    fn topology(n: u32) -> Box<Topology> {
        let mut t: Box<Topology> = Box::new(Topology::zeroed());
        t.epoch = 3;
        t.policy_epoch = 1;
        for id in 0..n {
            t.endpoints[id as usize] = Endpoint {
                id,
                role: if id == 0 {
                    Role::Primary
                } else {
                    Role::Standby
                } as u8,
                config_epoch: 1,
                ..Endpoint::default()
            };
        }
        t.endpoint_count = n as u8;
        t.next_endpoint_id = n;
        t
    }

    fn healthy(id: u32, good: u8) -> ObservationInput {
        ObservationInput {
            endpoint_id: id,
            latency_ms: 30,
            consecutive_good: good,
            ..ObservationInput::default()
        }
    }

    fn down(id: u32, bad: u8) -> ObservationInput {
        ObservationInput {
            endpoint_id: id,
            flags: OBS_UNREACHABLE,
            consecutive_bad: bad,
            ..ObservationInput::default()
        }
    }

    /// The row the program would hold after attesting `obs` at `at`.
    fn row(t: &Topology, at: u64, obs: &[ObservationInput]) -> KeeperReport {
        let mut r = KeeperReport::default();
        let att = Attestation {
            seq: 1,
            topology_epoch: t.epoch,
            reference_slot: at,
            observations: obs,
        };
        record(&policy(), t, &mut r, Pubkey::new_unique(), &att, at);
        r
    }

    #[test]
    fn quiet_while_nothing_changes_then_a_heartbeat() {
        let (p, t) = (policy(), topology(2));
        let r = row(&t, NOW, &[healthy(0, 5), healthy(1, 5)]);
        // streaks grow every window: not a change
        let same = [healthy(0, 50), healthy(1, 50)];
        let hb = NOW + heartbeat_slots(&p);
        assert_eq!(should_attest(&p, &t, Some(&r), hb - 1, &same), None);
        assert_eq!(
            should_attest(&p, &t, Some(&r), hb, &same),
            Some(Trigger::Heartbeat)
        );
        assert!(
            3 * heartbeat_slots(&p) <= p.liveness_slots,
            "two heartbeats may be lost"
        );
        // at the default policy and 400 ms slots: at most 60 attestations an hour
        let per_hour = 3_600_000 / (heartbeat_slots(&p) * 400);
        assert!(per_hour <= 60, "{per_hour}");
    }

    #[test]
    fn first_policy_and_endpoint_changes_trigger() {
        let (p, mut t) = (policy(), topology(1));
        assert_eq!(should_attest(&p, &t, None, NOW, &[]), Some(Trigger::First));
        assert_eq!(
            should_attest(&p, &t, Some(&KeeperReport::default()), NOW, &[]),
            Some(Trigger::First),
            "an empty row (just added) is no attestation"
        );
        let r = row(&t, NOW, &[healthy(0, 5)]);
        t.epoch += 1;
        t.policy_epoch = t.epoch;
        assert_eq!(
            should_attest(&p, &t, Some(&r), NOW + 1, &[healthy(0, 6)]),
            Some(Trigger::PolicyChanged)
        );
        let (p, mut t) = (policy(), topology(1));
        let r = row(&t, NOW, &[healthy(0, 5)]);
        t.epoch += 1;
        t.endpoints[0].config_epoch = t.epoch; // new URL
        assert_eq!(
            should_attest(&p, &t, Some(&r), NOW + 1, &[healthy(0, 1)]),
            Some(Trigger::EndpointsChanged { endpoint_id: 0 })
        );
    }

    #[test]
    fn a_primarys_down_vote_triggers_at_once_a_verdict_alone_waits() {
        let (p, t) = (policy(), topology(2));
        assert_eq!(p.breach_windows, 2);
        let r = row(&t, NOW, &[healthy(0, 5), healthy(1, 5)]);
        // the first bad window changes the verdict, no vote: nothing waits on it
        let first_bad = [down(0, 1), healthy(1, 6)];
        assert_eq!(should_attest(&p, &t, Some(&r), NOW + 1, &first_bad), None);
        // the second is the down vote on the primary: a failover waits on it
        let second_bad = [down(0, 2), healthy(1, 7)];
        assert_eq!(
            should_attest(&p, &t, Some(&r), NOW + 2, &second_bad),
            Some(Trigger::VoteChanged { endpoint_id: 0 })
        );
        // further bad windows are quiet...
        let r = row(&t, NOW + 2, &second_bad);
        assert_eq!(
            should_attest(&p, &t, Some(&r), NOW + 3, &[down(0, 3), healthy(1, 8)]),
            None
        );
        // ...until the evidence is half-way to stale, while the breach lasts
        let at = NOW + 2 + breach_refresh_slots(&p);
        assert_eq!(
            should_attest(&p, &t, Some(&r), at, &[down(0, 9), healthy(1, 9)]),
            Some(Trigger::BreachRefresh)
        );
        // and withdrawing it is attested at once too (a recovered primary stays)
        assert_eq!(
            should_attest(&p, &t, Some(&r), NOW + 4, &[healthy(0, 2), healthy(1, 9)]),
            Some(Trigger::VoteChanged { endpoint_id: 0 })
        );
    }

    #[test]
    fn a_change_nothing_waits_for_is_attested_once_its_cell_has_stood_the_debounce() {
        let (p, t) = (policy(), topology(2));
        let r = row(&t, NOW, &[healthy(0, 5), healthy(1, 5)]);
        // the standby turns degraded and loses its healthy vote: a decision must not
        // promote it on the old vote
        let degraded = ObservationInput {
            latency_ms: p.latency_degraded_ms,
            ..healthy(1, 0)
        };
        assert_eq!(
            should_attest(&p, &t, Some(&r), NOW + 1, &[healthy(0, 6), degraded]),
            Some(Trigger::VoteChanged { endpoint_id: 1 })
        );
        // it recovers: a healthy vote gained while the primary serves waits...
        let r = row(&t, NOW + 1, &[healthy(0, 6), degraded]);
        let back = [healthy(0, 7), healthy(1, 2)];
        assert_eq!(should_attest(&p, &t, Some(&r), NOW + 2, &back), None);
        // ...until the cell stood the debounce on chain
        let at = NOW + 1 + debounce_slots(&p);
        assert_eq!(
            should_attest(&p, &t, Some(&r), at, &back),
            Some(Trigger::VerdictChanged { endpoint_id: 1 })
        );
        assert!(debounce_slots(&p) < heartbeat_slots(&p));
    }

    #[test]
    fn a_standby_voted_healthy_is_urgent_when_its_group_needs_one() {
        let (p, t) = (policy(), topology(2));
        let r = row(&t, NOW, &[down(0, 5), down(1, 5)]);
        // the primary is voted down by this keeper: the standby's recovery is awaited
        assert_eq!(
            should_attest(&p, &t, Some(&r), NOW + 1, &[down(0, 6), healthy(1, 2)]),
            Some(Trigger::VoteChanged { endpoint_id: 1 })
        );
        // a group without a primary awaits it too
        let mut vacant = topology(2);
        vacant.endpoints[0].role = Role::Quarantined as u8;
        let r = row(&vacant, NOW, &[down(0, 5), down(1, 5)]);
        assert_eq!(
            should_attest(&p, &vacant, Some(&r), NOW + 1, &[down(0, 6), healthy(1, 2)]),
            Some(Trigger::VoteChanged { endpoint_id: 1 })
        );
        // a quarantined endpoint's healthy vote gained waits; lost, it is attested at once
        assert_eq!(
            should_attest(&p, &vacant, Some(&r), NOW + 1, &[healthy(0, 2), down(1, 6)]),
            None
        );
        let r = row(&vacant, NOW, &[healthy(0, 5), down(1, 5)]);
        assert_eq!(
            should_attest(&p, &vacant, Some(&r), NOW + 1, &[down(0, 1), down(1, 6)]),
            Some(Trigger::VoteChanged { endpoint_id: 0 })
        );
    }

    #[test]
    fn a_down_vote_on_a_standby_is_not_refreshed() {
        let (p, t) = (policy(), topology(2));
        let obs = [healthy(0, 5), down(1, 5)];
        let r = row(&t, NOW, &obs);
        let at = NOW + breach_refresh_slots(&p);
        assert_eq!(should_attest(&p, &t, Some(&r), at, &obs), None);
    }

    #[test]
    fn a_down_vote_on_an_endpoint_out_of_rotation_is_not_refreshed() {
        let (p, mut t) = (policy(), topology(2));
        t.endpoints[1].role = Role::Quarantined as u8;
        let obs = [healthy(0, 5), down(1, 5)];
        let r = row(&t, NOW, &obs);
        let at = NOW + breach_refresh_slots(&p);
        assert_eq!(should_attest(&p, &t, Some(&r), at, &obs), None);
    }

    /// An endpoint whose latency alternates across a threshold at every probe (the
    /// standby or the primary; 30 ms / 600 ms across `latency_degraded_ms`, 30 / 1,100 across
    /// `latency_down_ms`), probed every second for an hour at 400 ms slots: what the keeper
    /// sends stays near its heartbeat.
    #[test]
    fn latency_flapping_across_a_threshold_costs_little_more_than_the_heartbeat() {
        use crate::window::{Freshness, Outcome, Probe, Tracker};
        let p = policy();
        for (target, slow) in [(1u32, 600u32), (1, 1_100), (0, 600), (0, 1_100)] {
            let t = topology(2);
            let mut tracker = Tracker::default();
            let mut r: Option<KeeperReport> = None;
            let mut sent = 0;
            for second in 0..3_600u64 {
                let slot = NOW + second * 5 / 2; // 2.5 slots a second
                let obs: Vec<ObservationInput> = (0..2u32)
                    .map(|id| {
                        let latency_ms = if id == target && second % 2 == 1 {
                            slow
                        } else {
                            30
                        };
                        let probe = Probe {
                            endpoint_id: id,
                            outcome: Outcome::Ok(Freshness::Slot(slot)),
                            latency_ms,
                            divergent: false,
                        };
                        tracker.observe(&p, &probe, Some(slot))
                    })
                    .collect();
                if should_attest(&p, &t, r.as_ref(), slot, &obs).is_some() {
                    sent += 1;
                    let mut next = r.unwrap_or_default();
                    let att = Attestation {
                        seq: next.seq + 1,
                        topology_epoch: t.epoch,
                        reference_slot: slot,
                        observations: &obs,
                    };
                    record(&p, &t, &mut next, Pubkey::default(), &att, slot);
                    r = Some(next);
                }
            }
            eprintln!("endpoint {target} flapping to {slow} ms: {sent} attestations in an hour");
            assert!(
                sent <= 120,
                "endpoint {target} at {slow} ms: {sent} attestations in an hour"
            );
        }
    }

    #[test]
    fn only_an_attestation_that_may_migrate_asks_for_the_large_budget() {
        use lifeline_client::budget::{
            ATTESTATION as ATTESTATION_COMPUTE_UNITS,
            QUIET_ATTESTATION as QUIET_ATTESTATION_COMPUTE_UNITS,
        };
        let p = policy();
        let t = topology(2);
        let down = |id| ObservationInput {
            endpoint_id: id,
            flags: OBS_UNREACHABLE,
            consecutive_bad: p.breach_windows,
            ..ObservationInput::default()
        };
        let quiet = [healthy(0, 9), healthy(1, 9)];
        assert_eq!(
            compute_units(&p, &t, &quiet),
            QUIET_ATTESTATION_COMPUTE_UNITS
        );
        // a standby voted down cannot move anything
        assert_eq!(
            compute_units(&p, &t, &[healthy(0, 9), down(1)]),
            QUIET_ATTESTATION_COMPUTE_UNITS
        );
        assert_eq!(
            compute_units(&p, &t, &[down(0), healthy(1, 9)]),
            ATTESTATION_COMPUTE_UNITS
        );
        // a group without a primary may be filled by this very vote
        let mut vacant = topology(2);
        vacant.endpoints[0].role = Role::Quarantined as u8;
        assert_eq!(
            compute_units(&p, &vacant, &quiet),
            ATTESTATION_COMPUTE_UNITS
        );
    }
}
