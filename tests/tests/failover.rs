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
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
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
