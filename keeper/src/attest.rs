//! When to attest: when what the chain would record differs from this keeper's row of the
//! ballot, when the row would stop counting, to keep evidence of an ongoing breach fresh,
//! and otherwise only as a heartbeat every third of the liveness window — never on every
//! probe. One attestation carries every endpoint (one transaction).
use lifeline::engine::ballot::judge;
use lifeline::state::{KeeperReport, ObservationInput, Policy, Topology, VOTE_DOWN, VOTE_HEALTHY};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// This keeper has no attestation on chain yet.
    First,
    /// The policy changed after the epoch the row was read at: the row no longer counts.
    PolicyChanged,
    /// An endpoint was added or its URL changed since the row was written.
    EndpointsChanged { endpoint_id: u32 },
    /// Some endpoint's verdict differs from the row.
    VerdictChanged { endpoint_id: u32 },
    /// Some endpoint's vote (down / healthy) differs from the row.
    VoteChanged { endpoint_id: u32 },
    /// The row votes a serving endpoint down and its evidence is half-way to stale: keep it
    /// fresh while the breach lasts, so a migration blocked now (cooldown, no healthy
    /// standby) can still happen the moment it is allowed.
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
    let mut breach = false;
    for (j, e) in topology.endpoints().iter().enumerate() {
        let Some(o) = next.iter().find(|o| o.endpoint_id == e.id) else {
            continue;
        };
        if e.config_epoch > row.topology_epoch {
            return Some(Trigger::EndpointsChanged { endpoint_id: e.id });
        }
        let cell = &row.votes[j];
        let judged = judge(policy, o);
        if cell.verdict() != judged.verdict {
            return Some(Trigger::VerdictChanged { endpoint_id: e.id });
        }
        if cell.flags & (VOTE_DOWN | VOTE_HEALTHY) != judged.votes() {
            return Some(Trigger::VoteChanged { endpoint_id: e.id });
        }
        breach |= cell.votes_down() && e.in_rotation();
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
    fn a_verdict_change_triggers_at_once_and_the_vote_when_the_streak_is_long_enough() {
        let (p, t) = (policy(), topology(2));
        assert_eq!(p.breach_windows, 2);
        let r = row(&t, NOW, &[healthy(0, 5), healthy(1, 5)]);
        let first_bad = [down(0, 1), healthy(1, 6)];
        assert_eq!(
            should_attest(&p, &t, Some(&r), NOW + 1, &first_bad),
            Some(Trigger::VerdictChanged { endpoint_id: 0 })
        );
        let r = row(&t, NOW + 1, &first_bad);
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

    #[test]
    fn recovery_votes_once_the_good_streak_reaches_the_threshold() {
        let (p, t) = (policy(), topology(1));
        let r = row(&t, NOW, &[healthy(0, 1)]);
        assert_eq!(
            should_attest(&p, &t, Some(&r), NOW + 1, &[healthy(0, 2)]),
            Some(Trigger::VoteChanged { endpoint_id: 0 })
        );
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
