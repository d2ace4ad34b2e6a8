//! Migration, quarantine, probation and readmission through the real runtime, and the
//! attacks that apply to the permissionless instructions.
use anchor_lang::prelude::Pubkey;
use lifeline::instructions::*;
use lifeline::state::{MigrationCause, PolicyParams, Reason, Role};
use lifeline_client::{events::LifelineEvent, ix};
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn fast_policy() -> PolicyParams {
    PolicyParams {
        staleness_slots: 50,
        cooldown_slots: 100,
        quarantine_base_slots: 200,
        quarantine_max_slots: 1_000,
        probation_slots: 100,
        ..PolicyParams::default()
    }
}

/// Four keepers (quorum 3), group 0 with primary P (prov-a/eu) and standby S (prov-b/us).
async fn standard() -> (TestNet, u32, u32) {
    let mut t = TestNet::new(4, fast_policy()).await;
    let p = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    (t, p, s)
}

#[tokio::test]
async fn full_cycle_migration_quarantine_probation_readmission() {
    let (mut t, p, s) = standard().await;
    println!("network {} with 4 keepers (quorum 3); group 0: primary #{p} (prov-a/eu), standby #{s} (prov-b/us)", t.network);
    println!("fault: primary #{p} freezes — it still answers 200 OK, but its slot stops (1000 slots behind)");
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    println!("4 keepers attest: #{p} down (slot lag), #{s} healthy");
    let epoch_before = t.topology().await.epoch;

    let events = t.trigger(0).await.expect("migration");
    let topo = t.topology().await;
    assert_eq!(t.role_of(p).await, Some(Role::Quarantined));
    assert_eq!(t.role_of(s).await, Some(Role::Primary));
    assert_eq!(topo.epoch, epoch_before + 1);
    let ejected = topo.endpoint(p).unwrap();
    assert_eq!(ejected.ejection_count, 1);
    assert_eq!(ejected.last_reason, Reason::SlotLag as u8);
    let migrated_at = topo.last_migration_slot[0];
    assert_eq!(ejected.quarantine_until_slot, migrated_at + 200);

    // the history ring records the evidence
    let record = *topo.recent_migrations().next().unwrap();
    assert_eq!((record.from_id, record.to_id, record.group), (p, s, 0));
    assert_eq!(record.voter_count, 4);
    assert_eq!(record.median_slot_lag, 1_000);
    assert_eq!(record.cause, MigrationCause::Automatic as u8);

    // and the event carries the same evidence with the voters' keys
    let [LifelineEvent::MigrationExecuted(ev)] = events.as_slice() else {
        panic!("expected one MigrationExecuted, got {events:?}");
    };
    assert_eq!(
        (ev.from_id, ev.to_id, ev.rule),
        (Some(p), s, Reason::SlotLag as u8)
    );
    assert_eq!(
        (ev.old_epoch, ev.header.epoch),
        (epoch_before, epoch_before + 1)
    );
    let mut voters = ev.voters.clone();
    voters.sort();
    let mut keepers: Vec<Pubkey> = t.keepers.iter().map(|k| k.pubkey()).collect();
    keepers.sort();
    assert_eq!(voters, keepers);
    println!(
        "anyone triggers: MigrationExecuted #{p} -> #{s}, rule {:?}, {} voters, median lag {} slots, epoch {} -> {}; #{p} quarantined until slot {}",
        Reason::from_u8(ev.rule), ev.voters.len(), ev.median_slot_lag, ev.old_epoch, ev.header.epoch, ev.quarantine_until_slot
    );

    // the old primary recovers; keepers re-attest under the new epoch
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::QuarantineActive);

    // quarantine elapses, but probation counts from when keepers first saw it healthy
    t.warp(150).await;
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::QuarantineActive);
    t.warp(60).await;
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    let events = t.readmit(p).await.expect("readmission");
    assert_eq!(t.role_of(p).await, Some(Role::Standby));
    println!(
        "#{p} healthy through quarantine and probation: readmitted as standby (slot {})",
        t.slot().await
    );
    println!(
        "#{p} healthy through quarantine and probation: readmitted as standby (slot {})",
        t.slot().await
    );
    assert!(
        matches!(events.as_slice(), [LifelineEvent::EndpointReadmitted(e)] if e.endpoint_id == p && e.voters.len() == 4)
    );
}

#[tokio::test]
async fn probation_restarts_when_the_endpoint_relapses() {
    let (mut t, p, s) = standard().await;
    t.attest_all(0..4, &[(p, Seen::down()), (s, Seen::healthy())])
        .await;
    t.trigger(0).await.expect("migration");
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    t.warp(190).await;
    // a relapse resets each keeper's healthy-since slot
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    t.warp(20).await;
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::ProbationIncomplete);
    t.warp(100).await;
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    t.readmit(p)
        .await
        .expect("readmission after a full probation");
}

#[tokio::test]
async fn a_lying_minority_cannot_force_a_migration() {
    let (mut t, p, s) = standard().await;
    // two liars (the safety bound for n=4 is 2) claim the healthy primary is dead
    t.attest_all(0..2, &[(p, Seen::down()), (s, Seen::healthy())])
        .await;
    t.attest_all(2..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
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
    t.trigger(0)
        .await
        .expect("three honest keepers are a quorum");
    assert_eq!(t.role_of(s).await, Some(Role::Primary));
}

#[tokio::test]
async fn the_same_report_passed_many_times_counts_once() {
    let (mut t, p, s) = standard().await;
    t.attest_all(0..1, &[(p, Seen::down()), (s, Seen::healthy())])
        .await;
    let caller = Keypair::new();
    let epoch = t.topology().await.epoch;
    let one = t.report_key(0);
    let ix = ix::trigger_migration(
        &t.network,
        &caller.pubkey(),
        TriggerMigrationArgs {
            group: 0,
            expected_epoch: epoch,
        },
        &[one, one, one, one],
    );
    assert_lifeline_err(
        t.send(&[ix], &[&caller]).await,
        LifelineError::NoBreachQuorum,
    );
}

#[tokio::test]
async fn stale_reports_do_not_count() {
    let (mut t, p, s) = standard().await;
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    t.warp(51).await; // staleness_slots = 50
    assert_lifeline_err(t.trigger(0).await, LifelineError::NoBreachQuorum);
}

#[tokio::test]
async fn reports_from_an_older_epoch_do_not_count() {
    let (mut t, p, s) = standard().await;
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    // any topology change bumps the epoch: the reports were about the old topology
    t.add_endpoint(1, Role::Primary, "prov-c", "ap").await;
    assert_lifeline_err(t.trigger(0).await, LifelineError::NoBreachQuorum);
}

#[tokio::test]
async fn a_removed_keepers_report_no_longer_counts() {
    let (mut t, p, s) = standard().await;
    t.attest_all(0..3, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    t.attest_all(3..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    let gone = t.keepers[2].pubkey();
    let rm = ix::remove_keeper(&t.network, &t.authority.pubkey(), &gone);
    t.send_as_authority(rm).await.unwrap();
    // 3 keepers left, quorum 3, only 2 of them see the breach; the closed report
    // account can no longer be passed at all
    let caller = Keypair::new();
    let epoch = t.topology().await.epoch;
    let reports = vec![t.report_key(0), t.report_key(1), t.report_key(3)];
    let ix = ix::trigger_migration(
        &t.network,
        &caller.pubkey(),
        TriggerMigrationArgs {
            group: 0,
            expected_epoch: epoch,
        },
        &reports,
    );
    assert_lifeline_err(
        t.send(&[ix], &[&caller]).await,
        LifelineError::NoBreachQuorum,
    );
}

#[tokio::test]
async fn racing_triggers_cost_the_loser_a_clean_epoch_error() {
    let (mut t, p, s) = standard().await;
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    let epoch = t.topology().await.epoch;
    let reports = t.report_keys();
    let (a, b) = (Keypair::new(), Keypair::new());
    let args = TriggerMigrationArgs {
        group: 0,
        expected_epoch: epoch,
    };
    let first = ix::trigger_migration(&t.network, &a.pubkey(), args, &reports);
    let second = ix::trigger_migration(&t.network, &b.pubkey(), args, &reports);
    t.send(&[first], &[&a]).await.expect("winner");
    assert_lifeline_err(t.send(&[second], &[&b]).await, LifelineError::EpochMismatch);
    assert_eq!(t.topology().await.history_total, 1, "exactly one migration");
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
    t.trigger(0).await.expect("first migration");
    let new_primary = if t.role_of(b).await == Some(Role::Primary) {
        b
    } else {
        c
    };
    let other = if new_primary == b { c } else { b };
    t.attest_all(
        0..4,
        &[(new_primary, Seen::down()), (other, Seen::healthy())],
    )
    .await;
    assert_lifeline_err(t.trigger(0).await, LifelineError::CooldownActive);
    t.warp(100).await;
    t.attest_all(
        0..4,
        &[(new_primary, Seen::down()), (other, Seen::healthy())],
    )
    .await;
    t.trigger(0).await.expect("after cooldown");
    assert_eq!(t.role_of(other).await, Some(Role::Primary));
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
async fn a_paused_network_does_not_migrate_but_the_authority_can_force() {
    let (mut t, p, s) = standard().await;
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    let pause = ix::set_paused(&t.network, &t.authority.pubkey(), true);
    t.send_as_authority(pause).await.unwrap();
    assert_lifeline_err(t.trigger(0).await, LifelineError::NetworkPaused);

    let epoch = t.topology().await.epoch;
    let force = ix::force_failover(
        &t.network,
        &t.authority.pubkey(),
        ForceFailoverArgs {
            group: 0,
            to_id: s,
            expected_epoch: epoch,
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
    let epoch = t.topology().await.epoch;
    let mallory = Keypair::new();
    let args = ForceFailoverArgs {
        group: 0,
        to_id: s,
        expected_epoch: epoch,
        quarantine_old: true,
    };
    let ix = ix::force_failover(&t.network, &mallory.pubkey(), args);
    assert_lifeline_err(
        t.send(&[ix], &[&mallory]).await,
        LifelineError::Unauthorized,
    );
    // missing signature
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
        } else {
            LifelineError::InvalidFailoverTarget
        };
        assert_lifeline_err(t.send_as_authority(ix).await, want);
    }
    let stale = ForceFailoverArgs {
        expected_epoch: epoch - 1,
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
async fn foreign_and_mistyped_report_accounts_are_rejected() {
    let (mut t, p, s) = standard().await;
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    let caller = Keypair::new();
    let epoch = t.topology().await.epoch;
    let args = TriggerMigrationArgs {
        group: 0,
        expected_epoch: epoch,
    };
    // the topology (a Lifeline account of the wrong type), a system account, and the
    // network account itself
    let system_owned = t.authority.pubkey();
    for bogus in [t.topology, system_owned, t.network] {
        let mut reports = t.report_keys();
        reports.push(bogus);
        let ix = ix::trigger_migration(&t.network, &caller.pubkey(), args, &reports);
        assert_lifeline_err(
            t.send(&[ix], &[&caller]).await,
            LifelineError::InvalidReportAccount,
        );
    }
    // a report of another network (same keeper key, same bank)
    let name = "other".to_string();
    let create = ix::create_network(
        &t.authority.pubkey(),
        CreateNetworkArgs {
            name: name.clone(),
            policy: fast_policy(),
            guardian: None,
        },
    );
    t.send_as_authority(create).await.unwrap();
    let other_net = lifeline_client::pda::network(&t.authority.pubkey(), &name).0;
    let k = t.keepers[0].pubkey();
    let add = ix::add_keeper(
        &other_net,
        &t.authority.pubkey(),
        AddKeeperArgs {
            keeper: k,
            region: "r".into(),
            provider: "p".into(),
        },
    );
    t.send_as_authority(add).await.unwrap();
    let foreign = lifeline_client::pda::report(&other_net, &k).0;
    let mut reports = t.report_keys();
    reports[0] = foreign;
    let ix = ix::trigger_migration(&t.network, &caller.pubkey(), args, &reports);
    assert_lifeline_err(
        t.send(&[ix], &[&caller]).await,
        LifelineError::InvalidReportAccount,
    );
    // and another network's topology substituted for ours
    let mut ix = ix::trigger_migration(&t.network, &caller.pubkey(), args, &t.report_keys());
    ix.accounts[1].pubkey = lifeline_client::pda::topology(&other_net).0;
    assert_lifeline_err(
        t.send(&[ix], &[&caller]).await,
        LifelineError::WrongTopology,
    );
}

#[tokio::test]
async fn trigger_with_every_report_at_max_keepers_fits_one_transaction() {
    use lifeline::constants::MAX_KEEPERS;
    let mut t = TestNet::new(MAX_KEEPERS, fast_policy()).await;
    let p = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    t.attest_all(0..MAX_KEEPERS, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    let caller = Keypair::new();
    let epoch = t.topology().await.epoch;
    let ix = ix::trigger_migration(
        &t.network,
        &caller.pubkey(),
        TriggerMigrationArgs {
            group: 0,
            expected_epoch: epoch,
        },
        &t.report_keys(),
    );
    let tx = t.transaction(&[ix], &[&caller]).await;
    let size = wire_size(&tx);
    assert!(
        size <= 1232,
        "trigger_migration with {MAX_KEEPERS} reports is {size} bytes"
    );
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

#[tokio::test]
async fn readmission_attacks() {
    let (mut t, p, s) = standard().await;
    // not quarantined
    assert_lifeline_err(t.readmit(s).await, LifelineError::NotQuarantined);
    assert_lifeline_err(t.readmit(77).await, LifelineError::EndpointNotFound);
    t.attest_all(0..4, &[(p, Seen::down()), (s, Seen::healthy())])
        .await;
    t.trigger(0).await.unwrap();
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    t.warp(250).await;
    // a minority of keepers vouching is not enough
    t.attest_all(0..2, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    t.attest_all(2..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::ProbationIncomplete);
    // wrong expected epoch
    let caller = Keypair::new();
    let epoch = t.topology().await.epoch;
    let ix = ix::readmit_endpoint(
        &t.network,
        &caller.pubkey(),
        ReadmitEndpointArgs {
            endpoint_id: p,
            expected_epoch: epoch + 1,
        },
        &t.report_keys(),
    );
    assert_lifeline_err(
        t.send(&[ix], &[&caller]).await,
        LifelineError::EpochMismatch,
    );
    // paused
    let pause = ix::set_paused(&t.network, &t.authority.pubkey(), true);
    t.send_as_authority(pause).await.unwrap();
    assert_lifeline_err(t.readmit(p).await, LifelineError::NetworkPaused);
}
