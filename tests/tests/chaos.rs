//! The end-to-end chaos suite: real keepers (the daemon) against the localnet's fault
//! endpoints, one scenario per test, with assertions on chain state and on the keepers'
//! transactions. Every scenario checks: no false migration, no missed migration, no
//! duplicate migration. Scenarios run one at a time (each runs a cluster and keepers).
use std::time::{Duration, Instant};

use lifeline::state::{Reason, Role};
use lifeline_localnet::Fault;
use lifeline_sandbox::{SandboxConfig, Seen};
use lifeline_tests::scenario::{
    expect_no_migration, expect_one_migration, serial, standard, start, DETECT,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_down() {
    let _g = serial().await;
    let sb = standard().await;
    sb.fault("ep0", Fault::Down);
    expect_one_migration(&sb, 0, 1, &[Reason::Unreachable], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_frozen_answering_200_ok() {
    let _g = serial().await;
    let sb = standard().await;
    sb.fault("ep0", Fault::Frozen);
    expect_one_migration(&sb, 0, 1, &[Reason::Stalled], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_slow() {
    let _g = serial().await;
    let sb = standard().await;
    // slower than the policy's latency_down_ms (the keepers' default probe timeout)
    let down_ms = sb.config.policy.latency_down_ms as u64;
    sb.fault("ep0", Fault::Slow { ms: down_ms * 2 });
    expect_one_migration(&sb, 0, 1, &[Reason::Latency], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_erroring() {
    let _g = serial().await;
    let sb = standard().await;
    sb.fault("ep0", Fault::Errors { percent: 100 });
    expect_one_migration(&sb, 0, 1, &[Reason::ErrorRate], Duration::from_secs(2)).await;
}

/// Two endpoints flap (a primary and the preferred standby), a third is steady. A
/// flapping node never counts as healthy, so it is never promoted and never readmitted
/// while it flaps: one migration, to the steady one, whatever the flapping does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flapping_nodes_cause_no_migration_storm() {
    let _g = serial().await;
    let sb = start(SandboxConfig {
        endpoints: 3,
        ..SandboxConfig::default()
    })
    .await;
    sb.fault("ep0", Fault::Flapping { period_ms: 1_500 });
    sb.fault("ep1", Fault::Flapping { period_ms: 1_100 });
    let (p, flapping_standby, steady) = (sb.endpoint_id(0), sb.endpoint_id(1), sb.endpoint_id(2));
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        let t = sb.topology();
        assert!(
            t.history_total <= 1,
            "migration storm: {} migrations",
            t.history_total
        );
        if let Some(m) = t.recent_migrations().next() {
            assert_eq!(
                (m.from_id, m.to_id),
                (p, steady),
                "promoted only the steady node"
            );
            assert_eq!(
                t.endpoint(p).unwrap().role(),
                Some(Role::Quarantined),
                "a flapping node was readmitted"
            );
        }
        assert_ne!(
            t.endpoint(flapping_standby).unwrap().role(),
            Some(Role::Primary),
            "a flapping standby was promoted"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        sb.topology().history_total,
        1,
        "the flapping primary was failed over"
    );
}

/// Two keepers falsely claim the healthy primary unreachable (the most a set of four
/// tolerates); a third keeper is cut off and sees every endpoint unreachable. Counting
/// the cut-off keeper's votes would make a quorum of three: it is discounted, so nothing
/// moves. The control at the end shows the same third vote does tip it when the keeper
/// is not cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_keeper_is_discounted() {
    let _g = serial().await;
    let mut sb = start(SandboxConfig {
        daemons: 1,
        ..SandboxConfig::default()
    })
    .await;
    let (p, s) = (sb.endpoint_id(0), sb.endpoint_id(1));
    let liar = [(p, Seen::down()), (s, Seen::healthy())];
    let cut_off = [(p, Seen::down()), (s, Seen::down())];
    for _ in 0..15 {
        sb.act(1, &liar).unwrap();
        sb.act(2, &liar).unwrap();
        sb.act(3, &cut_off).unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            sb.topology().history_total,
            0,
            "the cut-off keeper's votes counted"
        );
    }
    sb.act(3, &liar).unwrap();
    assert!(
        sb.wait_migration(0, Duration::from_secs(2)).await.is_some(),
        "control: the same vote from a keeper that reaches the standby completes the quorum"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_minority_cannot_eject_a_healthy_primary() {
    let _g = serial().await;
    let mut sb = start(SandboxConfig {
        daemons: 3,
        ..SandboxConfig::default()
    })
    .await;
    let (p, s) = (sb.endpoint_id(0), sb.endpoint_id(1));
    // keeper 3 lies: the healthy primary is frozen, the standby is fine
    sb.keep_acting(
        3,
        Duration::from_secs(5),
        &[(p, Seen::frozen()), (s, Seen::healthy())],
    )
    .await
    .unwrap();
    expect_no_migration(&sb, Duration::from_secs(1)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lying_minority_cannot_save_a_dead_primary() {
    let _g = serial().await;
    let mut sb = start(SandboxConfig {
        daemons: 3,
        ..SandboxConfig::default()
    })
    .await;
    let (p, s) = (sb.endpoint_id(0), sb.endpoint_id(1));
    sb.fault("ep0", Fault::Down);
    // keeper 3 lies the other way: the dead primary is fine, the standby is dead
    sb.keep_acting(
        3,
        Duration::from_secs(3),
        &[(p, Seen::healthy()), (s, Seen::down())],
    )
    .await
    .unwrap();
    expect_one_migration(&sb, 0, 1, &[Reason::Unreachable], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_killed_mid_send_and_restarted_never_double_votes() {
    let _g = serial().await;
    let mut sb = standard().await;
    sb.fault("ep0", Fault::Frozen);
    // the verdict flips now: keepers are attesting; kill one in the middle of it
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = sb.report(0).seq;
    sb.kill_keeper(0);
    sb.start_keeper(0).await.unwrap();
    expect_one_migration(&sb, 0, 1, &[Reason::Stalled], Duration::from_secs(2)).await;
    assert!(
        sb.report(0).seq >= before,
        "the restarted keeper resumed from its on-chain sequence"
    );
    let restarted = sb.stats(0).unwrap();
    assert_eq!(
        restarted
            .attestations_failed
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "no attestation was refused (no reused sequence)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_whose_rpc_is_down_fails_over_and_still_attests() {
    let _g = serial().await;
    let mut sb = start(SandboxConfig {
        daemons: 3,
        ..SandboxConfig::default()
    })
    .await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rpc = sb.net.rpc_url.clone();
    sb.start_keeper_with(
        3,
        &[
            ("url", format!("http://127.0.0.1:{dead}")),
            ("rpc_urls", format!("[\"{rpc}\"]")),
        ],
    )
    .await
    .unwrap();
    sb.settle(Duration::from_secs(20)).await.unwrap();
    sb.fault("ep0", Fault::Down);
    expect_one_migration(&sb, 0, 1, &[Reason::Unreachable], Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_healthy_standby_nothing_moves_and_the_keepers_say_why() {
    let _g = serial().await;
    let sb = standard().await;
    // The standby is reachable but degraded (5 slots behind: not healthy), the primary
    // freezes.
    sb.fault("ep1", Fault::Lagging { slots: 5 });
    sb.fault("ep0", Fault::Frozen);
    expect_no_migration(&sb, Duration::from_secs(6)).await;
    assert_eq!(
        sb.topology().endpoint(sb.endpoint_id(0)).unwrap().role(),
        Some(Role::Primary),
        "the last endpoint is never ejected"
    );
    assert!(
        sb.total(|s| &s.blocked_failovers) > 0,
        "the keepers report the blocked failover"
    );
}

/// A regional outage takes three groups' primaries down at once. Votes about one group
/// survive another group's migration, so all three migrate on the same round of votes:
/// the attestation that completes the quorum migrates every group it completes, in one
/// transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_groups_fail_at_once_and_migrate_together() {
    let _g = serial().await;
    let sb = start(SandboxConfig {
        endpoints: 6,
        groups: vec![vec![0, 1], vec![2, 3], vec![4, 5]],
        ..SandboxConfig::default()
    })
    .await;
    for ep in ["ep0", "ep2", "ep4"] {
        sb.fault(ep, Fault::Down);
    }
    assert!(
        sb.wait_for(DETECT, |s| s.topology.history_total >= 3).await,
        "missed migrations: {}",
        sb.topology().history_total
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let t = sb.topology();
    assert_eq!(t.history_total, 3, "one migration per group");
    let records: Vec<_> = t.recent_migrations().collect();
    for (g, (from, to)) in [(0u8, (0, 1)), (1, (2, 3)), (2, (4, 5))] {
        let m = records
            .iter()
            .find(|m| m.group == g)
            .expect("group migrated");
        assert_eq!(
            (m.from_id, m.to_id),
            (sb.endpoint_id(from), sb.endpoint_id(to))
        );
    }
    let first = records.iter().map(|m| m.slot).min().unwrap();
    let last = records.iter().map(|m| m.slot).max().unwrap();
    assert!(
        last - first <= 1,
        "the three migrations landed within a slot of each other ({first}..{last}), not a round each"
    );
}

/// P fails and the group moves to S1; P recovers and serves its quarantine and probation;
/// meanwhile S1 and S2 fail together. Every keeper sees every serving endpoint down but
/// still reaches P: they are not cut off, P is readmitted when its quarantine ends and
/// takes the role back — nobody touches the authority key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correlated_outage_recovers_without_the_authority() {
    let _g = serial().await;
    let sb = start(SandboxConfig {
        endpoints: 3,
        ..SandboxConfig::default()
    })
    .await;
    let (p, s1, s2) = (sb.endpoint_id(0), sb.endpoint_id(1), sb.endpoint_id(2));
    sb.fault("ep0", Fault::Down);
    let first = sb.wait_migration(0, DETECT).await.expect("P fails over");
    assert_eq!(first.from_id, p);
    assert!(first.to_id == s1 || first.to_id == s2);
    sb.fault("ep0", Fault::Healthy);
    tokio::time::sleep(Duration::from_secs(2)).await;
    sb.fault("ep1", Fault::Down);
    sb.fault("ep2", Fault::Down);
    // quarantine: 100 slots of 100 ms after the first migration
    let recovered = sb
        .wait_for(Duration::from_secs(30), |s| {
            s.topology.primary_of(0).map(|e| e.id) == Some(p)
        })
        .await;
    let t = sb.topology();
    assert!(
        recovered,
        "P never took the role back: {:?}",
        t.endpoints()
            .iter()
            .map(|e| (e.id, e.role()))
            .collect::<Vec<_>>()
    );
    assert_eq!(t.history_total, 2, "one failover, one fail-back");
    let back = t
        .recent_migrations()
        .next()
        .copied()
        .expect("the fail-back");
    assert_eq!(back.to_id, p, "the fail-back promoted P");
    assert!(back.from_id == s1 || back.from_id == s2);
    // The readmission landed before the fail-back could; the keeper that sent it counts
    // it once its confirmation poll sees it, which on a loaded machine can trail the
    // fail-back by a few polls.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sb.total(|s| &s.readmissions_sent) == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        sb.total(|s| &s.readmissions_sent) >= 1,
        "a keeper readmitted P (readmissions sent {}, send failures {})",
        sb.total(|s| &s.readmissions_sent),
        sb.total(|s| &s.send_failures)
    );
}
