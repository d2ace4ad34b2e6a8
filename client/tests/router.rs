//! FailoverRpc and TopologyWatcher against the localnet's fault-injecting endpoints.
use std::time::{Duration, Instant};

use lifeline::instructions::ForceFailoverArgs;
use lifeline_client::{ix, FailoverRpc, RouterConfig, TopologyWatcher, WatcherConfig};
use lifeline_localnet::Fault;
use lifeline_sandbox::{Sandbox, SandboxConfig};
use solana_commitment_config::CommitmentConfig;
use solana_signer::Signer;

struct Setup {
    sb: Sandbox,
    urls: Vec<String>,
}

impl Setup {
    /// A network whose group 0 is ep0 (primary), ep1 and ep2 (standbys, in that order);
    /// no keepers (the tests move the role by hand).
    async fn new() -> Self {
        let sb = Sandbox::start(SandboxConfig {
            name: "routed".into(),
            endpoints: 3,
            keepers: 0,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        Self {
            urls: sb.net.endpoint_urls(),
            sb,
        }
    }

    fn send(&self, ixs: &[solana_instruction::Instruction]) {
        self.sb.net.send(&self.sb.authority, ixs).expect("lands");
    }

    async fn watcher(&self, ws: bool) -> TopologyWatcher {
        let mut cfg = WatcherConfig::new(
            self.sb.net.rpc_url.clone(),
            ws.then(|| self.sb.net.ws_url.clone()),
            self.sb.network,
        );
        cfg.poll_interval = Duration::from_millis(if ws { 2_000 } else { 100 });
        TopologyWatcher::start(cfg).await.expect("watcher starts")
    }
}

fn fast_breaker() -> RouterConfig {
    RouterConfig {
        breaker_cooldown: Duration::from_millis(300),
        timeout: Duration::from_secs(2),
        ..RouterConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watcher_sees_the_topology_and_its_changes() {
    let s = Setup::new().await;
    for ws in [true, false] {
        let watcher = s.watcher(ws).await;
        let view = watcher.current();
        assert_eq!(view.primary(0).unwrap().url, s.urls[0]);
        assert_eq!(
            view.standbys(0)
                .iter()
                .map(|e| e.url.clone())
                .collect::<Vec<_>>(),
            s.urls[1..].to_vec()
        );
        let epoch = view.epoch;
        let mut rx = watcher.subscribe();
        let to_id = view.standbys(0)[0].id;
        s.send(&[ix::force_failover(
            &s.sb.network,
            &s.sb.authority.pubkey(),
            ForceFailoverArgs {
                group: 0,
                to_id,
                expected_group_epoch: view.group_epoch(0),
                quarantine_old: false,
            },
        )]);
        tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|v| v.epoch > epoch))
            .await
            .expect("new epoch seen (ws={ws})")
            .unwrap();
        assert_eq!(watcher.current().primary(0).unwrap().id, to_id, "ws={ws}");
        // put it back for the next round
        let back = watcher
            .current()
            .standbys(0)
            .iter()
            .find(|e| e.url == s.urls[0])
            .unwrap()
            .id;
        s.send(&[ix::force_failover(
            &s.sb.network,
            &s.sb.authority.pubkey(),
            ForceFailoverArgs {
                group: 0,
                to_id: back,
                // the first failover made the new epoch the group's epoch
                expected_group_epoch: epoch + 1,
                quarantine_old: false,
            },
        )]);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_keep_succeeding_through_a_primary_going_down() {
    let s = Setup::new().await;
    let watcher = s.watcher(true).await;
    let router = FailoverRpc::following(&watcher, fast_breaker());
    let client = router
        .clone()
        .into_rpc_client(CommitmentConfig::confirmed());
    for i in 0..40 {
        if i == 10 {
            s.sb.net.faults.set("ep0", Fault::Down).unwrap();
        }
        client
            .get_balance(&s.sb.authority.pubkey())
            .await
            .unwrap_or_else(|e| panic!("call {i} failed: {e}"));
    }
    let served = router.served();
    assert!(served.get(&s.urls[0]).copied().unwrap_or(0) >= 10);
    assert!(
        served.get(&s.urls[1]).copied().unwrap_or(0) >= 25,
        "{served:?}"
    );
    assert_eq!(router.last_endpoint().as_deref(), Some(s.urls[1].as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_migration_the_router_uses_the_new_primary() {
    let s = Setup::new().await;
    let watcher = s.watcher(true).await;
    let router = FailoverRpc::following(&watcher, RouterConfig::default());
    let client = router
        .clone()
        .into_rpc_client(CommitmentConfig::confirmed());
    client.get_slot().await.unwrap();
    assert_eq!(router.last_endpoint().as_deref(), Some(s.urls[0].as_str()));
    let view = watcher.current();
    let ep2 = view.standbys(0)[1].id;
    s.send(&[ix::force_failover(
        &s.sb.network,
        &s.sb.authority.pubkey(),
        ForceFailoverArgs {
            group: 0,
            to_id: ep2,
            expected_group_epoch: view.group_epoch(0),
            quarantine_old: true,
        },
    )]);
    let mut rx = watcher.subscribe();
    tokio::time::timeout(
        Duration::from_secs(5),
        rx.wait_for(|v| v.epoch > view.epoch),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        router.candidates(),
        vec![s.urls[2].clone(), s.urls[1].clone()],
        "new primary first; the quarantined one is gone"
    );
    client.get_slot().await.unwrap();
    assert_eq!(router.last_endpoint().as_deref(), Some(s.urls[2].as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_endpoints_stale_answer_is_refused() {
    let s = Setup::new().await;
    let watcher = s.watcher(true).await;
    let router = FailoverRpc::following(&watcher, RouterConfig::default());
    let client = router
        .clone()
        .into_rpc_client(CommitmentConfig::confirmed());
    client.get_latest_blockhash().await.unwrap();
    let floor = router.floor(CommitmentConfig::confirmed());
    assert!(floor > 0);
    s.sb.net
        .faults
        .set("ep0", Fault::Lagging { slots: 30 })
        .unwrap();
    let before = router.served().get(&s.urls[0]).copied().unwrap_or(0);
    let slot = client.get_slot().await.unwrap();
    assert!(slot >= floor, "served slot {slot} is not behind {floor}");
    assert_eq!(
        router.last_endpoint().as_deref(),
        Some(s.urls[1].as_str()),
        "ep0's stale answer was refused"
    );
    assert_eq!(
        router.served().get(&s.urls[0]).copied().unwrap_or(0),
        before
    );

    // with only the lagging endpoint, the router errs rather than going back in time
    let only_lagging = FailoverRpc::with_urls(vec![s.urls[0].clone()], RouterConfig::default());
    let fresh = FailoverRpc::with_urls(vec![s.urls[1].clone()], RouterConfig::default());
    let _ = fresh
        .clone()
        .into_rpc_client(CommitmentConfig::confirmed())
        .get_slot()
        .await
        .unwrap();
    let mixed = FailoverRpc::with_urls(
        vec![s.urls[1].clone(), s.urls[0].clone()],
        RouterConfig::default(),
    );
    let mixed_client = mixed.clone().into_rpc_client(CommitmentConfig::confirmed());
    mixed_client.get_slot().await.unwrap();
    s.sb.net.faults.set("ep1", Fault::Down).unwrap();
    // wait until ep1's port is really closed (a pooled connection could answer until then)
    let deadline = Instant::now() + Duration::from_secs(5);
    while reqwest::Client::new()
        .post(&s.urls[1])
        .body("{}")
        .send()
        .await
        .is_ok()
    {
        assert!(Instant::now() < deadline, "ep1 never went down");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let err = mixed_client
        .get_slot()
        .await
        .expect_err("only a stale answer is left");
    assert!(err.to_string().contains("behind slot"), "{err}");
    let _ = only_lagging;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_circuit_breaker_readmits_a_recovered_endpoint() {
    let s = Setup::new().await;
    let watcher = s.watcher(true).await;
    let router = FailoverRpc::following(&watcher, fast_breaker());
    let client = router
        .clone()
        .into_rpc_client(CommitmentConfig::confirmed());
    s.sb.net.faults.set("ep0", Fault::Down).unwrap();
    for _ in 0..3 {
        client.get_slot().await.unwrap();
    }
    assert_eq!(
        router.candidates()[0],
        s.urls[1],
        "ep0's breaker is open: it goes last"
    );
    s.sb.net.faults.set("ep0", Fault::Healthy).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        client.get_slot().await.unwrap();
        if router.last_endpoint().as_deref() == Some(s.urls[0].as_str()) {
            break;
        }
        assert!(Instant::now() < deadline, "ep0 never re-admitted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_arbitration_prefers_the_fastest_serving_endpoint() {
    let s = Setup::new().await;
    let watcher = s.watcher(true).await;
    s.sb.net.faults.set("ep0", Fault::Slow { ms: 150 }).unwrap();
    let router = FailoverRpc::following(
        &watcher,
        RouterConfig {
            arbitrate_latency: true,
            ..RouterConfig::default()
        },
    );
    let client = router
        .clone()
        .into_rpc_client(CommitmentConfig::confirmed());
    // ep2 becomes slow as well: ep1 should win
    s.sb.net.faults.set("ep2", Fault::Slow { ms: 150 }).unwrap();
    for _ in 0..10 {
        client.get_slot().await.unwrap();
    }
    let before = router.served();
    for _ in 0..10 {
        client.get_slot().await.unwrap();
    }
    let after = router.served();
    let gained =
        |u: &String| after.get(u).copied().unwrap_or(0) - before.get(u).copied().unwrap_or(0);
    assert_eq!(gained(&s.urls[1]), 10, "{after:?}");
}
