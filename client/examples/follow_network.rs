//! A trading bot's skeleton: follow a Lifeline network's topology and send every RPC call
//! through its current primary, failing over on errors and after migrations.
//!
//!   cargo run -p lifeline-client --example follow_network -- <RPC_URL> <WS_URL> <NETWORK> [GROUP]
//!
//! e.g. against `lifeline localnet` once a network exists:
//!   cargo run -p lifeline-client --example follow_network -- \
//!       http://127.0.0.1:8899 ws://127.0.0.1:8900 <network address> 0
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use lifeline_client::{FailoverRpc, RouterConfig, TopologyWatcher, WatcherConfig};
use solana_commitment_config::CommitmentConfig;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (rpc, ws, network, group) = match args.as_slice() {
        [rpc, ws, network] => (rpc, ws, network, "0"),
        [rpc, ws, network, group] => (rpc, ws, network, group.as_str()),
        _ => {
            eprintln!("usage: follow_network <RPC_URL> <WS_URL> <NETWORK> [GROUP]");
            return ExitCode::from(2);
        }
    };
    let Ok(network) = Pubkey::from_str(network) else {
        eprintln!("error: {network:?} is not a valid network address");
        return ExitCode::from(2);
    };
    let Ok(group) = group.parse::<u8>() else {
        eprintln!("error: group must be a number 0-7");
        return ExitCode::from(2);
    };

    // 1. Follow the on-chain topology (subscription + polling fallback).
    let watcher =
        match TopologyWatcher::start(WatcherConfig::new(rpc.clone(), Some(ws.clone()), network))
            .await
        {
            Ok(w) => w,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        };
    // 2. A regular RpcClient whose transport routes to the group's current primary.
    let router = FailoverRpc::following(
        &watcher,
        RouterConfig {
            group,
            ..RouterConfig::default()
        },
    );
    let client = router
        .clone()
        .into_rpc_client(CommitmentConfig::confirmed());

    // 3. Use it like any RpcClient. Here: print the slot once a second.
    let mut epoch = 0;
    loop {
        let view = watcher.current();
        if view.epoch != epoch {
            epoch = view.epoch;
            let primary = view
                .primary(group)
                .map(|e| e.url.as_str())
                .unwrap_or("(none)");
            println!("epoch {epoch}: primary of group {group} is {primary}");
        }
        match client.get_slot().await {
            Ok(slot) => println!(
                "slot {slot} via {}",
                router.last_endpoint().unwrap_or_default()
            ),
            Err(e) => eprintln!("every endpoint failed: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
