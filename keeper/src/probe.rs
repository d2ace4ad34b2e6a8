//! Probing endpoints: one JSON-RPC batch per probe (getSlot at processed, getHealth,
//! getLatestBlockhash), with a per-probe timeout. A probe succeeds only if all three
//! answer; its slot is what the endpoint claims, judged later against the cluster.
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::window::Probe;

/// Probes one endpoint once.
pub async fn probe(
    http: &reqwest::Client,
    endpoint_id: u32,
    url: &str,
    timeout: Duration,
) -> Probe {
    let started = Instant::now();
    let body = json!([
        { "jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{ "commitment": "processed" }] },
        { "jsonrpc": "2.0", "id": 2, "method": "getHealth" },
        { "jsonrpc": "2.0", "id": 3, "method": "getLatestBlockhash", "params": [{ "commitment": "processed" }] },
    ]);
    let slot = async {
        let resp = http
            .post(url)
            .json(&body)
            .timeout(timeout)
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let answers: Vec<Value> = resp.json().await.ok()?;
        let result = |id: u64| {
            answers
                .iter()
                .find(|a| a["id"] == id)
                .and_then(|a| a.get("result"))
        };
        let slot = result(1)?.as_u64()?;
        (result(2)?.as_str()? == "ok").then_some(())?;
        result(3)?.get("value")?.get("blockhash")?.as_str()?;
        Some(slot)
    }
    .await;
    Probe {
        endpoint_id,
        slot,
        latency_ms: started.elapsed().as_millis().min(u32::MAX as u128) as u32,
    }
}

/// Probes every `(endpoint_id, url)` concurrently, at most `concurrency` at a time.
pub async fn probe_all(
    http: &reqwest::Client,
    endpoints: &[(u32, String)],
    timeout: Duration,
    concurrency: usize,
) -> Vec<Probe> {
    use futures_util::stream::{self, StreamExt};
    stream::iter(endpoints.iter().cloned())
        .map(|(id, url)| async move { probe(http, id, &url, timeout).await })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// The cluster slot according to a reference RPC (None if it does not answer).
pub async fn reference_slot(http: &reqwest::Client, url: &str, timeout: Duration) -> Option<u64> {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{ "commitment": "processed" }] });
    let resp = http
        .post(url)
        .json(&body)
        .timeout(timeout)
        .send()
        .await
        .ok()?;
    let v: Value = resp.json().await.ok()?;
    v["result"].as_u64()
}
