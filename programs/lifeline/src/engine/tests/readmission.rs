//! Quarantine, probation and readmission, including recovery from correlated outages.
use super::*;
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
