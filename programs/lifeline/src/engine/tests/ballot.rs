//! Recording attestations into the ballot, which rows count, and tallies.
use super::*;

#[test]
fn record_computes_verdicts_from_figures_and_votes_from_streaks() {
    let (mut w, p, s) = standard();
    let need = w.policy().breach_windows;
    w.see(0, p, frozen(), need - 1);
    let j = w.index(p);
    let cell = w.ballot.reports[0].votes[j];
    assert_eq!(
        (cell.verdict(), cell.reason()),
        (Verdict::Down, Reason::Stalled)
    );
    assert!(
        !cell.votes_down(),
        "one window short of the breach threshold"
    );
    w.see(0, p, frozen(), need);
    assert!(w.ballot.reports[0].votes[j].votes_down());
    assert_eq!(w.ballot.reports[0].votes[j].slot_lag, 500);
    // a row is the keeper's whole view: the standby it still sees healthy votes healthy
    let k = w.index(s);
    assert!(w.ballot.reports[0].votes[k].votes_healthy());
    assert_eq!(w.ballot.reports[0].seq, 4, "each attestation is a new seq");
    assert_eq!(w.ballot.reports[0].submitted_slot, NOW);
}

#[test]
fn an_endpoint_left_out_of_an_attestation_has_no_vote() {
    let (mut w, p, s) = standard();
    w.views[0].remove(&s);
    w.attest(0);
    assert!(!w.ballot.reports[0].votes[w.index(s)].is_observed());
    assert!(w.ballot.reports[0].votes[w.index(p)].is_observed());
    assert_eq!(w.tally(s).observed, 3);
}

#[test]
fn lag_beyond_a_cell_saturates_instead_of_wrapping() {
    let (mut w, p, _) = standard();
    w.see(
        0,
        p,
        Figures {
            slot_lag: u32::MAX,
            ..healthy()
        },
        10,
    );
    assert_eq!(w.ballot.reports[0].votes[w.index(p)].slot_lag, u16::MAX);
    assert_eq!(
        w.ballot.reports[0].votes[w.index(p)].verdict(),
        Verdict::Down
    );
}

#[test]
fn a_verdict_held_is_counted_from_landing_slots_and_never_backdated() {
    let (mut w, p, _) = standard();
    let j = w.index(p);
    // the keeper puts its reference as far back as the program allows
    w.reference_age = w.policy().staleness_slots;
    w.now += 10;
    w.attest(0);
    assert_eq!(
        w.ballot.reports[0].verdict_since_slot(j),
        NOW,
        "since the first healthy landing"
    );
    // a new verdict starts at the landing slot, whatever reference slot it names
    w.see(0, p, unreachable(), 10);
    assert_eq!(w.ballot.reports[0].verdict_since_slot(j), NOW + 10);
    w.now += 100;
    w.attest(0);
    assert_eq!(w.ballot.reports[0].verdict_since_slot(j), NOW + 10, "held");
}

#[test]
fn a_healthy_streak_restarts_after_a_silence_longer_than_liveness() {
    let (mut w, p, _) = standard();
    let j = w.index(p);
    let liveness = w.policy().liveness_slots;
    w.now += liveness;
    w.attest(0);
    assert_eq!(
        w.ballot.reports[0].verdict_since_slot(j),
        NOW,
        "a gap of exactly liveness keeps it"
    );
    w.now += liveness + 1;
    w.attest(0);
    assert_eq!(
        w.ballot.reports[0].verdict_since_slot(j),
        w.now,
        "a longer silence restarts it"
    );
}

#[test]
fn a_healthy_streak_restarts_when_the_policy_changes() {
    let (mut w, p, _) = standard();
    let j = w.index(p);
    w.now += 100;
    w.topology.epoch += 1;
    w.topology.policy_epoch = w.topology.epoch;
    w.attest(0);
    assert_eq!(w.ballot.reports[0].verdict_since_slot(j), w.now);
}

#[test]
fn a_new_url_clears_the_votes_and_a_keeper_that_read_the_old_one_cannot_refill_them() {
    let (mut w, p, _) = standard();
    let j = w.index(p);
    // update_endpoint with a URL: the endpoint's identity moves to a new epoch and its
    // column is cleared (what the program does)
    w.topology.epoch += 1;
    w.topology.endpoints[j].config_epoch = w.topology.epoch;
    w.ballot.clear_column(j);
    assert_eq!(w.tally(p).observed, 0);
    // a keeper that probed the old URL (read the epoch before) attests: no vote
    let policy = w.policy();
    let obs = [input(&policy, p, &healthy(), 10)];
    let att = Attestation {
        seq: 99,
        topology_epoch: w.topology.epoch - 1,
        reference_slot: w.now,
        observations: &obs,
    };
    record(
        &policy,
        &w.topology,
        &mut w.ballot.reports[0],
        keeper_key(0),
        &att,
        w.now,
    );
    assert!(!w.ballot.reports[0].votes[j].is_observed());
    // one that read the new epoch does, and its streak starts now
    w.now += 50;
    w.attest(1);
    assert_eq!(w.tally(p).observed, 1);
    assert_eq!(w.ballot.reports[1].verdict_since_slot(j), w.now);
}

#[test]
fn rows_count_only_for_live_keepers_in_the_set_under_the_current_policy() {
    let (mut w, _, _) = standard();
    let liveness = w.policy().liveness_slots;
    w.topology.policy_epoch = EPOCH + 1;
    for r in w.ballot.reports.iter_mut() {
        r.topology_epoch = EPOCH + 1;
    }
    w.ballot.reports[0].submitted_slot = w.now - liveness - 1; // silent
    w.ballot.reports[1].keeper = Pubkey::new_from_array([200; 32]); // not its slot's keeper
    w.ballot.reports[2].topology_epoch = EPOCH; // read before the policy changed
    w.ballot.reports[3].submitted_slot = w.now - liveness; // oldest still alive
    let snap = w.snap();
    let counted: Vec<usize> = collect(&snap)
        .counted
        .iter()
        .map(|c| c.keeper_index)
        .collect();
    assert_eq!(counted, vec![3]);
    // an empty keeper slot never counts, whatever its row holds
    let (mut w, _, _) = standard();
    w.network.keepers[2] = KeeperEntry::default();
    let snap = w.snap();
    assert_eq!(collect(&snap).counted.len(), 3);
}

#[test]
fn down_votes_need_a_fresh_reference_healthy_votes_a_live_keeper() {
    let (mut w, p, s) = standard();
    w.all_see(0..4, p, frozen());
    let staleness = w.policy().staleness_slots;
    // time passes with no new attestation: keepers are alive but their evidence ages
    w.now += staleness;
    assert!(
        w.migrate(0).is_ok(),
        "evidence exactly staleness old still counts"
    );
    w.now += 1;
    let t = w.tally(p);
    assert_eq!(t.down, 0, "stale evidence of a breach never counts");
    assert_eq!(
        w.tally(s).healthy,
        4,
        "a live keeper's healthy vote still does"
    );
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

#[test]
fn a_removed_keepers_votes_stop_counting_and_do_not_follow_it_back() {
    let (mut w, p, _) = standard();
    // keepers 0..3 vote the primary down; keeper 2 is then removed (its slot emptied and
    // its row cleared, as remove_keeper does)
    w.all_see(0..3, p, frozen());
    assert!(w.migrate(0).is_ok());
    w.network.keepers[2] = KeeperEntry::default();
    w.network.keeper_count = 3;
    w.ballot.reports[2] = KeeperReport::default();
    // 2 of 3 left: quorum of 3 keepers is 3 → no migration on the remaining votes
    assert_eq!(w.tally(p).down, 2);
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
    // the same key added back (add_keeper gives it an empty row): nothing it attested
    // before counts
    w.network.keepers[2].keeper = keeper_key(2);
    w.network.keeper_count = 4;
    w.ballot.reports[2] = KeeperReport {
        keeper: keeper_key(2),
        ..KeeperReport::default()
    };
    assert_eq!(w.tally(p).down, 2);
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

#[test]
fn medians_ignore_a_lying_minority() {
    let (mut w, p, _) = standard();
    for (k, ms) in [(0, 40), (1, 60), (2, 50)] {
        w.see(
            k,
            p,
            Figures {
                latency_ms: ms,
                ..healthy()
            },
            10,
        );
    }
    w.see(
        3,
        p,
        Figures {
            latency_ms: 900_000,
            slot_lag: u32::MAX,
            ..healthy()
        },
        10,
    );
    let t = w.tally(p);
    assert_eq!(t.median_latency_ms, 50);
    assert_eq!(t.median_slot_lag, 0);
}

#[test]
fn a_keeper_that_reaches_nothing_is_cut_off_and_only_its_down_votes_are_discounted() {
    let (mut w, p, s) = standard();
    // keepers 0..3 reach nothing at all
    for k in 0..3 {
        w.see(k, p, unreachable(), 10);
        w.see(k, s, unreachable(), 10);
    }
    let snap = w.snap();
    let e = collect(&snap);
    assert_eq!(e.counted.iter().filter(|c| c.cut_off).count(), 3);
    assert_eq!(w.tally(p).down, 0);
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

#[test]
fn a_keeper_that_sees_every_serving_endpoint_down_but_reaches_another_is_not_cut_off() {
    // the correlated outage: primary and standby down, a quarantined endpoint reachable
    let (mut w, p, s) = standard();
    let q = w.endpoint(0, Role::Quarantined, "prov-c", "ap", 0);
    for k in 0..4 {
        w.see(k, p, unreachable(), 10);
        w.see(k, s, unreachable(), 10);
        w.see(k, q, healthy(), 10);
    }
    let snap = w.snap();
    assert!(collect(&snap).counted.iter().all(|c| !c.cut_off));
    assert_eq!(w.tally(p).down, 4);
    assert_eq!(w.tally(q).healthy, 4);
    // a frozen endpoint answers: a keeper that sees only frozen nodes is not cut off
    let (mut w, p, s) = standard();
    for k in 0..4 {
        w.see(k, p, frozen(), 10);
        w.see(k, s, frozen(), 10);
    }
    let snap = w.snap();
    assert!(collect(&snap).counted.iter().all(|c| !c.cut_off));
}

#[test]
fn the_reason_is_what_most_down_voters_saw() {
    let (mut w, p, _) = standard();
    w.see(0, p, unreachable(), 10);
    w.see(1, p, frozen(), 10);
    w.see(2, p, frozen(), 10);
    let plan = w.migrate(0).unwrap();
    assert_eq!(plan.rule, Reason::Stalled);
    assert_eq!(plan.evidence.down, 3);
    assert_eq!(plan.evidence.down_voters, 0b0111);
    assert_eq!(plan.voters, 0b0111);
}

#[test]
fn lower_median_sorts_without_std_sort() {
    let mut v = [5, 1, 4, 2, 3];
    assert_eq!(super::super::ballot::lower_median(&mut v), 3);
    assert_eq!(v, [1, 2, 3, 4, 5]);
    let mut even = [9, 1, 7, 3];
    assert_eq!(super::super::ballot::lower_median(&mut even), 3);
    assert_eq!(super::super::ballot::lower_median(&mut []), 0);
}

#[test]
fn record_counts_each_verdict_it_stores() {
    let (mut w, p, s) = standard();
    let d = w.endpoint(0, Role::Standby, "prov-c", "ap", 0);
    let policy = w.policy();
    w.views[0].insert(p, (frozen(), 10));
    w.views[0].insert(s, (healthy(), 10));
    w.views[0].insert(d, (degraded_lag(&policy), 10));
    let observations: Vec<ObservationInput> = w.views[0]
        .iter()
        .map(|(&id, &(f, windows))| input(&policy, id, &f, windows))
        .collect();
    let mut row = w.ballot.reports[0];
    let att = Attestation {
        seq: row.seq + 1,
        topology_epoch: w.topology.epoch,
        reference_slot: w.now,
        observations: &observations,
    };
    let counts = record(&policy, &w.topology, &mut row, keeper_key(0), &att, w.now);
    assert_eq!(
        (counts.healthy, counts.degraded, counts.down),
        (1, 1, 1),
        "what the attestation's event reports"
    );
}

#[test]
fn the_vote_of_a_judgement_is_its_vote_bits_only() {
    let policy = World::new(4, PolicyParams::default()).policy();
    let windows = policy.breach_windows.max(policy.recovery_windows);
    let down = super::super::ballot::judge(&policy, &input(&policy, 1, &unreachable(), windows));
    assert_eq!(down.flags & OBS_UNREACHABLE, OBS_UNREACHABLE);
    assert_eq!(
        down.votes(),
        VOTE_DOWN,
        "the observation flag is not a vote"
    );
    let healthy = super::super::ballot::judge(&policy, &input(&policy, 1, &healthy(), windows));
    assert_eq!(healthy.votes(), VOTE_HEALTHY);
    let early = super::super::ballot::judge(&policy, &input(&policy, 1, &unreachable(), 1));
    assert_eq!(
        (early.verdict, early.votes()),
        (Verdict::Down, 0),
        "down before the breach streak: no vote yet"
    );
}

#[test]
fn keepers_on_their_way_to_a_healthy_vote_keep_healthy_possible() {
    let t = Tally {
        observed: 4,
        healthy: 2,
        pending_healthy: 1,
        ..Tally::default()
    };
    // 2 healthy, 1 on its way, 1 judging it otherwise: 3 of 4 may still vote healthy
    assert!(t.may_become_healthy(4, 3));
    assert!(!t.may_become_healthy(4, 4));
    let without_pending = Tally {
        pending_healthy: 0,
        ..t
    };
    assert!(!without_pending.may_become_healthy(4, 3));
}

#[test]
fn a_tally_counts_keepers_on_their_way_and_gives_no_reason_without_down_votes() {
    let (mut w, _, s) = standard();
    let policy = w.policy();
    // keeper 0 has just seen s recover: healthy verdict, streak short of a vote
    w.see(0, s, healthy(), policy.recovery_windows - 1);
    let t = w.tally(s);
    assert_eq!((t.healthy, t.pending_healthy), (3, 1));
    assert_eq!(t.down, 0);
    assert_eq!(t.reason, Reason::None, "nobody votes it down: no reason");
}
