//! Quarantine, probation and readmission through the real runtime, recovery from a
//! correlated outage, and the attacks that apply to readmit_endpoint.
use lifeline::instructions::*;
use lifeline::state::Role;
use lifeline_client::{events::LifelineEvent, ix};
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::fast_policy;

async fn failed_over() -> (TestNet, u32, u32) {
    let mut t = TestNet::new(4, fast_policy()).await;
    let p = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    t.attest_all(0..4, &[(p, Seen::down()), (s, Seen::healthy())])
        .await;
    assert_eq!(t.role_of(p).await, Some(Role::Quarantined));
    (t, p, s)
}

#[tokio::test]
async fn quarantine_then_probation_then_readmission() {
    let (mut t, p, s) = failed_over().await;
    let healthy = [(p, Seen::healthy()), (s, Seen::healthy())];
    // the old primary recovers; keepers attest the change
    t.attest_all(0..4, &healthy).await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::QuarantineActive);
    // quarantine (200) elapses; probation (100) counts from the first healthy landing
    t.warp(150).await;
    t.attest_all(0..4, &healthy).await; // heartbeats
    assert_lifeline_err(t.readmit(p).await, LifelineError::QuarantineActive);
    t.warp(60).await;
    let events = t.readmit(p).await.expect("readmission");
    assert_eq!(t.role_of(p).await, Some(Role::Standby));
    assert!(
        matches!(events.as_slice(), [LifelineEvent::EndpointReadmitted(e)] if e.endpoint_id == p && e.voters.len() == 4)
    );
}

#[tokio::test]
async fn probation_restarts_when_the_endpoint_relapses() {
    let (mut t, p, s) = failed_over().await;
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    t.warp(190).await;
    // a relapse restarts each keeper's healthy streak
    t.attest_all(0..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    t.warp(20).await;
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::ProbationIncomplete);
    t.warp(100).await;
    t.readmit(p)
        .await
        .expect("readmission after a full probation");
}

#[tokio::test]
async fn probation_restarts_after_a_silence_longer_than_liveness() {
    let (mut t, p, s) = failed_over().await;
    let healthy = [(p, Seen::healthy()), (s, Seen::healthy())];
    t.attest_all(0..4, &healthy).await;
    // every keeper goes silent past the liveness window (400): nothing vouches for the gap
    t.warp(401).await;
    t.attest_all(0..4, &healthy).await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::ProbationIncomplete);
    t.warp(100).await;
    t.readmit(p).await.expect("a full probation after the gap");
}

#[tokio::test]
async fn probation_restarts_when_the_url_changes() {
    let (mut t, p, s) = failed_over().await;
    let healthy = [(p, Seen::healthy()), (s, Seen::healthy())];
    t.attest_all(0..4, &healthy).await;
    t.warp(300).await;
    t.send_as_authority(ix::update_endpoint(
        &t.network,
        &t.authority.pubkey(),
        UpdateEndpointArgs {
            endpoint_id: p,
            url: Some("https://replacement.example".into()),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    t.attest_all(0..4, &healthy).await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::ProbationIncomplete);
    t.warp(100).await;
    t.readmit(p).await.expect("probation of the new server");
}

/// P fails and the group moves to S1; P recovers and serves its probation; then S1 and S2
/// fail together. Keepers that see every serving endpoint down still reach P: P is
/// readmitted and takes the role back, with no action from the authority.
#[tokio::test]
async fn a_correlated_outage_recovers_without_the_authority() {
    let mut t = TestNet::new(4, fast_policy()).await;
    let p = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s1 = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    let s2 = t.add_endpoint(0, Role::Standby, "prov-c", "ap").await;
    t.attest_all(
        0..4,
        &[
            (p, Seen::down()),
            (s1, Seen::healthy()),
            (s2, Seen::healthy()),
        ],
    )
    .await;
    let first = t.topology().await.primary_of(0).unwrap().id;
    assert_ne!(first, p);
    t.attest_all(
        0..4,
        &[
            (p, Seen::healthy()),
            (s1, Seen::healthy()),
            (s2, Seen::healthy()),
        ],
    )
    .await;
    t.warp(210).await;
    // both standbys fail together
    t.attest_all(
        0..4,
        &[(p, Seen::healthy()), (s1, Seen::down()), (s2, Seen::down())],
    )
    .await;
    assert_eq!(
        t.role_of(first).await,
        Some(Role::Primary),
        "nowhere to go yet"
    );
    t.readmit(p)
        .await
        .expect("P is readmitted on the keepers' probation votes");
    // P is a quorum-healthy standby now: anyone's trigger (or the next vote) moves the role
    t.trigger(0).await.expect("the group fails back to P");
    assert_eq!(t.role_of(p).await, Some(Role::Primary));
}

#[tokio::test]
async fn readmission_attacks() {
    let (mut t, p, s) = failed_over().await;
    assert_lifeline_err(t.readmit(s).await, LifelineError::NotQuarantined);
    assert_lifeline_err(t.readmit(77).await, LifelineError::EndpointNotFound);
    t.attest_all(0..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    t.warp(250).await;
    // a minority of keepers vouching is not enough
    t.attest_all(2..4, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::ProbationIncomplete);
    t.attest_all(2..4, &[(p, Seen::healthy()), (s, Seen::healthy())])
        .await;
    // a wrong group epoch
    let caller = Keypair::new();
    let epoch = t.topology().await.group_epoch(0);
    let ix = ix::readmit_endpoint(
        &t.network,
        &caller.pubkey(),
        ReadmitEndpointArgs {
            endpoint_id: p,
            expected_group_epoch: epoch + 1,
        },
    );
    assert_lifeline_err(
        t.send(&[ix], &[&caller]).await,
        LifelineError::EpochMismatch,
    );
    // paused
    t.pause(true).await;
    assert_lifeline_err(t.readmit(p).await, LifelineError::NetworkPaused);
}
