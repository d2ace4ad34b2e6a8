//! The chaos suite against hostile endpoints: real keepers (the daemon) against endpoints
//! that lie about the future, answer giant, endless, trickling or malformed bodies,
//! redirect in loops, or flap their latency across a threshold. Every scenario checks: no
//! false migration, no missed migration, no duplicate migration — and that the keepers
//! keep attesting. Scenarios run one at a time.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline::state::Reason;
use lifeline_client::{FailoverRpc, RouterConfig, TopologyWatcher, WatcherConfig};
use lifeline_localnet::{Fault, LocalnetConfig};
use lifeline_sandbox::SandboxConfig;
use lifeline_tests::scenario::{
    expect_no_migration, expect_one_migration, serial, standard, start,
};
use solana_commitment_config::CommitmentConfig;

/// Faults that make the primary's answers unusable: each fails it over, for its rule.
async fn primary_fails_over_under(fault: Fault, rules: &[Reason]) {
    let _g = serial().await;
    let sb = standard().await;
    let before = sb.total(|s| &s.attestations_sent);
    sb.fault("ep0", fault);
    expect_one_migration(&sb, 0, 1, rules, Duration::from_secs(2)).await;
    assert!(
        sb.total(|s| &s.attestations_sent) > before,
        "{fault}: the keepers kept attesting"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_answering_from_the_future_is_failed_over_as_a_liar() {
    primary_fails_over_under(Fault::Future { slots: 1_000_000 }, &[Reason::Future]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_answering_64_mib_bodies_is_failed_over() {
    primary_fails_over_under(Fault::Giant { mib: 64 }, &[Reason::ErrorRate]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_answering_endless_bodies_is_failed_over() {
    primary_fails_over_under(Fault::Endless, &[Reason::ErrorRate]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_answering_a_byte_a_second_is_failed_over() {
    primary_fails_over_under(Fault::Trickle, &[Reason::Latency, Reason::ErrorRate]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_answering_malformed_json_is_failed_over() {
    primary_fails_over_under(Fault::Garbage, &[Reason::ErrorRate]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_redirecting_in_a_loop_is_failed_over() {
    primary_fails_over_under(Fault::Redirect, &[Reason::ErrorRate]).await;
}

/// A websocket primary sending giant messages, floods or garbage is failed over; the
/// keepers' streams are cut, not buffered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_primary_sending_giant_endless_or_garbage_messages_is_failed_over() {
    for fault in [Fault::Giant { mib: 64 }, Fault::Endless, Fault::Garbage] {
        let _g = serial().await;
        let sb = start(SandboxConfig {
            endpoints: 0,
            localnet: LocalnetConfig {
                websocket_endpoints: 2,
                ..LocalnetConfig::ephemeral()
            },
            ..SandboxConfig::default()
        })
        .await;
        sb.fault("ws0", fault);
        expect_one_migration(
            &sb,
            0,
            1,
            &[
                Reason::ErrorRate,
                Reason::Latency,
                Reason::Stalled,
                Reason::SlotLag,
                Reason::Unreachable,
            ],
            Duration::from_secs(2),
        )
        .await;
    }
}

/// A standby whose latency flaps across `latency_degraded_ms` at every probe: never a
/// migration, and the keepers stay near their heartbeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_flapping_across_a_latency_threshold_moves_nothing_and_costs_little() {
    let _g = serial().await;
    let sb = standard().await;
    let degraded = sb.config.policy.latency_degraded_ms as u64;
    tokio::time::sleep(Duration::from_secs(3)).await; // past the streak-building votes
    let before = sb.total(|s| &s.attestations_sent);
    sb.fault("ep1", Fault::Wobble { ms: degraded + 50 });
    let window = Duration::from_secs(15);
    expect_no_migration(&sb, window).await;
    let sent = sb.total(|s| &s.attestations_sent) - before;
    // Per keeper: the healthy vote lost at once; then each regain must stand the debounce
    // on chain before it is attested, after which the next slow probe loses it again (two
    // per debounce); plus heartbeats. Per-probe attesting would be one per probe interval.
    use lifeline_keeper::attest::{debounce_slots, heartbeat_slots};
    let policy: lifeline::state::Policy = sb.config.policy.into();
    let slot = sb.config.slot.as_millis() as u64;
    let (debounce_ms, heartbeat_ms) = (
        debounce_slots(&policy) * slot,
        heartbeat_slots(&policy) * slot,
    );
    let w = window.as_millis() as u64;
    let per_keeper = 1 + 2 * w.div_ceil(debounce_ms) + w.div_ceil(heartbeat_ms);
    let per_probe = w / sb.config.probe_interval.as_millis() as u64;
    eprintln!(
        "{sent} attestations from 4 keepers in {window:?} of flapping (bound {}, per probe {})",
        4 * per_keeper,
        4 * per_probe
    );
    assert!(
        sent <= 4 * per_keeper,
        "{sent} attestations from 4 keepers in {window:?} of flapping: over {per_keeper} each"
    );
}

/// An endpoint answers one probe with slot 2^63 for 5 s; afterwards a primary serving
/// another fork is failed over as fast as without it (the fork book's window moves with
/// trusted slots only).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_an_answer_from_2_pow_63_a_forked_primary_is_still_caught() {
    let _g = serial().await;
    let sb = start(SandboxConfig {
        endpoints: 3,
        ..SandboxConfig::default()
    })
    .await;
    sb.fault("ep2", Fault::Future { slots: 1 << 63 });
    tokio::time::sleep(Duration::from_secs(5)).await;
    sb.fault("ep2", Fault::Healthy);
    tokio::time::sleep(Duration::from_secs(1)).await;
    // ep2, the standby that lied, is voted down for it; ep0 forks
    let forked_at = Instant::now();
    sb.fault("ep0", Fault::Forked);
    expect_one_migration(&sb, 0, 1, &[Reason::Divergent], Duration::from_secs(1)).await;
    let took = forked_at.elapsed();
    eprintln!("forked primary failed over {took:?} after it forked (a slot 2^63 seen before)");
}

/// The Rust client keeps serving while its primary answers from the future for 3 s: the
/// honest standby serves, and afterwards the primary again — nothing refused for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rust_client_serves_through_answers_from_the_future() {
    let _g = serial().await;
    let sb = start(SandboxConfig {
        endpoints: 2,
        daemons: 0,
        ..SandboxConfig::default()
    })
    .await;
    let watcher = TopologyWatcher::start(WatcherConfig::new(
        sb.net.rpc_url.clone(),
        Some(sb.net.ws_url.clone()),
        sb.network,
    ))
    .await
    .expect("watcher");
    let rpc = FailoverRpc::following(
        &watcher,
        RouterConfig {
            breaker_cooldown: Duration::from_millis(300),
            ..RouterConfig::default()
        },
    )
    .into_rpc_client(CommitmentConfig::confirmed());
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let run = |d: Duration| {
        let rpc = &rpc;
        let (ok, failed) = (ok.clone(), failed.clone());
        async move {
            let until = Instant::now() + d;
            while Instant::now() < until {
                match rpc
                    .get_balance(&anchor_lang::prelude::Pubkey::default())
                    .await
                {
                    Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    run(Duration::from_secs(2)).await;
    sb.fault("ep0", Fault::Future { slots: 1_000_000 });
    run(Duration::from_secs(3)).await;
    sb.fault("ep0", Fault::Healthy);
    run(Duration::from_secs(3)).await;
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("served {ok}, failed {failed}");
    assert!(
        ok * 100 >= (ok + failed) * 99,
        "≥ 99 % served: {ok} of {}",
        ok + failed
    );
}
