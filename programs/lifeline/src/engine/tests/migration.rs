//! When a group fails over, and to which standby.
use super::*;
use crate::constants::MAX_GROUPS;

#[test]
fn hysteresis_needs_enough_consecutive_windows() {
    let (mut w, p, _) = standard();
    let need = w.policy().breach_windows;
    for k in 0..4 {
        w.see(k, p, frozen(), need - 1);
    }
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
    for k in 0..3 {
        w.see(k, p, frozen(), need);
    }
    assert!(w.migrate(0).is_ok());
}

#[test]
fn a_standby_needs_recovery_windows_before_it_counts_as_healthy() {
    let (mut w, p, s) = standard();
    w.all_see(0..4, p, frozen());
    let need = w.policy().recovery_windows;
    for k in 0..4 {
        w.see(k, s, healthy(), need - 1);
    }
    assert_eq!(w.migrate(0), Err(Refusal::NoHealthyStandby));
}

#[test]
fn quorum_of_breach_reports_migrates_to_the_healthy_standby() {
    let (mut w, p, s) = standard();
    w.all_see(0..3, p, frozen());
    let plan = w.migrate(0).unwrap();
    assert_eq!((plan.from_id, plan.to_id, plan.group), (Some(p), s, 0));
    assert_eq!(
        plan.quarantine_until_slot,
        NOW + w.policy().quarantine_base_slots
    );
    assert_eq!(plan.evidence.median_slot_lag, 500);
    let record = plan.record();
    assert_eq!((record.from(), record.voter_count), (Some(p), 3));
}

#[test]
fn one_vote_short_of_quorum_does_not_migrate() {
    let (mut w, p, _) = standard();
    w.all_see(0..2, p, frozen());
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

#[test]
fn a_degraded_primary_is_not_migrated() {
    let (mut w, p, _) = standard();
    let degraded = degraded_lag(&w.policy());
    w.all_see(0..4, p, degraded);
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

#[test]
fn paused_networks_do_not_migrate() {
    let (mut w, p, _) = standard();
    w.all_see(0..4, p, frozen());
    w.network.paused = 1;
    assert_eq!(w.migrate(0), Err(Refusal::Paused));
}

#[test]
fn cooldown_blocks_a_second_migration_until_it_elapses() {
    let (mut w, p, _) = standard();
    w.all_see(0..4, p, frozen());
    let cooldown = w.policy().cooldown_slots;
    w.topology.last_migration_slot[0] = NOW - cooldown + 1;
    assert_eq!(
        w.migrate(0),
        Err(Refusal::Cooldown {
            until_slot: NOW + 1
        })
    );
    w.topology.last_migration_slot[0] = NOW - cooldown;
    assert!(w.migrate(0).is_ok());
    // another group's migration does not cool this one down
    w.topology.last_migration_slot[0] = 0;
    w.topology.last_migration_slot[1] = NOW;
    assert!(w.migrate(0).is_ok());
}

#[test]
fn without_a_healthy_standby_the_primary_stays() {
    let (mut w, p, s) = standard();
    w.all_see(0..4, p, frozen());
    // only two of four keepers see the standby healthy; two see it degraded
    let degraded = degraded_lag(&w.policy());
    w.all_see(2..4, s, degraded);
    assert_eq!(w.migrate(0), Err(Refusal::NoHealthyStandby));
    // and with the standby down too, nothing moves either
    w.all_see(0..4, s, unreachable());
    assert_eq!(w.migrate(0), Err(Refusal::NoHealthyStandby));
}

#[test]
fn quarantined_and_retired_endpoints_are_never_promoted() {
    let (mut w, p, s) = standard();
    w.all_see(0..4, p, frozen());
    for role in [Role::Quarantined, Role::Retired] {
        w.set_role(s, role);
        assert_eq!(w.migrate(0), Err(Refusal::NoHealthyStandby));
    }
}

#[test]
fn standby_choice_prefers_other_provider_and_region_then_priority_latency_id() {
    let mut w = World::new(4, PolicyParams::default());
    let p = w.endpoint(0, Role::Primary, "prov-a", "eu", 0);
    let same_both = w.endpoint(0, Role::Standby, "prov-a", "eu", 0);
    let same_provider = w.endpoint(0, Role::Standby, "prov-a", "us", 0);
    let other_slow = w.endpoint(0, Role::Standby, "prov-b", "us", 5);
    let other_fast = w.endpoint(0, Role::Standby, "prov-c", "ap", 5);
    w.all_see(0..4, p, frozen());
    for e in [same_both, same_provider, other_slow] {
        w.all_see(0..4, e, healthy());
    }
    w.all_see(
        0..4,
        other_fast,
        Figures {
            latency_ms: 20,
            ..healthy()
        },
    );
    assert_eq!(
        w.migrate(0).unwrap().to_id,
        other_fast,
        "diverse first, then latency"
    );
    let i = w.index(other_slow);
    w.topology.endpoints[i].priority = 1;
    assert_eq!(
        w.migrate(0).unwrap().to_id,
        other_slow,
        "priority beats latency"
    );
    w.all_see(0..4, other_slow, frozen());
    w.all_see(0..4, other_fast, frozen());
    assert_eq!(
        w.migrate(0).unwrap().to_id,
        same_provider,
        "one shared label beats two"
    );
    w.all_see(0..4, same_provider, frozen());
    assert_eq!(w.migrate(0).unwrap().to_id, same_both);
    // equal in everything: lowest id
    let twin = w.endpoint(0, Role::Standby, "prov-a", "eu", 0);
    w.all_see(0..4, twin, healthy());
    assert_eq!(w.migrate(0).unwrap().to_id, same_both.min(twin));
}

#[test]
fn repeat_offenders_stay_out_longer() {
    let (mut w, p, _) = standard();
    w.all_see(0..4, p, frozen());
    let i = w.index(p);
    w.topology.endpoints[i].ejection_count = 2;
    let base = w.policy().quarantine_base_slots;
    assert_eq!(w.migrate(0).unwrap().quarantine_until_slot, NOW + 3 * base);
}

#[test]
fn a_group_without_primary_gets_its_healthiest_standby_on_its_healthy_voters() {
    let mut w = World::new(4, PolicyParams::default());
    let s = w.endpoint(2, Role::Standby, "prov-b", "us", 0);
    assert_eq!(w.migrate(2), Err(Refusal::NoPrimary));
    w.all_see(0..3, s, healthy());
    w.see(3, s, unreachable(), 10);
    let plan = w.migrate(2).unwrap();
    assert_eq!(
        (plan.from_id, plan.to_id, plan.rule),
        (None, s, Reason::VacantPrimary)
    );
    assert_eq!(
        plan.voters, 0b0111,
        "the keepers that saw it healthy, not its down voters"
    );
    assert_eq!(plan.record().voter_count, 3);
    assert_eq!(plan.quarantine_until_slot, 0);
}

#[test]
fn filling_a_vacancy_respects_the_cooldown() {
    let mut w = World::new(4, PolicyParams::default());
    let s = w.endpoint(2, Role::Standby, "prov-b", "us", 0);
    w.all_see(0..4, s, healthy());
    let cooldown = w.policy().cooldown_slots;
    w.topology.last_migration_slot[2] = NOW - cooldown + 1;
    assert_eq!(
        w.migrate(2),
        Err(Refusal::Cooldown {
            until_slot: NOW + 1
        })
    );
    w.topology.last_migration_slot[2] = NOW - cooldown;
    assert!(w.migrate(2).is_ok());
}

#[test]
fn invalid_group_and_empty_keeper_set_are_refused() {
    let (w, _, _) = standard();
    assert_eq!(w.migrate(MAX_GROUPS as u8), Err(Refusal::InvalidGroup));
    let mut w = World::new(0, PolicyParams::default());
    w.endpoint(0, Role::Primary, "a", "a", 0);
    w.endpoint(0, Role::Standby, "b", "b", 0);
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

#[test]
fn votes_about_a_group_survive_changes_to_another_group() {
    // Three groups lose their primaries at once (a regional outage). Migrating one group
    // changes nothing the others' votes depend on: each still migrates on the votes
    // already cast, with no new round of attestations.
    let mut w = World::new(4, PolicyParams::default());
    let mut pairs = Vec::new();
    for g in 0..3u8 {
        let p = w.endpoint(g, Role::Primary, "prov-a", "eu", 0);
        let s = w.endpoint(g, Role::Standby, "prov-b", "us", 0);
        pairs.push((p, s));
    }
    for &(p, s) in &pairs {
        w.all_see(0..4, p, unreachable());
        w.all_see(0..4, s, healthy());
    }
    for (g, &(p, s)) in pairs.iter().enumerate() {
        let plan = w.migrate(g as u8).unwrap();
        assert_eq!((plan.from_id, plan.to_id), (Some(p), s));
        let before = w.topology.group_epoch(g as u8);
        w.apply(&plan);
        assert!(w.topology.group_epoch(g as u8) > before);
    }
    for g in 0..3u8 {
        assert_eq!(w.migrate(g), Err(Refusal::NoBreachQuorum), "group {g} done");
    }
}

#[test]
fn pending_actions_lists_what_the_chain_would_accept() {
    let (mut w, p, s) = standard();
    assert!(pending_actions(&w.snap()).is_empty());
    let q = w.endpoint(1, Role::Quarantined, "x", "y", 0);
    w.all_see(0..4, q, healthy());
    w.now += w.policy().probation_slots;
    w.attest_all();
    w.all_see(0..4, p, frozen());
    let actions = pending_actions(&w.snap());
    assert!(
        matches!(&actions[..], [Action::Migrate(m), Action::Readmit(r)]
            if m.from_id == Some(p) && m.to_id == s && r.endpoint_id == q),
        "{actions:?}"
    );
}

#[test]
fn a_better_standby_that_may_still_be_voted_healthy_is_waited_for() {
    // 7 keepers (quorum 5); the preferred standby s1 (other provider) and a worse one s2
    // (the primary's provider). Two liars vote the primary and s1 down, s2 up; the honest
    // five arrive one by one, in a network where they had not judged the standbys yet.
    let mut w = World::new(7, PolicyParams::default());
    let p = w.endpoint(0, Role::Primary, "prov-a", "eu", 0);
    let s1 = w.endpoint(0, Role::Standby, "prov-b", "us", 0);
    let s2 = w.endpoint(0, Role::Standby, "prov-a", "us", 0);
    for liar in 5..7 {
        w.views[liar].insert(p, (frozen(), 10));
        w.views[liar].insert(s1, (unreachable(), 10));
        w.views[liar].insert(s2, (healthy(), 10));
        w.attest(liar);
    }
    for k in 0..5 {
        w.views[k].insert(p, (frozen(), 10));
        w.views[k].insert(s1, (healthy(), 10));
        w.views[k].insert(s2, (healthy(), 10));
        w.attest(k);
        let decision = w.migrate(0);
        if k < 2 {
            assert_eq!(
                decision,
                Err(Refusal::NoBreachQuorum),
                "after {} honest",
                k + 1
            );
        } else if k < 4 {
            // s2 already has 5 healthy votes (3 honest + 2 liars), s1 only 3 of a possible 5
            assert_eq!(
                decision,
                Err(Refusal::StandbyUndecided { endpoint_id: s1 }),
                "after {} honest",
                k + 1
            );
        } else {
            assert_eq!(decision.unwrap().to_id, s1, "the honest choice, never s2");
        }
    }
    // once enough keepers judge s1 not healthy, it no longer holds the group back
    let mut w2 = World::new(7, PolicyParams::default());
    let p = w2.endpoint(0, Role::Primary, "prov-a", "eu", 0);
    let s1 = w2.endpoint(0, Role::Standby, "prov-b", "us", 0);
    let s2 = w2.endpoint(0, Role::Standby, "prov-a", "us", 0);
    w2.all_see(0..7, p, frozen());
    w2.all_see(0..5, s2, healthy());
    w2.all_see(0..3, s1, unreachable());
    assert_eq!(
        w2.migrate(0).unwrap().to_id,
        s2,
        "s1 can reach at most 4 of 5 healthy votes"
    );
}

#[test]
fn a_network_of_one_group_gets_its_migration_listed() {
    let (mut w, p, s) = standard();
    w.all_see(0..4, p, frozen());
    let actions = pending_actions(&w.snap());
    assert!(
        matches!(&actions[..], [Action::Migrate(m)] if m.from_id == Some(p) && m.to_id == s),
        "{actions:?}"
    );
}

#[test]
fn the_history_record_carries_the_plans_evidence() {
    let (mut w, p, s) = standard();
    let failing = Figures {
        latency_ms: 700,
        error_bps: 2_000,
        ..frozen()
    };
    w.all_see(0..4, p, failing);
    let plan = w.migrate(0).unwrap();
    let r = plan.record();
    assert_eq!((r.from_id, r.to_id, r.group), (p, s, 0));
    assert_eq!(
        (r.median_latency_ms, r.median_slot_lag, r.median_error_bps),
        (700, 500, 2_000)
    );
    assert_eq!((r.voters, r.voter_count), (0b1111, 4));
    assert_eq!(r.rule, Reason::Stalled as u8);
    assert_eq!(r.cause, MigrationCause::Automatic as u8);
}

#[test]
fn a_worse_standby_nobody_has_judged_does_not_hold_the_failover() {
    let (mut w, p, s) = standard();
    // a third standby, on the primary's provider and region: ranked below s, unjudged
    let worse = w.endpoint(0, Role::Standby, "prov-a", "eu", 0);
    w.all_see(0..4, p, frozen());
    assert!(w.tally(worse).may_become_healthy(4, 3));
    let plan = w.migrate(0).unwrap();
    assert_eq!(plan.to_id, s);
}

#[test]
fn an_undecided_endpoint_of_another_group_does_not_hold_the_failover() {
    let (mut w, p, s) = standard();
    // group 1: a primary nobody has judged yet and a standby that would outrank s
    // (another provider and region, no latency measured)
    w.endpoint(1, Role::Primary, "prov-c", "ap", 0);
    w.endpoint(1, Role::Standby, "prov-d", "sa", 0);
    w.all_see(0..4, p, frozen());
    let plan = w.migrate(0).unwrap();
    assert_eq!(plan.to_id, s);
}
