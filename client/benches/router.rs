//! FailoverRpc overhead and migration-follow lag, side by side in one run:
//!   cargo bench -p lifeline-client --bench router
use std::time::{Duration, Instant};

use lifeline::instructions::ForceFailoverArgs;
use lifeline_client::{ix, FailoverRpc, RouterConfig, TopologyWatcher, WatcherConfig};
use lifeline_sandbox::{Sandbox, SandboxConfig};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;

const CALLS: usize = 3_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // ep0 primary, ep1 standby; no keepers (the bench moves the role by hand)
    let sb = Sandbox::start(SandboxConfig {
        name: "bench".into(),
        slot: Duration::from_millis(400),
        endpoints: 2,
        keepers: 0,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let (net, authority, network) = (&sb.net, &sb.authority, sb.network);
    let urls = net.endpoint_urls();
    let send = |ixs: &[solana_instruction::Instruction]| sb.send(ixs).expect("lands");
    let watcher = TopologyWatcher::start(WatcherConfig::new(
        net.rpc_url.clone(),
        Some(net.ws_url.clone()),
        network,
    ))
    .await
    .unwrap();

    // Overhead: the same getBalance calls to the same endpoint, plain vs routed, interleaved
    // in rounds so machine noise hits both alike.
    let plain = RpcClient::new_with_commitment(urls[0].clone(), CommitmentConfig::processed());
    let router = FailoverRpc::following(&watcher, RouterConfig::default());
    let routed = router
        .clone()
        .into_rpc_client(CommitmentConfig::processed());
    let fixed = FailoverRpc::with_urls(vec![urls[0].clone()], RouterConfig::default())
        .into_rpc_client(CommitmentConfig::processed());
    let key = authority.pubkey();
    let clients = [&plain, &routed, &fixed];
    let mut totals = [Duration::ZERO; 3];
    for round in 0..(CALLS / 100) {
        // rotate which client goes first, so order effects hit all alike
        for k in 0..3 {
            let which = (round + k) % 3;
            let t = Instant::now();
            for _ in 0..100 {
                clients[which].get_balance(&key).await.unwrap();
            }
            totals[which] += t.elapsed();
        }
    }
    let [t_plain, t_routed, t_fixed] = totals;
    assert_eq!(
        router.served().get(&urls[0]).copied(),
        Some(CALLS as u64),
        "all routed calls hit the primary"
    );
    let per = |d: Duration| d.as_secs_f64() * 1e6 / CALLS as f64;

    // Migration follow lag: a force_failover lands; how long until the router's first
    // request goes to the new primary (the client calls in a tight loop meanwhile).
    let mut lags = Vec::new();
    for round in 0..20 {
        let view = watcher.current();
        let target = view.standbys(0)[0].clone();
        let calling = {
            let router = router.clone();
            let target_url = target.url.clone();
            tokio::spawn(async move {
                let client = router
                    .clone()
                    .into_rpc_client(CommitmentConfig::processed());
                loop {
                    client.get_slot().await.unwrap();
                    if router.last_endpoint().as_deref() == Some(target_url.as_str()) {
                        return Instant::now();
                    }
                }
            })
        };
        tokio::time::sleep(Duration::from_millis(50 + (round * 17) % 150)).await;
        send(&[ix::force_failover(
            &network,
            &authority.pubkey(),
            ForceFailoverArgs {
                group: 0,
                to_id: target.id,
                expected_group_epoch: view.group_epoch(0),
                quarantine_old: false,
            },
        )]);
        let landed = Instant::now();
        let first = tokio::time::timeout(Duration::from_secs(10), calling)
            .await
            .expect("router followed")
            .unwrap();
        lags.push(first.saturating_duration_since(landed).as_secs_f64() * 1000.0);
        let mut rx = watcher.subscribe();
        let _ = rx.wait_for(|v| v.epoch > view.epoch).await;
    }
    lags.sort_by(|a, b| a.partial_cmp(b).unwrap());

    println!("FailoverRpc vs plain RpcClient, same endpoint, {CALLS} getBalance calls each (interleaved rounds, order rotated)");
    println!("  plain RpcClient   {:>7.1} us/call", per(t_plain));
    println!(
        "  FailoverRpc       {:>7.1} us/call   ({:.3}x)  following the topology",
        per(t_routed),
        t_routed.as_secs_f64() / t_plain.as_secs_f64()
    );
    println!(
        "  FailoverRpc       {:>7.1} us/call   ({:.3}x)  fixed URL list",
        per(t_fixed),
        t_fixed.as_secs_f64() / t_plain.as_secs_f64()
    );
    println!(
        "migration landed -> first request on the new primary: p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms ({} migrations; one slot = {} ms)",
        percentile(&lags, 0.5), percentile(&lags, 0.99), lags.last().unwrap(), lags.len(), net.cluster.slot_duration().as_millis()
    );
    drop(sb);
}
