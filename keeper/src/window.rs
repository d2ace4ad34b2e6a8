//! From probes to the figures a keeper attests. Each probe closes a window for the
//! hysteresis counters (the program votes after `breach_windows` consecutive bad windows);
//! the error rate is measured over the last `error_window` probes, so a policy threshold
//! of 10 % can see one failure in ten. A slot that stays put while the reference moves is
//! counted as a stall (`stalled_slots`), which the program turns into a verdict.
//!
//! The verdict that drives the counters is the program's own `engine::verdict::classify`
//! over the same figures, so the keeper predicts exactly what the chain will record.
//!
//! (Over 400 lines because of its tests: the tracker itself is about 200.)
use std::collections::{BTreeMap, VecDeque};

use lifeline::constants::BPS_MAX;
use lifeline::engine::ballot::figures;
use lifeline::engine::verdict::classify;
use lifeline::state::{
    ObservationInput, Policy, Verdict, OBS_DIVERGENT, OBS_FUTURE, OBS_UNREACHABLE,
};

/// How one probe went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The endpoint answered correctly, with this much to say about how current it is.
    Ok(Freshness),
    /// It answered, but with an error (HTTP 5xx/429, a JSON-RPC error, a bad body).
    Failed,
    /// No answer within the timeout: judged by latency (the probe took at least that long).
    TimedOut,
    /// It could not be reached at all (connection refused or reset, DNS failure).
    Unreachable,
    /// It answered with a slot or a time beyond what the keeper trusts (its own RPCs'
    /// reference, its own clock) plus a tolerance: a failed answer, never a new floor.
    Future,
}

/// How current an endpoint that answered is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// Nothing to judge (an HTTP gateway): reachability, errors and latency decide.
    Untimed,
    /// The slot it serves, judged against the keeper's reference (RPC, PubSub, gRPC).
    Slot(u64),
    /// How old its data is, in slots (an oracle's timestamp age at 400 ms a slot): judged
    /// by the lag thresholds directly, with no reference and no stall rule.
    AgeSlots(u64),
}

/// One probe of one endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub endpoint_id: u32,
    pub outcome: Outcome,
    pub latency_ms: u32,
    /// The endpoint serves another fork than the others at the same slot (issue of state
    /// verification: set by the daemon after comparing block hashes).
    pub divergent: bool,
}

impl Probe {
    pub fn failed(&self) -> bool {
        !matches!(self.outcome, Outcome::Ok(_) | Outcome::TimedOut)
    }
    pub fn slot(&self) -> Option<u64> {
        match self.outcome {
            Outcome::Ok(Freshness::Slot(slot)) => Some(slot),
            _ => None,
        }
    }
}

/// The number of recent probes the error rate is measured over: enough that one failure
/// crosses the policy's degraded threshold (10 % → 10 probes), at least 2, at most 100.
pub fn error_window(policy: &Policy) -> usize {
    let bps = policy.error_degraded_bps.max(1) as usize;
    (BPS_MAX as usize).div_ceil(bps).clamp(2, 100)
}

/// How far ahead of the keeper's reference an endpoint's slot may be before it is an
/// answer from the future: the reference is polled (every confirm interval) and the
/// endpoint's processed slot can be a few slots ahead of the last poll.
pub const FUTURE_TOLERANCE_SLOTS: u64 = 8;

/// Whether an answer for `slot` is from the future: further ahead than
/// `FUTURE_TOLERANCE_SLOTS` of both the keeper's trusted reference and the highest slot
/// any *other* endpoint reported lately. A lone endpoint cannot lie its way past that;
/// endpoints that agree with each other are not called liars because the keeper's own
/// RPC lags (their lag is still measured from the trusted reference alone).
pub fn from_the_future(slot: u64, reference: Option<u64>, others: Option<u64>) -> bool {
    match reference.max(others) {
        Some(ceiling) => slot > ceiling.saturating_add(FUTURE_TOLERANCE_SLOTS),
        None => false,
    }
}

/// The slot length stalls are measured in when the keeper has not measured its cluster's
/// (mainnet's target): a stall is time passing while the slot stands still, not the size
/// of the reference's jumps.
pub const SLOT_MS: u64 = 400;

/// When a probe is folded in: the time (ms on any clock that only moves forward) and the
/// cluster's slot length as the keeper measures it (its reference's pace).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub at_ms: u64,
    pub slot_ms: u64,
}

/// One endpoint's state across probes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointState {
    /// Recent probes, newest last: true = failed.
    recent: VecDeque<bool>,
    /// The last slot the endpoint served, the reference slot when it was first seen, and
    /// when (ms on the tracker's clock).
    last_slot: Option<(u64, u64, u64)>,
    pub verdict: Option<Verdict>,
    pub consecutive_bad: u8,
    pub consecutive_good: u8,
    /// The last observation made (what an attestation would carry now).
    pub last: Option<ObservationInput>,
    /// How the last probe went.
    pub last_outcome: Option<Outcome>,
}

/// Tracks every endpoint's state and turns probes into observations.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    endpoints: BTreeMap<u32, EndpointState>,
}

impl Tracker {
    pub fn state(&self, endpoint_id: u32) -> Option<&EndpointState> {
        self.endpoints.get(&endpoint_id)
    }

    /// Resumes an endpoint's streak from what the chain holds (a restarted keeper), so a
    /// restart neither withdraws votes nor costs an attestation. Ignored once the
    /// endpoint has state of its own.
    pub fn seed(&mut self, endpoint_id: u32, verdict: Verdict, streak: u8) {
        self.endpoints.entry(endpoint_id).or_insert_with(|| {
            let (bad, good) = match verdict {
                Verdict::Down => (streak, 0),
                Verdict::Healthy => (0, streak),
                _ => (0, 0),
            };
            EndpointState {
                verdict: Some(verdict),
                consecutive_bad: bad,
                consecutive_good: good,
                ..EndpointState::default()
            }
        });
    }

    /// Forgets endpoints that left the topology (or whose URL changed: they are new).
    pub fn retain(&mut self, keep: impl Fn(u32) -> bool) {
        self.endpoints.retain(|id, _| keep(*id));
    }

    /// The latest observation of each endpoint in `ids`, once every one of them has been
    /// probed (None before: a restarted keeper's first attestation would otherwise leave
    /// out — and so withdraw its votes on — the endpoints it has not probed yet).
    ///
    /// When every one of them (two or more) last timed out or could not be reached, the
    /// keeper is the likely cause (a blackhole partition drops packets rather than refusing
    /// them): the time-outs are attested as unreachable, so the program discounts this
    /// keeper's down votes as it does a keeper whose probes are refused.
    pub fn observations(&self, ids: &[u32]) -> Option<Vec<ObservationInput>> {
        let states: Vec<&EndpointState> = ids
            .iter()
            .map(|id| self.endpoints.get(id).filter(|s| s.last.is_some()))
            .collect::<Option<_>>()?;
        let blackholed = states.len() >= 2
            && states.iter().all(|s| {
                matches!(
                    s.last_outcome,
                    Some(Outcome::TimedOut | Outcome::Unreachable)
                )
            });
        Some(
            states
                .iter()
                .filter_map(|s| s.last)
                .map(|mut o| {
                    if blackholed {
                        o.flags |= OBS_UNREACHABLE;
                    }
                    o
                })
                .collect(),
        )
    }

    /// Folds one probe into its endpoint's state. `reference` is the cluster slot from the
    /// keeper's trusted RPCs (None: nothing to measure lag against). Returns the new
    /// observation.
    pub fn observe(
        &mut self,
        policy: &Policy,
        probe: &Probe,
        reference: Option<u64>,
    ) -> ObservationInput {
        self.observe_with_window(policy, probe, reference, error_window(policy))
    }

    /// `observe` with an explicit error window (the keeper's `window_probes` setting), at
    /// time `at_ms` (ms on any clock that only moves forward; the stall rule measures
    /// time with it). `observe` uses the reference's slots as its clock.
    pub fn observe_with_window(
        &mut self,
        policy: &Policy,
        probe: &Probe,
        reference: Option<u64>,
        window: usize,
    ) -> ObservationInput {
        let clock = Clock {
            at_ms: reference.unwrap_or(0).saturating_mul(SLOT_MS),
            slot_ms: SLOT_MS,
        };
        self.observe_at(policy, probe, reference, window, clock)
    }

    /// Folds one probe into its endpoint's state at `clock` (a probe `from_the_future`
    /// judged as such arrives as `Outcome::Future`).
    pub fn observe_at(
        &mut self,
        policy: &Policy,
        probe: &Probe,
        reference: Option<u64>,
        window: usize,
        clock: Clock,
    ) -> ObservationInput {
        let Clock { at_ms, slot_ms } = clock;
        let window = window.max(1);
        let s = self.endpoints.entry(probe.endpoint_id).or_default();
        s.recent.push_back(probe.failed());
        while s.recent.len() > window {
            s.recent.pop_front();
        }
        let failures = s.recent.iter().filter(|f| **f).count();
        let error_bps = (failures * BPS_MAX as usize / s.recent.len()) as u16;

        let (slot_lag, stalled_slots) = match (probe.outcome, reference) {
            (Outcome::Ok(Freshness::AgeSlots(age)), _) => (age, 0),
            (Outcome::Ok(Freshness::Slot(slot)), Some(reference)) => {
                // Stalled: the reference moved while the slot stood still — and that much
                // time passed (a reference that jumps ahead at once is no stall).
                let stalled = match s.last_slot {
                    Some((last, seen_at, since_ms)) if last == slot => reference
                        .saturating_sub(seen_at)
                        .min(at_ms.saturating_sub(since_ms) / slot_ms.max(1)),
                    _ => {
                        s.last_slot = Some((slot, reference, at_ms));
                        0
                    }
                };
                (reference.saturating_sub(slot), stalled)
            }
            // No slot to judge (a failed probe, or a kind without one): the verdict comes
            // from reachability, errors and latency; the stall state waits for the next
            // answer.
            _ => (0, 0),
        };
        let mut flags = 0;
        if probe.outcome == Outcome::Unreachable {
            flags |= OBS_UNREACHABLE;
        }
        if probe.divergent {
            flags |= OBS_DIVERGENT;
        }
        if probe.outcome == Outcome::Future {
            flags |= OBS_FUTURE;
        }
        let mut o = ObservationInput {
            endpoint_id: probe.endpoint_id,
            latency_ms: probe.latency_ms,
            slot_lag: slot_lag.min(u32::MAX as u64) as u32,
            stalled_slots: stalled_slots.min(u16::MAX as u64) as u16,
            error_bps,
            consecutive_bad: 0,
            consecutive_good: 0,
            flags,
        };
        let (verdict, _) = classify(policy, &figures(&o));
        match verdict {
            Verdict::Down => {
                s.consecutive_bad = s.consecutive_bad.saturating_add(1);
                s.consecutive_good = 0;
            }
            Verdict::Healthy => {
                s.consecutive_good = s.consecutive_good.saturating_add(1);
                s.consecutive_bad = 0;
            }
            // Neither a breach nor a recovery: both streaks restart.
            Verdict::Degraded | Verdict::Unknown => {
                s.consecutive_bad = 0;
                s.consecutive_good = 0;
            }
        }
        s.verdict = Some(verdict);
        o.consecutive_bad = s.consecutive_bad;
        o.consecutive_good = s.consecutive_good;
        s.last = Some(o);
        s.last_outcome = Some(probe.outcome);
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifeline::state::{PolicyParams, Reason};

    fn policy() -> Policy {
        PolicyParams::default().into()
    }

    fn ok(id: u32, slot: u64, ms: u32) -> Probe {
        Probe {
            endpoint_id: id,
            outcome: Outcome::Ok(Freshness::Slot(slot)),
            latency_ms: ms,
            divergent: false,
        }
    }

    fn with(id: u32, outcome: Outcome, ms: u32) -> Probe {
        Probe {
            endpoint_id: id,
            outcome,
            latency_ms: ms,
            divergent: false,
        }
    }

    fn verdict(p: &Policy, o: &ObservationInput) -> (Verdict, Reason) {
        classify(p, &figures(o))
    }

    #[test]
    fn the_error_window_resolves_the_degraded_threshold() {
        let mut p = policy();
        assert_eq!(
            error_window(&p),
            10,
            "10 % needs ten probes to see one failure"
        );
        p.error_degraded_bps = 2_500;
        assert_eq!(error_window(&p), 4);
        p.error_degraded_bps = 10_000;
        assert_eq!(error_window(&p), 2);
        p.error_degraded_bps = 1;
        assert_eq!(error_window(&p), 100);
    }

    #[test]
    fn error_rate_is_measured_over_the_recent_probes() {
        let p = policy();
        let mut t = Tracker::default();
        for i in 0..9 {
            t.observe(&p, &ok(1, 100 + i, 20), Some(100 + i));
        }
        let o = t.observe(&p, &with(1, Outcome::Failed, 20), Some(110));
        assert_eq!(o.error_bps, 1_000, "one failure in ten");
        assert_eq!(verdict(&p, &o), (Verdict::Degraded, Reason::ErrorRate));
        let mut last = o;
        for _ in 0..4 {
            last = t.observe(&p, &with(1, Outcome::Failed, 20), Some(110));
        }
        assert_eq!(last.error_bps, 5_000);
        assert_eq!(verdict(&p, &last).0, Verdict::Down);
        // ten good probes later the failures have left the window
        for i in 0..10 {
            last = t.observe(&p, &ok(1, 120 + i, 20), Some(120 + i));
        }
        assert_eq!(last.error_bps, 0);
    }

    #[test]
    fn a_slot_that_stands_still_while_the_reference_moves_is_a_stall() {
        let p = policy();
        let mut t = Tracker::default();
        let o = t.observe(&p, &ok(1, 1_000, 20), Some(1_000));
        assert_eq!((o.slot_lag, o.stalled_slots), (0, 0));
        // the node freezes at 1000; the cluster moves on
        let o = t.observe(&p, &ok(1, 1_000, 20), Some(1_001));
        assert_eq!((o.slot_lag, o.stalled_slots), (1, 1));
        assert_eq!(
            verdict(&p, &o).0,
            Verdict::Healthy,
            "one slot is not a stall"
        );
        let o = t.observe(&p, &ok(1, 1_000, 20), Some(1_003));
        assert_eq!((o.slot_lag, o.stalled_slots), (3, 3));
        assert_eq!(verdict(&p, &o), (Verdict::Down, Reason::Stalled));
        assert_eq!(o.consecutive_bad, 1);
        // it moves again: the stall is over
        let o = t.observe(&p, &ok(1, 1_004, 20), Some(1_004));
        assert_eq!((o.slot_lag, o.stalled_slots), (0, 0));
    }

    #[test]
    fn a_slot_from_the_future_is_a_failed_answer_never_a_floor() {
        let p = policy();
        // a few slots ahead of the reference is an honest node polled later
        assert!(!from_the_future(
            1_000 + FUTURE_TOLERANCE_SLOTS,
            Some(1_000),
            None
        ));
        for slot in [
            1_000 + FUTURE_TOLERANCE_SLOTS + 1,
            1_001_000,
            1 << 63,
            u64::MAX,
        ] {
            assert!(from_the_future(slot, Some(1_000), None), "{slot}");
            // nor does an honest other endpoint (at the reference) vouch for it
            assert!(from_the_future(slot, Some(1_000), Some(1_000)), "{slot}");
        }
        // the keeper's own RPC lagging 20 slots: endpoints that agree are not liars
        assert!(!from_the_future(1_020, Some(1_000), Some(1_021)));
        // without any reference there is nothing to call the future
        assert!(!from_the_future(u64::MAX, None, None));

        let mut t = Tracker::default();
        t.observe(&p, &ok(1, 1_000, 20), Some(1_000));
        let o = t.observe(&p, &with(1, Outcome::Future, 20), Some(1_000));
        assert_eq!(o.flags & OBS_FUTURE, OBS_FUTURE);
        assert_eq!(verdict(&p, &o), (Verdict::Down, Reason::Future));
        assert_eq!(o.slot_lag, 0);
        // honest again: judged by its real slot at once, the future left nothing behind
        let o = t.observe(&p, &ok(1, 1_001, 20), Some(1_001));
        assert_eq!(o.flags & OBS_FUTURE, 0);
        assert_eq!((o.slot_lag, o.stalled_slots), (0, 0));
    }

    #[test]
    fn nothing_is_attested_before_every_endpoint_was_probed_once() {
        let p = policy();
        let mut t = Tracker::default();
        // a restarted keeper: seeded from its row, nothing probed yet
        t.seed(1, Verdict::Down, 5);
        t.seed(2, Verdict::Healthy, 5);
        assert_eq!(t.observations(&[1, 2]), None);
        t.observe(&p, &ok(1, 100, 20), Some(100));
        assert_eq!(t.observations(&[1, 2]), None, "endpoint 2 not probed yet");
        t.observe(&p, &ok(2, 100, 20), Some(100));
        assert_eq!(t.observations(&[1, 2]).map(|o| o.len()), Some(2));
    }

    #[test]
    fn a_keeper_whose_every_probe_times_out_is_cut_off_like_one_refused() {
        let p = policy();
        let mut t = Tracker::default();
        t.observe(&p, &with(1, Outcome::TimedOut, 1_000), Some(100));
        t.observe(&p, &with(2, Outcome::TimedOut, 1_000), Some(100));
        let obs = t.observations(&[1, 2]).unwrap();
        assert!(
            obs.iter().all(|o| o.flags & OBS_UNREACHABLE != 0),
            "{obs:?}"
        );
        assert!(obs
            .iter()
            .all(|o| verdict(&p, o) == (Verdict::Down, Reason::Unreachable)));
        // one endpoint answering: the others are slow, not this keeper cut off
        t.observe(&p, &ok(2, 100, 20), Some(100));
        let obs = t.observations(&[1, 2]).unwrap();
        assert!(
            obs.iter().all(|o| o.flags & OBS_UNREACHABLE == 0),
            "{obs:?}"
        );
        // a single endpoint timing out is slow, whatever it is
        let mut one = Tracker::default();
        one.observe(&p, &with(1, Outcome::TimedOut, 1_000), Some(100));
        assert_eq!(
            one.observations(&[1]).unwrap()[0].flags & OBS_UNREACHABLE,
            0
        );
    }

    #[test]
    fn a_stall_is_time_passing_not_a_jump_of_the_reference() {
        let p = policy();
        let mut t = Tracker::default();
        let at = |at_ms| Clock {
            at_ms,
            slot_ms: SLOT_MS,
        };
        t.observe_at(&p, &ok(1, 500, 20), Some(500), 10, at(10_000));
        // the reference jumps 100 slots at once (its source caught up): 20 ms passed
        let o = t.observe_at(&p, &ok(1, 500, 20), Some(600), 10, at(10_020));
        assert_eq!(o.stalled_slots, 0);
        assert_ne!(verdict(&p, &o).1, Reason::Stalled);
        // a second later the slot still stands: 2 slots of time, a stall
        let o = t.observe_at(&p, &ok(1, 500, 20), Some(602), 10, at(10_800));
        assert_eq!(o.stalled_slots, 2);
        assert_eq!(verdict(&p, &o), (Verdict::Down, Reason::Stalled));
        // time passing while the reference stands still is no stall either
        let o = t.observe_at(&p, &ok(2, 700, 20), Some(700), 10, at(20_000));
        assert_eq!(o.stalled_slots, 0);
        let o = t.observe_at(&p, &ok(2, 700, 20), Some(700), 10, at(30_000));
        assert_eq!(o.stalled_slots, 0);
    }

    #[test]
    fn a_healthy_node_one_slot_behind_at_every_probe_is_never_stalled() {
        let p = policy();
        let mut t = Tracker::default();
        for r in 1_000..1_050 {
            let o = t.observe(&p, &ok(1, r - 1, 20), Some(r));
            assert_eq!(verdict(&p, &o).0, Verdict::Healthy, "at {r}");
        }
    }

    #[test]
    fn unreachable_timed_out_and_failed_probes_are_told_apart() {
        let p = policy();
        let mut t = Tracker::default();
        let o = t.observe(&p, &with(1, Outcome::Unreachable, 3), Some(10));
        assert_eq!(o.flags, OBS_UNREACHABLE);
        assert_eq!(verdict(&p, &o), (Verdict::Down, Reason::Unreachable));
        // a slow endpoint is judged by its latency, not as unreachable nor as an error
        let o = t.observe(&p, &with(2, Outcome::TimedOut, p.latency_down_ms), Some(10));
        assert_eq!((o.flags, o.error_bps), (0, 0));
        assert_eq!(verdict(&p, &o), (Verdict::Down, Reason::Latency));
        let o = t.observe(&p, &with(3, Outcome::Failed, 5), Some(10));
        assert_eq!((o.flags, o.error_bps), (0, BPS_MAX));
        assert_eq!(verdict(&p, &o), (Verdict::Down, Reason::ErrorRate));
    }

    #[test]
    fn streaks_count_consecutive_windows_reset_on_change_and_saturate() {
        let p = policy();
        let mut t = Tracker::default();
        for n in 1..=3u8 {
            let o = t.observe(&p, &with(7, Outcome::Unreachable, 1), Some(10));
            assert_eq!((o.consecutive_bad, o.consecutive_good), (n, 0));
        }
        // answering again: the error window still holds three failures in four, so the
        // node stays down by error rate, then degraded (neither streak) until they age out
        let o = t.observe(&p, &ok(7, 10, 20), Some(10));
        assert_eq!((o.consecutive_bad, o.error_bps), (4, 7_500));
        let mut o = o;
        for _ in 0..3 {
            o = t.observe(&p, &ok(7, 10, 20), Some(10));
        }
        assert_eq!(
            (o.consecutive_bad, o.consecutive_good, o.error_bps),
            (0, 0, 4_285)
        );
        for _ in 0..7 {
            o = t.observe(&p, &ok(7, 10, 20), Some(10));
        }
        assert_eq!(
            (o.consecutive_good, o.error_bps),
            (2, 0),
            "healthy since the last failure left"
        );
        for _ in 0..300 {
            t.observe(&p, &with(8, Outcome::Unreachable, 1), Some(10));
        }
        assert_eq!(t.state(8).unwrap().consecutive_bad, u8::MAX);
        t.retain(|id| id == 8);
        assert!(
            t.state(7).is_none(),
            "an endpoint that left the topology is forgotten"
        );
    }

    #[test]
    fn a_seeded_streak_continues_and_is_ignored_once_the_endpoint_has_state() {
        let p = policy();
        let mut t = Tracker::default();
        t.seed(1, Verdict::Healthy, 40);
        let o = t.observe(&p, &ok(1, 10, 20), Some(10));
        assert_eq!(o.consecutive_good, 41, "a restart keeps the healthy vote");
        t.seed(1, Verdict::Down, 9);
        assert_eq!(t.state(1).unwrap().consecutive_good, 41);
        t.seed(2, Verdict::Down, 5);
        let o = t.observe(&p, &ok(2, 10, 20), Some(10));
        assert_eq!(
            (o.consecutive_bad, o.consecutive_good),
            (0, 1),
            "the verdict changed"
        );
    }

    #[test]
    fn endpoints_without_a_slot_are_judged_by_reachability_errors_and_latency() {
        let p = policy();
        let mut t = Tracker::default();
        let o = t.observe(
            &p,
            &with(1, Outcome::Ok(Freshness::Untimed), 30),
            Some(5_000),
        );
        assert_eq!((o.slot_lag, o.stalled_slots), (0, 0));
        assert_eq!(verdict(&p, &o).0, Verdict::Healthy);
    }

    #[test]
    fn an_age_is_judged_by_the_lag_thresholds_without_a_reference_or_a_stall() {
        let p = policy();
        let mut t = Tracker::default();
        let fresh = Outcome::Ok(Freshness::AgeSlots(1));
        let o = t.observe(&p, &with(1, fresh, 30), None);
        assert_eq!((o.slot_lag, o.stalled_slots), (1, 0));
        assert_eq!(verdict(&p, &o).0, Verdict::Healthy);
        // the same age again while the reference moves is not a stall: oracles publish at
        // their own pace; only the age counts
        let o = t.observe(&p, &with(1, fresh, 30), Some(9_999));
        assert_eq!((o.slot_lag, o.stalled_slots), (1, 0));
        let old = Outcome::Ok(Freshness::AgeSlots(p.lag_down_slots as u64));
        let o = t.observe(&p, &with(1, old, 30), Some(9_999));
        assert_eq!(verdict(&p, &o), (Verdict::Down, Reason::SlotLag));
    }
}
