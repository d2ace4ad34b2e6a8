//! Decisions nobody can steer: a caller cannot choose which votes a decision sees (the
//! ballot is on chain), and a lying minority voting first cannot get a worse standby
//! promoted while the honest votes arrive.
use lifeline::instructions::TriggerMigrationArgs;
use lifeline::state::{PolicyParams, Role};
use lifeline_client::{events::LifelineEvent, ix};
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// 7 keepers (quorum 5): keepers 0..5 honest, 5 and 6 liars. Group 0: primary P
/// (prov-a/eu), the preferred standby S1 (prov-b/us) and S2 (prov-a/us), which shares the
/// primary's provider.
async fn seven() -> (TestNet, u32, u32, u32) {
    let mut t = TestNet::new(7, crate::fast_policy()).await;
    let p = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s1 = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    let s2 = t.add_endpoint(0, Role::Standby, "prov-a", "us").await;
    (t, p, s1, s2)
}

fn liars_view(p: u32, s1: u32, s2: u32) -> [(u32, Seen); 3] {
    [
        (p, Seen::frozen()),
        (s1, Seen::down()),
        (s2, Seen::healthy()),
    ]
}

fn honest_view(p: u32, s1: u32, s2: u32) -> [(u32, Seen); 3] {
    [
        (p, Seen::frozen()),
        (s1, Seen::healthy()),
        (s2, Seen::healthy()),
    ]
}

/// The attack of the review, end to end in the runtime: the liars attest the primary and
/// the preferred standby down, then call trigger_migration after each honest vote. No
/// call can choose which reports count, and nothing but S1 is ever promoted.
#[tokio::test]
async fn liars_triggering_after_every_honest_vote_never_promote_the_worse_standby() {
    let (mut t, p, s1, s2) = seven().await;
    for liar in 5..7 {
        t.attest(liar, &liars_view(p, s1, s2)).await.unwrap();
    }
    let caller = Keypair::new();
    for honest in 0..5 {
        let events = t
            .attest_with_events(honest, &honest_view(p, s1, s2))
            .await
            .unwrap();
        let migrated = events
            .iter()
            .any(|e| matches!(e, LifelineEvent::MigrationExecuted(_)));
        if !migrated {
            let epoch0 = t.topology().await.group_epoch(0);
            let trigger = ix::trigger_migration(
                &t.network,
                &caller.pubkey(),
                TriggerMigrationArgs {
                    group: 0,
                    expected_group_epoch: epoch0,
                },
            );
            let result = t.send(&[trigger], &[&caller]).await;
            let code = result.err().and_then(|e| error_code(&e));
            assert!(
                code == Some(u32::from(LifelineError::NoBreachQuorum))
                    || code == Some(u32::from(LifelineError::StandbyUndecided)),
                "after {} honest votes the trigger is refused, not steered: {code:?}",
                honest + 1
            );
        }
        assert_ne!(
            t.role_of(s2).await,
            Some(Role::Primary),
            "S2 is never promoted"
        );
    }
    assert_eq!(
        t.role_of(s1).await,
        Some(Role::Primary),
        "the honest choice"
    );
    assert_eq!(t.topology().await.history_total, 1);
}

/// The steady state: honest keepers judged the standbys long before the primary fails, so
/// the preferred standby is quorum-healthy throughout and the migration completes on the
/// fifth down vote with S1.
#[tokio::test]
async fn with_standbys_already_judged_the_migration_is_immediate_and_honest() {
    let (mut t, p, s1, s2) = seven().await;
    let all_healthy = [
        (p, Seen::healthy()),
        (s1, Seen::healthy()),
        (s2, Seen::healthy()),
    ];
    t.attest_all(0..7, &all_healthy).await;
    for liar in 5..7 {
        t.attest(liar, &liars_view(p, s1, s2)).await.unwrap();
    }
    for honest in 0..3 {
        t.attest(honest, &honest_view(p, s1, s2)).await.unwrap();
    }
    // two liars and three honest keepers: five down votes, and S1 still has the five
    // honest healthy votes
    assert_eq!(t.role_of(s1).await, Some(Role::Primary));
    assert_eq!(t.role_of(p).await, Some(Role::Quarantined));
}

#[tokio::test]
async fn a_standby_that_cannot_reach_quorum_does_not_hold_the_group_back() {
    // S1 really is down: the honest keepers say so, and S2 is promoted
    let (mut t, p, s1, s2) = seven().await;
    let view = [
        (p, Seen::frozen()),
        (s1, Seen::down()),
        (s2, Seen::healthy()),
    ];
    t.attest_all(0..7, &view).await;
    assert_eq!(t.role_of(s2).await, Some(Role::Primary));
    let _ = PolicyParams::default();
}
