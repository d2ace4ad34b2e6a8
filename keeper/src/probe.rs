//! Probing endpoints. An RPC endpoint gets one JSON-RPC batch per probe (getSlot at
//! processed, getHealth, getLatestBlockhash); its slot is what it claims, judged later
//! against the keeper's trusted reference. The outcome tells apart an endpoint that
//! cannot be reached, one that answers with errors, and one that is merely slow.
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::window::{Outcome, Probe};

fn elapsed_ms(started: Instant) -> u32 {
    started.elapsed().as_millis().min(u32::MAX as u128) as u32
}

/// How a transport error reads: no connection at all, or no answer in time.
fn transport_outcome(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        Outcome::TimedOut
    } else if e.is_connect() || e.is_request() {
        Outcome::Unreachable
    } else {
        Outcome::Failed
    }
}

/// Probes one JSON-RPC endpoint once. A timeout reports at least `timeout` of latency.
pub async fn probe_rpc(
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
    let outcome = match http.post(url).json(&body).timeout(timeout).send().await {
        Err(e) => transport_outcome(&e),
        Ok(resp) if !resp.status().is_success() => Outcome::Failed,
        Ok(resp) => match resp.json::<Vec<Value>>().await {
            Err(e) if e.is_timeout() => Outcome::TimedOut,
            Err(_) => Outcome::Failed,
            Ok(answers) => match rpc_slot(&answers) {
                Some(slot) => Outcome::Ok { slot: Some(slot) },
                None => Outcome::Failed,
            },
        },
    };
    let latency_ms = match outcome {
        Outcome::TimedOut => elapsed_ms(started).max(timeout.as_millis() as u32),
        _ => elapsed_ms(started),
    };
    Probe {
        endpoint_id,
        outcome,
        latency_ms,
        divergent: false,
    }
}

/// The slot of a healthy batch answer: all three calls answered, getHealth "ok".
fn rpc_slot(answers: &[Value]) -> Option<u64> {
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

/// The processed slot according to a trusted RPC (None if it does not answer).
pub async fn cluster_slot(http: &reqwest::Client, url: &str, timeout: Duration) -> Option<u64> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_healthy_only_when_all_three_calls_answer() {
        let good = json!([
            {"id": 2, "result": "ok"},
            {"id": 1, "result": 42},
            {"id": 3, "result": {"context": {"slot": 42}, "value": {"blockhash": "abc"}}},
        ]);
        assert_eq!(rpc_slot(good.as_array().unwrap()), Some(42));
        let behind = json!([
            {"id": 1, "result": 42},
            {"id": 2, "error": {"code": -32005, "message": "Node is behind"}},
            {"id": 3, "result": {"value": {"blockhash": "abc"}}},
        ]);
        assert_eq!(rpc_slot(behind.as_array().unwrap()), None);
        assert_eq!(rpc_slot(&[]), None);
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_not_slow() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let p = probe_rpc(
            &reqwest::Client::new(),
            1,
            &format!("http://127.0.0.1:{port}"),
            Duration::from_millis(500),
        )
        .await;
        assert_eq!(p.outcome, Outcome::Unreachable);
        assert!(p.latency_ms < 500);
    }

    #[tokio::test]
    async fn a_silent_server_times_out_with_the_timeout_as_its_latency() {
        // accepts connections and never answers
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = listener.accept().await {
                held.push(s);
            }
        });
        let p = probe_rpc(
            &reqwest::Client::new(),
            1,
            &format!("http://127.0.0.1:{port}"),
            Duration::from_millis(150),
        )
        .await;
        hold.abort();
        assert_eq!(p.outcome, Outcome::TimedOut);
        assert!(p.latency_ms >= 150);
    }
}
