//! Quarantine, probation and readmission, including recovery from correlated outages.
use super::*;
use crate::engine::policy::effective_quorum;
use proptest::prelude::*;

/// A quarantined endpoint whose quarantine has elapsed, seen healthy by all keepers since
/// `NOW`.
fn on_probation() -> (World, u32) {
    let (mut w, p, _) = standard();
    w.set_role(p, Role::Quarantined);
    (w, p)
}

#[test]
fn readmission_needs_elapsed_quarantine_and_full_probation() {
    let (mut w, p, _) = standard();
    let probation = w.policy().probation_slots;
    let i = w.index(p);
    assert_eq!(w.readmit(p), Err(Refusal::NotQuarantined));
    assert_eq!(w.readmit(999), Err(Refusal::EndpointNotFound));
    w.topology.endpoints[i].role = Role::Quarantined as u8;
    w.topology.endpoints[i].quarantine_until_slot = NOW + probation;
    // healthy since NOW: one slot short of probation
    w.now = NOW + probation - 1;
    w.attest_all();
    assert_eq!(
        w.readmit(p),
        Err(Refusal::QuarantineActive {
            until_slot: NOW + probation
        })
    );
    w.topology.endpoints[i].quarantine_until_slot = NOW;
    assert_eq!(w.readmit(p), Err(Refusal::ProbationIncomplete));
    // a keeper attests on change: silence while alive means its verdict still holds
    w.now = NOW + probation;
    let plan = w.readmit(p).unwrap();
    assert_eq!(plan.evidence.probation, 4);
    assert_eq!(plan.evidence.probation_voters, 0b1111);
    w.network.paused = 1;
    assert_eq!(w.readmit(p), Err(Refusal::Paused));
}

#[test]
fn degraded_is_not_good_enough_for_probation() {
    let (mut w, p) = on_probation();
    let degraded = degraded_lag(&w.policy());
    w.all_see(0..4, p, degraded);
    w.now += w.policy().probation_slots;
    w.attest_all();
    assert_eq!(w.readmit(p), Err(Refusal::ProbationIncomplete));
}

#[test]
fn probation_restarts_after_a_silence_longer_than_liveness() {
    let (mut w, p) = on_probation();
    let liveness = w.policy().liveness_slots;
    let probation = w.policy().probation_slots;
    assert!(liveness > probation);
    // every keeper goes silent for longer than liveness, then attests healthy again:
    // nothing vouches for the gap, so probation starts over
    w.now += liveness + 1;
    w.attest_all();
    assert_eq!(w.readmit(p), Err(Refusal::ProbationIncomplete));
    w.now += probation;
    w.attest_all();
    assert!(w.readmit(p).is_ok());
}

#[test]
fn probation_restarts_when_the_url_changes() {
    let (mut w, p) = on_probation();
    w.now += w.policy().probation_slots;
    w.attest_all();
    assert!(w.readmit(p).is_ok());
    // the authority points the endpoint at another server
    let j = w.index(p);
    w.topology.epoch += 1;
    w.topology.endpoints[j].config_epoch = w.topology.epoch;
    w.ballot.clear_column(j);
    w.attest_all();
    assert_eq!(w.readmit(p), Err(Refusal::ProbationIncomplete));
}

#[test]
fn probation_needs_a_quorum_of_keepers_who_each_watched_the_whole_period() {
    // two keepers watched the whole probation, two joined late: with quorum 3 the
    // endpoint waits for one of the late ones to complete its own period
    let (mut w, p) = on_probation();
    let probation = w.policy().probation_slots;
    w.see(2, p, unreachable(), 10);
    w.see(3, p, unreachable(), 10);
    w.now += probation / 2;
    w.see(2, p, healthy(), 10);
    w.see(3, p, healthy(), 10);
    w.now = NOW + probation;
    w.attest_all();
    assert_eq!(w.tally(p).probation, 2);
    assert_eq!(w.readmit(p), Err(Refusal::ProbationIncomplete));
    w.now += probation / 2;
    w.attest_all();
    assert_eq!(w.readmit(p).unwrap().evidence.probation, 4);
}

/// The sequence that deadlocked recovery: P fails and the group moves to S1; P recovers
/// and serves its probation; then S1 and every other standby fail together. Keepers that
/// see every serving endpoint down still reach P, so P is readmitted and takes the role
/// back with no authority action.
fn correlated_outage(standbys: usize) -> Result<(), TestCaseError> {
    let mut w = World::new(4, PolicyParams::default());
    let p = w.endpoint(0, Role::Primary, "prov-a", "eu", 0);
    let mut s: Vec<u32> = Vec::new();
    for i in 0..standbys {
        s.push(w.endpoint(0, Role::Standby, &format!("prov-{i}"), "us", i as u8));
    }
    for &e in &s {
        w.all_see(0..4, e, healthy());
    }
    w.all_see(0..4, p, unreachable());
    let plan = w.migrate(0).expect("P fails over");
    prop_assert_eq!(plan.to_id, s[0]);
    w.apply(&plan);

    // P recovers and serves quarantine and probation
    w.all_see(0..4, p, healthy());
    let quarantine = plan.quarantine_until_slot - w.now;
    w.now += quarantine.max(w.policy().probation_slots);
    w.attest_all();
    // every standby (the new primary among them) fails at once
    for &e in &s {
        w.all_see(0..4, e, unreachable());
    }
    prop_assert_eq!(w.migrate(0), Err(Refusal::NoHealthyStandby));
    let readmit = w.readmit(p);
    prop_assert!(readmit.is_ok(), "{:?}", readmit);
    w.set_role(p, Role::Standby);
    let plan = w.migrate(0);
    prop_assert!(plan.is_ok(), "{:?}", plan);
    let plan = plan.unwrap();
    prop_assert_eq!((plan.from_id, plan.to_id), (Some(s[0]), p));
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn a_correlated_outage_of_every_serving_endpoint_recovers_without_the_authority(
        standbys in 1usize..=6,
    ) {
        correlated_outage(standbys)?;
    }
}

/// One keeper's history on a quarantined endpoint: (slots that pass before the next
/// attestation, whether it sees the endpoint healthy then).
fn history() -> impl Strategy<Value = Vec<(u64, bool)>> {
    proptest::collection::vec((0u64..200, proptest::bool::weighted(0.8)), 1..12)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Readmission happens exactly when a quorum of keepers have each attested the
    /// endpoint healthy, without a break longer than the liveness window and without any
    /// other verdict in between, for at least the probation period, up to a slot they are
    /// still alive at — whatever the order and spacing of their attestations.
    #[test]
    fn readmission_needs_a_quorum_of_unbroken_probations(
        keepers in 1usize..=7,
        histories in proptest::collection::vec(history(), 7),
        gap_scale in 1u64..=6,
    ) {
        let mut w = World::new(keepers, PolicyParams::default());
        let p = w.endpoint(0, Role::Primary, "prov-a", "eu", 0);
        w.set_role(p, Role::Quarantined);
        let policy = w.policy();
        let start = w.now;
        // Replay each keeper's history on its own clock, recording its streak by hand.
        let mut expected_since: Vec<Option<u64>> = vec![None; keepers];
        let mut last_landing: Vec<u64> = vec![0; keepers];
        let mut end = start;
        let mut events: Vec<(u64, usize, bool)> = Vec::new();
        for k in 0..keepers {
            let mut t = start;
            for &(gap, ok) in &histories[k] {
                t += gap * gap_scale;
                events.push((t, k, ok));
            }
            end = end.max(t);
        }
        events.sort();
        for (t, k, ok) in events {
            w.now = t;
            w.views[k].insert(p, (if ok { healthy() } else { unreachable() }, 10));
            w.attest(k);
            let continuing = last_landing[k] != 0 && t - last_landing[k] <= policy.liveness_slots;
            expected_since[k] = match (ok, expected_since[k]) {
                (true, Some(since)) if continuing => Some(since),
                (true, _) => Some(t),
                (false, _) => None,
            };
            last_landing[k] = t;
        }
        w.now = end;
        let watched = (0..keepers)
            .filter(|&k| {
                let alive = end - last_landing[k] <= policy.liveness_slots;
                alive && expected_since[k].is_some_and(|s| s + policy.probation_slots <= end)
            })
            .count();
        let quorum = effective_quorum(&policy, keepers);
        let decision = w.readmit(p);
        prop_assert_eq!(decision.is_ok(), watched >= quorum, "{} watched, quorum {}: {:?}", watched, quorum, decision);
        if let Ok(plan) = decision {
            prop_assert_eq!(plan.evidence.probation as usize, watched);
        }
    }
}
