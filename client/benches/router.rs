//! FailoverRpc overhead and migration-follow lag, side by side in one run:
//!   cargo bench -p lifeline-client --bench router
use std::time::{Duration, Instant};

use lifeline::instructions::{AddEndpointArgs, CreateNetworkArgs, ForceFailoverArgs};
use lifeline::state::{PolicyParams, Role};
use lifeline_client::{ix, pda, FailoverRpc, RouterConfig, TopologyWatcher, WatcherConfig};
use lifeline_localnet::{Localnet, LocalnetConfig};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;

const CALLS: usize = 3_000;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let net = Localnet::start(LocalnetConfig {
        endpoints: 2,
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let authority = net
        .funded_keypairs(1, 10_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let urls = net.endpoint_urls();
    let send = |ixs: &[solana_instruction::Instruction]| {
        net.send(&authority, ixs).expect("lands");
    };
    send(&[ix::create_network(
        &authority.pubkey(),
        CreateNetworkArgs {
            name: "bench".into(),
            policy: PolicyParams::default(),
            guardian: None,
        },
    )]);
    let network = pda::network(&authority.pubkey(), "bench").0;
    for (i, url) in urls.iter().enumerate() {
        let role = if i == 0 { Role::Primary } else { Role::Standby };
        send(&[ix::add_endpoint(
            &network,
            &authority.pubkey(),
            AddEndpointArgs {
                group: 0,
                kind: 0,
                role: role as u8,
                priority: 0,
                url: url.clone(),
                region: format!("r{i}"),
                provider: format!("p{i}"),
            },
        )]);
    }
    tokio::time::sleep(Duration::from_millis(900)).await;
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
    net.shutdown();
}
