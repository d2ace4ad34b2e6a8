//! The end-to-end chaos suite: real keepers (the daemon) against the localnet's fault
//! endpoints, one scenario per test, with assertions on chain state and on the keepers'
//! transactions. Every scenario checks: no false migration, no missed migration, no
//! duplicate migration. Scenarios run one at a time (each runs a cluster and 4 keepers).
use std::time::{Duration, Instant};

use lifeline::state::{Reason, Role};
use lifeline_localnet::Fault;
use lifeline_tests::chaos::Chaos;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const DETECT: Duration = Duration::from_secs(15);
const P: u32 = 0; // primary (ep0)
const S: u32 = 1; // standby (ep1)

/// Each test runs on its own runtime; tokio's mutex is runtime-agnostic and safe to hold
/// across awaits.
async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

/// Asserts exactly one migration P → S for `rule`, and none after it for `quiet`.
async fn expect_one_migration(c: &Chaos, rules: &[Reason], quiet: Duration) {
    let m = c
        .wait_migration(0, DETECT)
        .await
        .expect("missed migration: none within 15 s");
    assert_eq!((m.from_id, m.to_id), (P, S));
    assert!(
        rules.contains(&Reason::from_u8(m.rule)),
        "rule {:?}, expected one of {rules:?}",
        Reason::from_u8(m.rule)
    );
    assert!(m.voter_count >= 3, "a quorum voted: {}", m.voter_count);
    tokio::time::sleep(quiet).await;
    assert_eq!(c.topology().history_total, 1, "duplicate migration");
}

/// Asserts no migration for `window`.
async fn expect_no_migration(c: &Chaos, window: Duration) {
    let until = Instant::now() + window;
    while Instant::now() < until {
        assert_eq!(c.topology().history_total, 0, "false migration");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_down() {
    let _g = serial().await;
    let c = Chaos::start(4, 4, 2).await;
    c.settle().await;
    c.net.faults.set("ep0", Fault::Down).unwrap();
    expect_one_migration(&c, &[Reason::Unreachable], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_frozen_answering_200_ok() {
    let _g = serial().await;
    let c = Chaos::start(4, 4, 2).await;
    c.settle().await;
    c.net.faults.set("ep0", Fault::Frozen).unwrap();
    expect_one_migration(&c, &[Reason::Stalled], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_slow() {
    let _g = serial().await;
    let c = Chaos::start(4, 4, 2).await;
    c.settle().await;
    // slower than the keepers' probe timeout (240 ms): probes fail
    c.net.faults.set("ep0", Fault::Slow { ms: 1_000 }).unwrap();
    expect_one_migration(
        &c,
        &[Reason::Unreachable, Reason::Latency, Reason::ErrorRate],
        Duration::from_secs(2),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_flapping_causes_no_migration_storm() {
    let _g = serial().await;
    let c = Chaos::start(4, 4, 2).await;
    c.settle().await;
    c.net
        .faults
        .set("ep0", Fault::Flapping { period_ms: 1_500 })
        .unwrap();
    let until = Instant::now() + Duration::from_secs(12);
    while Instant::now() < until {
        let t = c.topology();
        assert!(
            t.history_total <= 1,
            "migration storm: {} migrations",
            t.history_total
        );
        if t.history_total == 1 {
            // once ejected, a flapping node never passes probation (2 s healthy)
            assert_eq!(
                t.endpoint(P).unwrap().role(),
                Some(Role::Quarantined),
                "a flapping node was readmitted"
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_keeper_is_discounted() {
    let _g = serial().await;
    // keeper 3 is cut off from every endpoint and says so
    let mut c = Chaos::start(4, 3, 2).await;
    c.settle().await;
    c.keep_acting(3, Duration::from_secs(5), &[(P, 0, true), (S, 0, true)])
        .await;
    expect_no_migration(&c, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_minority_cannot_eject_a_healthy_primary() {
    let _g = serial().await;
    let mut c = Chaos::start(4, 3, 2).await;
    c.settle().await;
    // keeper 3 lies: the healthy primary is 1000 slots behind, the standby is fine
    c.keep_acting(
        3,
        Duration::from_secs(5),
        &[(P, 1_000, false), (S, 0, false)],
    )
    .await;
    expect_no_migration(&c, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_minority_cannot_save_a_dead_primary() {
    let _g = serial().await;
    let mut c = Chaos::start(4, 3, 2).await;
    c.settle().await;
    c.net.faults.set("ep0", Fault::Down).unwrap();
    // keeper 3 lies the other way: the dead primary is fine, the standby is dead
    c.keep_acting(3, Duration::from_secs(3), &[(P, 0, false), (S, 0, true)])
        .await;
    expect_one_migration(&c, &[Reason::Unreachable], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_killed_mid_send_and_restarted_never_double_votes() {
    let _g = serial().await;
    let mut c = Chaos::start(4, 4, 2).await;
    c.settle().await;
    c.net.faults.set("ep0", Fault::Frozen).unwrap();
    // the verdict flips now: keepers are attesting; kill one in the middle of it
    tokio::time::sleep(Duration::from_millis(900)).await;
    let before = c.report_seq(0);
    c.kill_keeper(0);
    c.start_keeper(0, c.net.rpc_url.clone()).await;
    expect_one_migration(&c, &[Reason::Stalled], Duration::from_secs(2)).await;
    assert!(
        c.report_seq(0) > before,
        "the restarted keeper attested again with a new sequence number"
    );
    assert_eq!(
        c.stat(0, |s| &s.attestations_failed),
        0,
        "no attestation was refused (no reused sequence)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_whose_rpc_is_down_fails_over_and_still_attests() {
    let _g = serial().await;
    let mut c = Chaos::start(4, 3, 2).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    c.start_keeper(3, format!("http://127.0.0.1:{dead}")).await;
    c.settle().await;
    assert!(c.stat(3, |s| &s.attestations_sent) > 0);
    c.net.faults.set("ep0", Fault::Down).unwrap();
    expect_one_migration(&c, &[Reason::Unreachable], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_healthy_standby_nothing_moves_and_the_keepers_say_why() {
    let _g = serial().await;
    let c = Chaos::start(4, 4, 2).await;
    c.settle().await;
    // The standby is reachable but degraded (5 slots behind: not healthy), the primary
    // freezes. (With both *down*, every keeper would see everything down and be treated
    // as cut off itself: that is the partition rule, tested above.)
    c.net
        .faults
        .set("ep1", Fault::Lagging { slots: 5 })
        .unwrap();
    c.net.faults.set("ep0", Fault::Frozen).unwrap();
    expect_no_migration(&c, Duration::from_secs(6)).await;
    assert_eq!(
        c.topology().endpoint(P).unwrap().role(),
        Some(Role::Primary),
        "the last endpoint is never ejected"
    );
    let blocked: u64 = (0..4).map(|k| c.stat(k, |s| &s.blocked_failovers)).sum();
    assert!(blocked > 0, "the keepers report the blocked failover");
}
