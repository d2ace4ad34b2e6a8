//! When to attest: on change, or as a heartbeat that keeps the report fresh — never on
//! every probe. One attestation carries every endpoint (one transaction).
use lifeline::engine::verdict::classify;
use lifeline::instructions::ObservationInput;
use lifeline::state::{Policy, Verdict, OBS_UNREACHABLE};

/// What the keeper last put on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submitted {
    pub topology_epoch: u64,
    pub reference_slot: u64,
    pub observations: Vec<ObservationInput>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Nothing on chain yet.
    First,
    /// The topology changed: old reports no longer count.
    EpochChanged,
    /// An endpoint appeared or disappeared.
    EndpointsChanged,
    /// Some endpoint's verdict changed.
    VerdictChanged { endpoint_id: u32 },
    /// Some endpoint's streak reached the policy's breach or recovery threshold: the report
    /// now votes (down or healthy) where it did not before.
    VoteReady { endpoint_id: u32 },
    /// Nothing changed, but the report is getting old.
    Heartbeat,
}

fn verdict(policy: &Policy, reference_slot: u64, o: &ObservationInput) -> Verdict {
    let lag = reference_slot
        .saturating_sub(o.endpoint_slot)
        .min(u32::MAX as u64) as u32;
    classify(
        policy,
        &lifeline::engine::verdict::Figures {
            latency_ms: o.latency_ms,
            slot_lag: lag,
            error_bps: o.error_bps,
            unreachable: o.flags & OBS_UNREACHABLE != 0,
        },
    )
    .0
}

/// Whether the report votes: down after `breach_windows`, healthy after `recovery_windows`.
fn votes(policy: &Policy, v: Verdict, o: &ObservationInput) -> bool {
    match v {
        Verdict::Down => o.consecutive_bad >= policy.breach_windows,
        Verdict::Healthy => o.consecutive_good >= policy.recovery_windows,
        _ => false,
    }
}

/// Heartbeat period: half the staleness window, so a report never goes stale between two
/// heartbeats even if one transaction is lost.
pub fn heartbeat_slots(policy: &Policy) -> u64 {
    (policy.staleness_slots / 2).max(1)
}

/// Decides whether to submit `next` (observed at `reference_slot` for `epoch`), given
/// what was last submitted. None = stay quiet.
pub fn should_attest(
    policy: &Policy,
    last: Option<&Submitted>,
    epoch: u64,
    reference_slot: u64,
    next: &[ObservationInput],
) -> Option<Trigger> {
    let Some(last) = last else {
        return Some(Trigger::First);
    };
    if last.topology_epoch != epoch {
        return Some(Trigger::EpochChanged);
    }
    let mut ids: Vec<u32> = next.iter().map(|o| o.endpoint_id).collect();
    let mut last_ids: Vec<u32> = last.observations.iter().map(|o| o.endpoint_id).collect();
    ids.sort_unstable();
    last_ids.sort_unstable();
    if ids != last_ids {
        return Some(Trigger::EndpointsChanged);
    }
    for o in next {
        let prev = last
            .observations
            .iter()
            .find(|p| p.endpoint_id == o.endpoint_id)
            .expect("same endpoint set");
        let (v_now, v_then) = (
            verdict(policy, reference_slot, o),
            verdict(policy, last.reference_slot, prev),
        );
        if v_now != v_then {
            return Some(Trigger::VerdictChanged {
                endpoint_id: o.endpoint_id,
            });
        }
        if votes(policy, v_now, o) && !votes(policy, v_then, prev) {
            return Some(Trigger::VoteReady {
                endpoint_id: o.endpoint_id,
            });
        }
    }
    if reference_slot.saturating_sub(last.reference_slot) >= heartbeat_slots(policy) {
        return Some(Trigger::Heartbeat);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifeline::state::PolicyParams;

    fn policy() -> Policy {
        PolicyParams::default().into()
    }

    fn obs(id: u32, lag: u64, bad: u8, good: u8, at: u64) -> ObservationInput {
        ObservationInput {
            endpoint_id: id,
            latency_ms: 30,
            endpoint_slot: at - lag,
            error_bps: 0,
            consecutive_bad: bad,
            consecutive_good: good,
            flags: 0,
        }
    }

    fn submitted(at: u64, observations: Vec<ObservationInput>) -> Submitted {
        Submitted {
            topology_epoch: 3,
            reference_slot: at,
            observations,
        }
    }

    #[test]
    fn quiet_while_nothing_changes_then_a_heartbeat() {
        let p = policy();
        let last = submitted(1_000, vec![obs(1, 0, 0, 5, 1_000), obs(2, 0, 0, 5, 1_000)]);
        let same = |at| vec![obs(1, 0, 0, 6, at), obs(2, 1, 0, 6, at)];
        assert_eq!(should_attest(&p, Some(&last), 3, 1_010, &same(1_010)), None);
        let hb = 1_000 + heartbeat_slots(&p);
        assert_eq!(
            should_attest(&p, Some(&last), 3, hb - 1, &same(hb - 1)),
            None
        );
        assert_eq!(
            should_attest(&p, Some(&last), 3, hb, &same(hb)),
            Some(Trigger::Heartbeat)
        );
        assert!(
            heartbeat_slots(&p) < p.staleness_slots,
            "a heartbeat lands before the report goes stale"
        );
    }

    #[test]
    fn first_epoch_and_endpoint_changes_trigger() {
        let p = policy();
        let last = submitted(1_000, vec![obs(1, 0, 0, 5, 1_000)]);
        assert_eq!(should_attest(&p, None, 3, 1_000, &[]), Some(Trigger::First));
        assert_eq!(
            should_attest(&p, Some(&last), 4, 1_001, &[obs(1, 0, 0, 6, 1_001)]),
            Some(Trigger::EpochChanged)
        );
        let more = [obs(1, 0, 0, 6, 1_001), obs(2, 0, 0, 1, 1_001)];
        assert_eq!(
            should_attest(&p, Some(&last), 3, 1_001, &more),
            Some(Trigger::EndpointsChanged)
        );
    }

    #[test]
    fn a_verdict_change_triggers_at_once_and_the_vote_when_the_streak_is_long_enough() {
        let p = policy();
        assert_eq!(p.breach_windows, 2);
        let last = submitted(1_000, vec![obs(1, 0, 0, 5, 1_000)]);
        // the endpoint freezes: first bad window changes the verdict
        let first_bad = [obs(1, 200, 1, 0, 1_001)];
        assert_eq!(
            should_attest(&p, Some(&last), 3, 1_001, &first_bad),
            Some(Trigger::VerdictChanged { endpoint_id: 1 })
        );
        // after submitting that, the second bad window makes the report vote "down"
        let last = submitted(1_001, first_bad.to_vec());
        let second_bad = [obs(1, 201, 2, 0, 1_002)];
        assert_eq!(
            should_attest(&p, Some(&last), 3, 1_002, &second_bad),
            Some(Trigger::VoteReady { endpoint_id: 1 })
        );
        // and further bad windows are quiet until the heartbeat
        let last = submitted(1_002, second_bad.to_vec());
        assert_eq!(
            should_attest(&p, Some(&last), 3, 1_003, &[obs(1, 202, 3, 0, 1_003)]),
            None
        );
    }

    #[test]
    fn recovery_votes_once_the_good_streak_reaches_the_threshold() {
        let p = policy();
        let last = submitted(1_000, vec![obs(1, 0, 0, 1, 1_000)]);
        assert_eq!(
            should_attest(&p, Some(&last), 3, 1_001, &[obs(1, 0, 0, 2, 1_001)]),
            Some(Trigger::VoteReady { endpoint_id: 1 })
        );
    }
}
