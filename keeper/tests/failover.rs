//! Real keepers (the daemon, in-process) against the localnet and its fault endpoints,
//! through the sandbox: they detect a frozen primary and the attestation that completes
//! the quorum migrates; they resume after a restart without a wasted attestation; and one
//! outside the set is refused. (A keeper's own RPC going down: `fields.rs`
//! `rpc_urls_are_failed_over_to_when_url_is_dead` and the chaos suite.)
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lifeline::state::Reason;
use lifeline_keeper::Keeper;
use lifeline_localnet::Fault;
use lifeline_sandbox::{Sandbox, SandboxConfig};
use solana_keypair::Keypair;
use solana_signer::Signer;

async fn sandbox(keepers: usize, daemons: usize) -> Sandbox {
    Sandbox::start(SandboxConfig {
        keepers,
        daemons,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepers_detect_a_frozen_primary_and_the_quorum_vote_migrates() {
    let sb = sandbox(4, 4).await;
    sb.settle(Duration::from_secs(20)).await.unwrap();
    // healthy: a few attestations while the streaks build, then quiet
    tokio::time::sleep(Duration::from_secs(2)).await;
    let quiet_from = sb.total(|s| &s.attestations_sent);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        sb.total(|s| &s.attestations_sent),
        quiet_from,
        "nothing changed: nobody attests"
    );
    assert_eq!(sb.topology().history_total, 0, "no migration while healthy");

    sb.fault("ep0", Fault::Frozen);
    let frozen_at = Instant::now();
    let m = sb
        .wait_migration(0, Duration::from_secs(20))
        .await
        .expect("a migration");
    eprintln!("frozen primary migrated after {:?}", frozen_at.elapsed());
    assert_eq!(m.rule, Reason::Stalled as u8);
    assert!(m.voter_count >= 3, "a quorum voted: {}", m.voter_count);
    assert_eq!(
        sb.topology().primary_of(0).unwrap().url(),
        sb.endpoint_url(1)
    );
    // the attestation that completed the quorum migrated in its own transaction
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sb.total(|s| &s.migrations_sent), 0, "no separate trigger");
    assert_eq!(sb.topology().history_total, 1, "no duplicate migration");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_outside_the_set_is_refused_with_a_clear_error() {
    let sb = sandbox(1, 0).await;
    let stranger = Keypair::new();
    let err = Keeper::new(sb.keeper_config(&[]).unwrap(), stranger)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("not in the network's keeper set"),
        "{err}"
    );
    let nowhere = Keypair::new().pubkey().to_string();
    let err = Keeper::new(
        sb.keeper_config(&[("network", nowhere)]).unwrap(),
        Keypair::new(),
    )
    .await
    .err()
    .expect("refused");
    assert!(err.to_string().contains("not a Lifeline network"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_keeper_resumes_its_sequence_and_costs_no_attestation() {
    let mut sb = sandbox(1, 1).await;
    // until its healthy votes are on chain (the streak must reach recovery_windows)
    assert!(
        sb.wait_for(Duration::from_secs(20), |s| {
            let row = &s.ballot.reports[0];
            (0..s.topology.endpoints().len()).all(|j| row.votes[j].votes_healthy())
        })
        .await
    );
    sb.kill_keeper(0);
    let seq = sb.report(0).seq;
    assert!(seq >= 1);
    sb.start_keeper(0).await.unwrap();
    let stats = sb.stats(0).unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // Nothing changed: the restarted keeper resumes its streaks from chain and stays
    // quiet (its votes stand); nothing was refused, no sequence number reused.
    assert_eq!(sb.report(0).seq, seq);
    assert_eq!(stats.attestations_sent.load(Ordering::Relaxed), 0);
    assert_eq!(stats.attestations_failed.load(Ordering::Relaxed), 0);
    assert!(stats.probes.load(Ordering::Relaxed) > 0, "it did probe");
}

/// A quiet keeper sends one heartbeat per heartbeat period (a third of `liveness_slots`),
/// never two: it decides on the row its last landed attestation left, even while its
/// reads (at `confirmed`) still show the one before. Counted against chain slots, so a
/// slow machine only lowers the count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_keeper_heartbeats_once_per_period() {
    let sb = Sandbox::start(SandboxConfig {
        slot: Duration::from_millis(200),
        probe_interval: Duration::from_millis(500),
        policy: lifeline::state::PolicyParams {
            liveness_slots: 60, // a heartbeat every 20 slots
            ..lifeline_sandbox::fast_policy()
        },
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    sb.settle(Duration::from_secs(20)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await; // past the streak-building votes
    let heartbeats = |sb: &Sandbox| -> Vec<u64> {
        (0..4)
            .map(|k| {
                let stats = sb.stats(k).unwrap();
                let by = stats.attestations_by_trigger.lock().unwrap();
                by.get("heartbeat").copied().unwrap_or(0)
            })
            .collect()
    };
    let (before, from_slot) = (heartbeats(&sb), sb.state().slot);
    tokio::time::sleep(Duration::from_secs(24)).await;
    let (after, to_slot) = (heartbeats(&sb), sb.state().slot);
    let periods = (to_slot - from_slot) / 20;
    for (k, (a, b)) in after.iter().zip(&before).enumerate() {
        let sent = a - b;
        assert!(
            sent <= periods + 1,
            "keeper {k} sent {sent} heartbeats in {} slots (a period is 20 slots)",
            to_slot - from_slot
        );
        assert!(sent >= 1, "keeper {k} never sent a heartbeat");
    }
}
