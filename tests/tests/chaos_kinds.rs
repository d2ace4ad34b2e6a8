//! The chaos suite for every endpoint kind: a topology with one group per kind (RPC,
//! PubSub WebSocket, oracle, HTTP gateway, Yellowstone gRPC), each a primary and a
//! standby, probed by four
//! real keepers. Healthy endpoints of every kind are judged healthy by every keeper; each
//! kind, once faulted, is failed over — no false, missed or duplicate migration. Also the
//! fork check (a forked RPC primary), and a keeper whose own RPC lags.
use std::time::Duration;

use lifeline::state::{Reason, Verdict};
use lifeline_localnet::{Fault, LocalnetConfig};
use lifeline_sandbox::{Sandbox, SandboxConfig, Seen};
use lifeline_tests::scenario::{
    check_migration, expect_migrations, expect_no_migration, expect_one_migration, serial,
    standard, start,
};

/// ep0/ep1 (rpc), ws0/ws1 (websocket), or0/or1 (oracle), gw0/gw1 (gateway), gr0/gr1
/// (Yellowstone gRPC): one group each.
fn every_kind() -> SandboxConfig {
    SandboxConfig {
        endpoints: 2,
        groups: vec![vec![0, 1], vec![2, 3], vec![4, 5], vec![6, 7], vec![8, 9]],
        localnet: LocalnetConfig {
            websocket_endpoints: 2,
            oracle_endpoints: 2,
            gateway_endpoints: 2,
            grpc_endpoints: 2,
            ..LocalnetConfig::ephemeral()
        },
        ..SandboxConfig::default()
    }
}

/// Faults the primaries of `kinds` (by name) and expects each group to fail over to its
/// standby for one of `rules`, and nothing else to move.
async fn fail_primaries(sb: &Sandbox, primaries: &[&str], fault: Fault, rules: &[Reason]) {
    for name in primaries {
        sb.fault(name, fault);
    }
    let migrations = expect_migrations(sb, primaries.len() as u64, Duration::from_secs(2)).await;
    for name in primaries {
        let from = sb.endpoint_index(name);
        let m = migrations
            .iter()
            .find(|m| m.from_id == sb.endpoint_id(from))
            .unwrap_or_else(|| panic!("{name} was not failed over"));
        check_migration(sb, m, from, from + 1, rules);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthy_endpoints_of_every_kind_are_judged_healthy_by_every_keeper() {
    let _g = serial().await;
    let sb = start(every_kind()).await;
    expect_no_migration(&sb, Duration::from_secs(4)).await;
    let t = sb.topology();
    for k in 0..4 {
        let row = sb.report(k);
        for (j, e) in t.endpoints().iter().enumerate() {
            assert_eq!(
                row.votes[j].verdict(),
                Verdict::Healthy,
                "keeper {k} judged endpoint {} ({:?}, {}) {:?}",
                e.id,
                e.kind(),
                e.url(),
                row.votes[j]
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_fails_over_when_its_primary_goes_down() {
    let _g = serial().await;
    let sb = start(every_kind()).await;
    fail_primaries(
        &sb,
        &["ws0", "or0", "gw0", "gr0"],
        Fault::Down,
        &[Reason::Unreachable],
    )
    .await;
}

/// A frozen PubSub or gRPC stream stays open and stops announcing slots: judged by
/// stall like a frozen RPC node. A frozen oracle's timestamp stops: judged by its age. A gateway has
/// no notion of freshness: frozen, it is served healthy and must not move.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_streams_and_oracles_fail_over_and_a_gateway_has_nothing_to_freeze() {
    let _g = serial().await;
    let sb = start(every_kind()).await;
    sb.fault("gw0", Fault::Frozen);
    fail_primaries(
        &sb,
        &["ws0", "or0", "gr0"],
        Fault::Frozen,
        &[Reason::Stalled, Reason::SlotLag],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_endpoints_of_every_kind_fail_over() {
    let _g = serial().await;
    let sb = start(every_kind()).await;
    let down_ms = sb.config.policy.latency_down_ms as u64;
    // A slow PubSub also delivers its notifications late, so it falls behind too.
    fail_primaries(
        &sb,
        &["ws0", "or0", "gw0", "gr0"],
        Fault::Slow { ms: down_ms * 2 },
        &[Reason::Latency, Reason::SlotLag, Reason::Stalled],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erroring_endpoints_of_every_kind_fail_over() {
    let _g = serial().await;
    let sb = start(every_kind()).await;
    fail_primaries(
        &sb,
        &["ws0", "or0", "gw0", "gr0"],
        Fault::Errors { percent: 100 },
        &[Reason::ErrorRate],
    )
    .await;
}

/// A primary that answers like a healthy node, at the current slot, but serves another
/// fork's block hashes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_primary_is_failed_over() {
    let _g = serial().await;
    let sb = standard().await;
    sb.fault("ep0", Fault::Forked);
    expect_one_migration(&sb, 0, 1, &[Reason::Divergent], Duration::from_secs(2)).await;
}

/// One keeper claiming the healthy primary serves another fork changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_keeper_claiming_divergence_changes_nothing() {
    let _g = serial().await;
    let mut sb = start(SandboxConfig {
        daemons: 3,
        ..SandboxConfig::default()
    })
    .await;
    let (p, s) = (sb.endpoint_id(0), sb.endpoint_id(1));
    let forked = Seen {
        divergent: true,
        ..Seen::healthy()
    };
    sb.keep_acting(
        3,
        Duration::from_secs(4),
        &[(p, forked), (s, Seen::healthy())],
    )
    .await
    .unwrap();
    expect_no_migration(&sb, Duration::from_secs(1)).await;
}

/// Every keeper's own RPC (its url, its only lag reference) is a node 20 slots behind,
/// and its PubSub is unreachable. A frozen primary is still detected: its slot stops
/// while the (late) reference keeps moving, and it is failed over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepers_whose_own_rpc_lags_20_slots_still_fail_over_a_frozen_primary() {
    let _g = serial().await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // ep2 is outside the topology: the keepers' own lagging RPC.
    let mut sb = Sandbox::start(SandboxConfig {
        endpoints: 3,
        groups: vec![vec![0, 1]],
        daemons: 0,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    sb.fault("ep2", Fault::Lagging { slots: 20 });
    // past slot 40, so that 20 behind is not clamped at genesis
    assert!(sb.wait_for(Duration::from_secs(10), |s| s.slot > 40).await);
    let own = sb.endpoint_url(2);
    for k in 0..4 {
        sb.start_keeper_with(
            k,
            &[
                ("url", own.clone()),
                ("ws_url", format!("ws://127.0.0.1:{dead}")),
            ],
        )
        .await
        .unwrap();
    }
    sb.settle(Duration::from_secs(20)).await.unwrap();
    let row = sb.report(0);
    assert!(
        row.submitted_slot >= row.reference_slot + 15,
        "the keepers' reference really lags: attested reference {} at slot {}",
        row.reference_slot,
        row.submitted_slot
    );
    sb.fault("ep0", Fault::Frozen);
    expect_one_migration(
        &sb,
        0,
        1,
        &[Reason::Stalled, Reason::SlotLag],
        Duration::from_secs(2),
    )
    .await;
}
