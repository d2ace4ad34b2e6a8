//! Migration through the real runtime: the attestation that completes a breach quorum
//! migrates in its own transaction, `trigger_migration` serves everyone else, and the
//! attacks that apply to both.
//!
//! (Over 400 lines: two instructions and every attack on a migration.)
use anchor_lang::prelude::Pubkey;
use lifeline::constants::MAX_KEEPERS;
use lifeline::instructions::*;
use lifeline::state::{MigrationCause, Reason, Role};
use lifeline_client::{events::LifelineEvent, ix, pda};
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::fast_policy;

/// Four keepers (quorum 3), group 0 with primary P (prov-a/eu) and standby S (prov-b/us).
async fn standard() -> (TestNet, u32, u32) {
    let mut t = TestNet::new(4, fast_policy()).await;
    let p = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    (t, p, s)
}

fn migrations(events: &[LifelineEvent]) -> Vec<&lifeline::events::MigrationExecuted> {
    events
        .iter()
        .filter_map(|e| match e {
            LifelineEvent::MigrationExecuted(m) => Some(m),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn the_attestation_that_completes_the_quorum_migrates_in_its_own_transaction() {
    let (mut t, p, s) = standard().await;
    let views = [(p, Seen::frozen()), (s, Seen::healthy())];
    for k in 0..2 {
        let events = t.attest_with_events(k, &views).await.unwrap();
        assert!(
            migrations(&events).is_empty(),
            "keeper {k}: short of quorum"
        );
    }
    let epoch_before = t.topology().await.epoch;
    let events = t.attest_with_events(2, &views).await.unwrap();
    let [ev] = migrations(&events)[..] else {
        panic!("the third vote migrates: {events:?}");
    };
    assert!(matches!(events[0], LifelineEvent::AttestationSubmitted(_)));
    let topo = t.topology().await;
    assert_eq!(t.role_of(p).await, Some(Role::Quarantined));
    assert_eq!(t.role_of(s).await, Some(Role::Primary));
    assert_eq!(topo.epoch, epoch_before + 1);
    assert_eq!(topo.group_epochs[0], topo.epoch);
    let ejected = topo.endpoint(p).unwrap();
    assert_eq!(
        (ejected.ejection_count, ejected.last_reason),
        (1, Reason::Stalled as u8)
    );
    let migrated_at = topo.last_migration_slot[0];
    assert_eq!(ejected.quarantine_until_slot, migrated_at + 200);

    // the history ring and the event carry the evidence
    let record = *topo.recent_migrations().next().unwrap();
    assert_eq!((record.from_id, record.to_id, record.group), (p, s, 0));
    assert_eq!((record.voter_count, record.voters), (3, 0b0111));
    assert_eq!(record.median_slot_lag, 1_000);
    assert_eq!(record.cause, MigrationCause::Automatic as u8);
    assert_eq!(
        (ev.from_id, ev.to_id, ev.rule),
        (Some(p), s, Reason::Stalled as u8)
    );
    assert_eq!(
        (ev.old_epoch, ev.header.epoch),
        (epoch_before, epoch_before + 1)
    );
    assert_eq!(ev.triggered_by, t.keepers[2].pubkey());
    let mut voters = ev.voters.clone();
    voters.sort();
    let mut keepers: Vec<Pubkey> = t.keepers[..3].iter().map(|k| k.pubkey()).collect();
    keepers.sort();
    assert_eq!(voters, keepers);
    // the fourth keeper's vote changes nothing: the group already moved
    let events = t.attest_with_events(3, &views).await.unwrap();
    assert!(migrations(&events).is_empty());
    assert_eq!(t.topology().await.history_total, 1);
}

#[tokio::test]
async fn trigger_migration_decides_on_the_whole_ballot_for_everyone_else() {
    // the quorum forms while paused (no attestation may migrate); once resumed, anyone
    // may trigger, passing nothing but the group and its epoch
    let (mut t, p, s) = standard().await;
    t.pause(true).await;
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    assert_eq!(t.role_of(p).await, Some(Role::Primary));
    assert_lifeline_err(t.trigger(0).await, LifelineError::NetworkPaused);
    t.pause(false).await;
    let events = t.trigger(0).await.expect("migration");
    assert_eq!(migrations(&events).len(), 1);
    assert_eq!(t.role_of(s).await, Some(Role::Primary));
    assert_eq!(
        t.topology()
            .await
            .recent_migrations()
            .next()
            .unwrap()
            .voter_count,
        4
    );
}

#[tokio::test]
async fn extra_accounts_passed_to_a_trigger_change_nothing() {
    // a caller cannot add or leave out votes: the decision reads the on-chain ballot only
    let (mut t, p, s) = standard().await;
    t.pause(true).await;
    t.attest_all(0..2, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    t.pause(false).await;
    let caller = Keypair::new();
    let epoch0 = t.topology().await.group_epoch(0);
    let mut ix = ix::trigger_migration(
        &t.network,
        &caller.pubkey(),
        TriggerMigrationArgs {
            group: 0,
            expected_group_epoch: epoch0,
        },
    );
    let ballot = pda::ballot(&t.network).0;
    for _ in 0..4 {
        ix.accounts
            .push(solana_instruction::AccountMeta::new_readonly(ballot, false));
    }
    assert_lifeline_err(
        t.send(&[ix], &[&caller]).await,
        LifelineError::NoBreachQuorum,
    );
}

#[tokio::test]
async fn a_lying_minority_cannot_force_a_migration() {
    let (mut t, p, s) = standard().await;
    // two liars (the safety bound for n=4 is 2) claim the healthy primary is dead
    t.attest_all(0..2, &[(p, Seen::down()), (s, Seen::healthy())])
        .await;
    assert_lifeline_err(t.trigger(0).await, LifelineError::NoBreachQuorum);
    assert_eq!(t.role_of(p).await, Some(Role::Primary));
}

#[tokio::test]
async fn a_lying_keeper_cannot_block_a_needed_migration() {
    let (mut t, p, s) = standard().await;
    t.attest_all(0..1, &[(p, Seen::healthy()), (s, Seen::down())])
        .await;
    t.attest_all(1..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    assert_eq!(
        t.role_of(s).await,
        Some(Role::Primary),
        "three honest keepers are a quorum"
    );
}

#[tokio::test]
async fn stale_evidence_of_a_breach_does_not_count() {
    let (mut t, p, s) = standard().await;
    t.pause(true).await;
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    t.pause(false).await;
    t.warp(51).await; // staleness_slots = 50
    assert_lifeline_err(t.trigger(0).await, LifelineError::NoBreachQuorum);
}

#[tokio::test]
async fn a_removed_keepers_vote_no_longer_counts() {
    // Three keepers vote the primary down while paused (so no attestation migrates):
    // with four keepers that is a quorum. Removing one voter leaves three keepers (quorum
    // 3) and only two votes: the trigger is refused — the removed keeper's vote is gone
    // from the ballot, not merely unreferenced.
    let (mut t, p, s) = standard().await;
    t.pause(true).await;
    t.attest_all(0..3, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    let gone = t.keepers[2].pubkey();
    let rm = ix::remove_keeper(&t.network, &t.authority.pubkey(), &gone);
    t.send_as_authority(rm).await.unwrap();
    t.pause(false).await;
    assert_lifeline_err(t.trigger(0).await, LifelineError::NoBreachQuorum);
    // and re-adding the same key brings back nothing it attested
    t.add_keeper_key(&t.keepers[2].insecure_clone(), "region-2", "prov-0")
        .await;
    assert_eq!(t.report(2).await.seq, 0);
    assert_lifeline_err(t.trigger(0).await, LifelineError::NoBreachQuorum);
}

#[tokio::test]
async fn racing_triggers_cost_the_loser_a_clean_epoch_error() {
    let (mut t, p, s) = standard().await;
    t.pause(true).await;
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    t.pause(false).await;
    let epoch = t.topology().await.group_epoch(0);
    let (a, b) = (Keypair::new(), Keypair::new());
    let args = TriggerMigrationArgs {
        group: 0,
        expected_group_epoch: epoch,
    };
    let first = ix::trigger_migration(&t.network, &a.pubkey(), args);
    let second = ix::trigger_migration(&t.network, &b.pubkey(), args);
    t.send(&[first], &[&a]).await.expect("winner");
    assert_lifeline_err(t.send(&[second], &[&b]).await, LifelineError::EpochMismatch);
    assert_eq!(t.topology().await.history_total, 1, "exactly one migration");
}

/// A regional outage takes three groups' primaries down at once. Each group migrates on
/// the votes already cast: a migration of one group neither invalidates the votes about
/// the others nor makes their triggers fail.
#[tokio::test]
async fn three_groups_fail_at_once_and_all_migrate_without_another_round() {
    let mut t = TestNet::new(4, fast_policy()).await;
    let mut pairs = Vec::new();
    for g in 0..3u8 {
        let p = t.add_endpoint(g, Role::Primary, "prov-a", "eu").await;
        let s = t.add_endpoint(g, Role::Standby, "prov-b", "us").await;
        pairs.push((p, s));
    }
    let view = |down: bool| -> Vec<(u32, Seen)> {
        pairs
            .iter()
            .flat_map(|&(p, s)| {
                [
                    (p, if down { Seen::down() } else { Seen::healthy() }),
                    (s, Seen::healthy()),
                ]
            })
            .collect()
    };
    t.attest_all(0..4, &view(false)).await;
    // triggers prepared before anything moves, one per group
    let epochs: Vec<u64> = {
        let topo = t.topology().await;
        (0..3).map(|g| topo.group_epoch(g)).collect()
    };
    // one attestation round: the third keeper's vote completes all three quorums at once
    for k in 0..2 {
        t.attest(k, &view(true)).await.unwrap();
    }
    let events = t.attest_with_events(2, &view(true)).await.unwrap();
    assert_eq!(migrations(&events).len(), 3, "{events:?}");
    for &(p, s) in &pairs {
        assert_eq!(
            (t.role_of(p).await, t.role_of(s).await),
            (Some(Role::Quarantined), Some(Role::Primary))
        );
    }
    let topo = t.topology().await;
    assert_eq!(topo.history_total, 3);
    for (g, before) in epochs.iter().enumerate() {
        assert!(topo.group_epoch(g as u8) > *before, "group {g} moved once");
    }
}

#[tokio::test]
async fn a_trigger_for_one_group_survives_changes_to_another() {
    let mut t = TestNet::new(4, fast_policy()).await;
    let p0 = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s0 = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    let p1 = t.add_endpoint(1, Role::Primary, "prov-a", "eu").await;
    t.pause(true).await;
    t.attest_all(
        0..4,
        &[
            (p0, Seen::frozen()),
            (s0, Seen::healthy()),
            (p1, Seen::healthy()),
        ],
    )
    .await;
    t.pause(false).await;
    let caller = Keypair::new();
    let epoch0 = t.topology().await.group_epoch(0);
    let prepared = ix::trigger_migration(
        &t.network,
        &caller.pubkey(),
        TriggerMigrationArgs {
            group: 0,
            expected_group_epoch: epoch0,
        },
    );
    // group 1 changes (a new standby) before the trigger lands
    t.add_endpoint(1, Role::Standby, "prov-c", "ap").await;
    t.send(&[prepared], &[&caller])
        .await
        .expect("group 0's decision still stands");
    assert_eq!(t.role_of(s0).await, Some(Role::Primary));
}

#[tokio::test]
async fn cooldown_holds_between_automatic_migrations() {
    let mut t = TestNet::new(4, fast_policy()).await;
    let a = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let b = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    let c = t.add_endpoint(0, Role::Standby, "prov-c", "ap").await;
    t.attest_all(
        0..4,
        &[
            (a, Seen::down()),
            (b, Seen::healthy()),
            (c, Seen::healthy()),
        ],
    )
    .await;
    let new_primary = if t.role_of(b).await == Some(Role::Primary) {
        b
    } else {
        c
    };
    let other = if new_primary == b { c } else { b };
    assert_eq!(t.topology().await.history_total, 1);
    // the new primary fails at once: its breach quorum is there, the cooldown holds it
    t.attest_all(
        0..4,
        &[(new_primary, Seen::down()), (other, Seen::healthy())],
    )
    .await;
    assert_eq!(t.role_of(new_primary).await, Some(Role::Primary));
    assert_lifeline_err(t.trigger(0).await, LifelineError::CooldownActive);
    // after the cooldown, a refreshed vote (or anyone's trigger) moves it
    t.warp(100).await;
    t.attest_all(
        0..4,
        &[(new_primary, Seen::down()), (other, Seen::healthy())],
    )
    .await;
    assert_eq!(t.role_of(other).await, Some(Role::Primary));
    assert_eq!(t.topology().await.history_total, 2);
}

#[tokio::test]
async fn without_a_healthy_standby_nothing_moves() {
    let (mut t, p, s) = standard().await;
    let lagging = Seen {
        lag: 20,
        ..Seen::healthy()
    }; // degraded, not healthy
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, lagging)])
        .await;
    assert_lifeline_err(t.trigger(0).await, LifelineError::NoHealthyStandby);
    assert_eq!(t.role_of(p).await, Some(Role::Primary));
}

#[tokio::test]
async fn a_vacant_primary_is_filled_on_healthy_votes_under_the_cooldown() {
    let mut t = TestNet::new(4, fast_policy()).await;
    let me = t.authority.pubkey();
    let p = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    // the group migrates once (now in cooldown), then its primary is decommissioned
    t.attest_all(0..4, &[(p, Seen::down()), (s, Seen::healthy())])
        .await;
    assert_eq!(t.role_of(s).await, Some(Role::Primary));
    let epoch = t.topology().await.group_epoch(0);
    t.send_as_authority(ix::force_failover(
        &t.network,
        &me,
        ForceFailoverArgs {
            group: 0,
            to_id: p,
            expected_group_epoch: epoch,
            quarantine_old: false,
        },
    ))
    .await
    .expect_err("p is quarantined: not a failover target");
    t.send_as_authority(ix::update_endpoint(
        &t.network,
        &me,
        UpdateEndpointArgs {
            endpoint_id: p,
            role: Some(Role::Standby as u8),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let epoch = t.topology().await.group_epoch(0);
    t.send_as_authority(ix::force_failover(
        &t.network,
        &me,
        ForceFailoverArgs {
            group: 0,
            to_id: p,
            expected_group_epoch: epoch,
            quarantine_old: false,
        },
    ))
    .await
    .unwrap();
    t.send_as_authority(ix::remove_endpoint(&t.network, &me, p))
        .await
        .expect_err("a primary with others in its group cannot be removed");
    // leave the group with standbys only: remove the primary's partner, then the primary
    t.send_as_authority(ix::remove_endpoint(&t.network, &me, s))
        .await
        .unwrap();
    t.send_as_authority(ix::remove_endpoint(&t.network, &me, p))
        .await
        .unwrap();
    let a = t.add_endpoint(0, Role::Standby, "prov-c", "ap").await;
    // one keeper sees the new standby unreachable, three see it healthy
    t.attest_all(0..3, &[(a, Seen::healthy())]).await;
    let events = t.attest_with_events(3, &[(a, Seen::down())]).await.unwrap();
    assert!(migrations(&events).is_empty());
    // the manual failover above set the group's last migration: the cooldown holds
    assert_lifeline_err(t.trigger(0).await, LifelineError::CooldownActive);
    t.warp(100).await;
    t.attest_all(0..3, &[(a, Seen::healthy())]).await;
    assert_eq!(t.role_of(a).await, Some(Role::Primary));
    let record = *t.topology().await.recent_migrations().next().unwrap();
    assert_eq!(record.rule, Reason::VacantPrimary as u8);
    assert_eq!(record.from(), None);
    assert_eq!(
        (record.voters, record.voter_count),
        (0b0111, 3),
        "the keepers that saw it healthy, not its down voter"
    );
}

#[tokio::test]
async fn a_paused_network_does_not_migrate_but_the_authority_can_force() {
    let (mut t, p, s) = standard().await;
    t.pause(true).await;
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    assert_eq!(
        t.role_of(p).await,
        Some(Role::Primary),
        "attestations do not migrate"
    );
    assert_lifeline_err(t.trigger(0).await, LifelineError::NetworkPaused);

    let epoch = t.topology().await.group_epoch(0);
    let force = ix::force_failover(
        &t.network,
        &t.authority.pubkey(),
        ForceFailoverArgs {
            group: 0,
            to_id: s,
            expected_group_epoch: epoch,
            quarantine_old: false,
        },
    );
    let authority = t.authority.insecure_clone();
    let events = t.send_with_events(&[force], &[&authority]).await.unwrap();
    assert_eq!(t.role_of(s).await, Some(Role::Primary));
    assert_eq!(t.role_of(p).await, Some(Role::Standby));
    let topo = t.topology().await;
    let record = topo.recent_migrations().next().unwrap();
    assert_eq!(
        (record.cause, record.rule),
        (MigrationCause::Manual as u8, Reason::Manual as u8)
    );
    assert!(
        matches!(events.as_slice(), [LifelineEvent::MigrationExecuted(e)] if e.cause == MigrationCause::Manual as u8 && e.voters.is_empty())
    );
}

#[tokio::test]
async fn force_failover_is_authority_only_and_targets_a_standby() {
    let (mut t, p, s) = standard().await;
    let epoch = t.topology().await.group_epoch(0);
    let mallory = Keypair::new();
    let args = ForceFailoverArgs {
        group: 0,
        to_id: s,
        expected_group_epoch: epoch,
        quarantine_old: true,
    };
    let ix = ix::force_failover(&t.network, &mallory.pubkey(), args);
    assert_lifeline_err(
        t.send(&[ix], &[&mallory]).await,
        LifelineError::Unauthorized,
    );
    let mut ix = ix::force_failover(&t.network, &t.authority.pubkey(), args);
    ix.accounts[2].is_signer = false;
    assert_anchor_err(
        t.send(&[ix], &[]).await,
        anchor_lang::error::ErrorCode::AccountNotSigner,
    );
    for (to_id, group) in [(p, 0), (s, 1), (99, 0)] {
        let bad = ForceFailoverArgs {
            to_id,
            group,
            ..args
        };
        let ix = ix::force_failover(&t.network, &t.authority.pubkey(), bad);
        let want = if to_id == 99 {
            LifelineError::EndpointNotFound
        } else if group == 1 {
            LifelineError::EpochMismatch
        } else {
            LifelineError::InvalidFailoverTarget
        };
        assert_lifeline_err(t.send_as_authority(ix).await, want);
    }
    let stale = ForceFailoverArgs {
        expected_group_epoch: epoch - 1,
        ..args
    };
    let ix = ix::force_failover(&t.network, &t.authority.pubkey(), stale);
    assert_lifeline_err(t.send_as_authority(ix).await, LifelineError::EpochMismatch);
    // quarantine_old = true quarantines with the growing schedule
    let ix = ix::force_failover(&t.network, &t.authority.pubkey(), args);
    t.send_as_authority(ix).await.unwrap();
    let topo = t.topology().await;
    assert_eq!(topo.endpoint(p).unwrap().role(), Some(Role::Quarantined));
    assert_eq!(topo.endpoint(p).unwrap().ejection_count, 1);
}

#[tokio::test]
async fn foreign_and_mistyped_accounts_are_rejected() {
    let (mut t, _, _) = standard().await;
    let caller = Keypair::new();
    let args = TriggerMigrationArgs {
        group: 0,
        expected_group_epoch: t.topology().await.group_epoch(0),
    };
    let me = t.authority.pubkey();
    t.send_as_authority(ix::create_network(&me, crate::create_args("other")))
        .await
        .unwrap();
    let other = pda::network(&me, "other").0;
    // another network's topology, another network's ballot, the topology as ballot, a
    // system account as ballot
    let cases: [(usize, Pubkey, u32); 4] = [
        (
            1,
            pda::topology(&other).0,
            u32::from(LifelineError::WrongTopology),
        ),
        (
            2,
            pda::ballot(&other).0,
            u32::from(LifelineError::WrongBallot),
        ),
        (
            2,
            t.topology,
            u32::from(anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch),
        ),
        (
            2,
            me,
            u32::from(anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram),
        ),
    ];
    for (index, key, want) in cases {
        let mut ix = ix::trigger_migration(&t.network, &caller.pubkey(), args);
        ix.accounts[index].pubkey = key;
        let err = t.send(&[ix], &[&caller]).await.expect_err("refused");
        assert_eq!(error_code(&err), Some(want), "{index} {key}: {err:?}");
    }
}

#[tokio::test]
async fn every_keeper_voting_at_max_keepers_migrates_within_one_transaction() {
    let mut t = TestNet::new(MAX_KEEPERS, fast_policy()).await;
    let p = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    t.pause(true).await;
    t.attest_all(0..MAX_KEEPERS, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    t.pause(false).await;
    let caller = Keypair::new();
    let epoch0 = t.topology().await.group_epoch(0);
    let ix = ix::trigger_migration(
        &t.network,
        &caller.pubkey(),
        TriggerMigrationArgs {
            group: 0,
            expected_group_epoch: epoch0,
        },
    );
    let tx = t.transaction(&[ix], &[&caller]).await;
    let size = wire_size(&tx);
    // before the ballot went on chain it carried every report: 1,000+ bytes at 16 keepers
    assert!(
        size <= 500,
        "trigger_migration is {size} bytes: it carries no reports"
    );
    eprintln!("trigger_migration at {MAX_KEEPERS} keepers: {size} bytes on the wire");
    t.ctx
        .banks_client
        .process_transaction(tx)
        .await
        .expect("migration at MAX_KEEPERS");
    assert_eq!(
        t.topology()
            .await
            .recent_migrations()
            .next()
            .unwrap()
            .voter_count as usize,
        MAX_KEEPERS
    );
}
