//! Localnet throughput and latency on loopback, side by side in one run:
//!   cargo bench -p lifeline-localnet --bench rpc
//! Reports getHealth (framing baseline) vs getAccountInfo requests/s, sendTransaction
//! transactions/s, and time from sendTransaction to "confirmed" (p50/p99).
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline_localnet::{Localnet, LocalnetConfig};
use serde_json::{json, Value};
use solana_signer::Signer;

const WINDOW: Duration = Duration::from_secs(5);
const CONCURRENCY: usize = 8;

async fn rate(url: &str, body: Value) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..CONCURRENCY {
        let (url, body, done) = (url.to_string(), body.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            while start.elapsed() < WINDOW {
                let r: Value = http
                    .post(&url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                assert!(r.get("result").is_some(), "{r}");
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

fn wire(tx: &solana_transaction::Transaction) -> String {
    base64::Engine::encode(
        &base64::prelude::BASE64_STANDARD,
        bincode::serialize(tx).unwrap(),
    )
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let net = Localnet::start(LocalnetConfig::ephemeral()).await.unwrap();
    let url = net.rpc_url.clone();
    let target = lifeline::ID.to_string();

    let health = rate(&url, json!({"jsonrpc":"2.0","id":1,"method":"getHealth"})).await;
    let account = rate(&url, json!({"jsonrpc":"2.0","id":1,"method":"getAccountInfo","params":[target, {"encoding":"base64"}]})).await;

    // sendTransaction: independent payers so transactions never contend for a lock
    let payers = Arc::new(net.funded_keypairs(CONCURRENCY, 100_000_000_000).unwrap());
    let sent = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..CONCURRENCY {
        let (url, payers, sent, cluster) = (
            url.clone(),
            payers.clone(),
            sent.clone(),
            net.cluster.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let payer = &payers[i];
            let mut n = 0u64;
            while start.elapsed() < WINDOW {
                n += 1;
                let blockhash = cluster.working_bank().last_blockhash();
                let tx = solana_system_transaction::transfer(payer, &solana_pubkey::Pubkey::new_unique(), 1_000_000 + n, blockhash);
                let r: Value = http
                    .post(&url)
                    .json(&json!({"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":[wire(&tx), {"encoding":"base64"}]}))
                    .send().await.unwrap().json().await.unwrap();
                assert!(r.get("result").is_some(), "{r}");
                sent.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let tps = sent.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();

    // sendTransaction -> confirmed, sequentially, polling statuses every 5 ms
    let http = reqwest::Client::new();
    let payer = &payers[0];
    let mut latencies = Vec::new();
    for n in 0..40u64 {
        let blockhash = net.cluster.working_bank().last_blockhash();
        let tx = solana_system_transaction::transfer(
            payer,
            &solana_pubkey::Pubkey::new_unique(),
            1_000_000 + n,
            blockhash,
        );
        let t = Instant::now();
        let r: Value = http.post(&url)
            .json(&json!({"jsonrpc":"2.0","id":1,"method":"sendTransaction","params":[wire(&tx), {"encoding":"base64"}]}))
            .send().await.unwrap().json().await.unwrap();
        let sig = r["result"].as_str().unwrap().to_string();
        loop {
            let r: Value = http.post(&url)
                .json(&json!({"jsonrpc":"2.0","id":1,"method":"getSignatureStatuses","params":[[sig]]}))
                .send().await.unwrap().json().await.unwrap();
            let status = &r["result"]["value"][0]["confirmationStatus"];
            if status == "confirmed" || status == "finalized" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        // Confirmation comes at a slot boundary; start the next send at a different phase
        // of the slot each time so the samples cover the whole slot.
        tokio::time::sleep(Duration::from_millis((n * 53) % 400)).await;
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let slot_ms = net.cluster.slot_duration().as_millis();
    let _ = payer.pubkey();

    println!("localnet RPC on loopback ({CONCURRENCY} concurrent HTTP clients, {}s windows, {slot_ms} ms slots)", WINDOW.as_secs());
    println!("  getHealth        {health:>8.0} req/s   (framing baseline)");
    println!(
        "  getAccountInfo   {account:>8.0} req/s   ({:.2}x of baseline)",
        account / health
    );
    println!("  sendTransaction  {tps:>8.0} tx/s    (transfers, preflight on)");
    println!(
        "  send -> confirmed  p50 {:.0} ms  p99 {:.0} ms  max {:.0} ms  ({} samples; one slot = {slot_ms} ms)",
        percentile(&latencies, 0.5), percentile(&latencies, 0.99), latencies.last().unwrap(), latencies.len()
    );
    net.shutdown();
}
