//! The `rpc` prober: one JSON-RPC batch per probe (getSlot at processed, getHealth,
//! getLatestBlockhash at confirmed). The slot is what the endpoint claims, judged later
//! against the keeper's reference; the confirmed block hash is compared with what others
//! served for the same slot (forks.rs) — confirmed, because a processed bank still being
//! built reports its parent's hash and honest nodes would disagree. The outcome tells
//! apart an endpoint that cannot be reached, one that answers with errors, and one that
//! is merely slow.
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::elapsed_ms;
use crate::window::{Freshness, Outcome, Probe};

/// How a transport error reads: no connection at all, or no answer in time.
pub(crate) fn transport_outcome(e: &reqwest::Error) -> Outcome {
    if e.is_timeout() {
        Outcome::TimedOut
    } else if e.is_connect() || e.is_request() {
        Outcome::Unreachable
    } else {
        Outcome::Failed
    }
}

/// A timed-out probe reports at least the timeout as its latency.
pub(crate) fn probe_latency(outcome: Outcome, started: Instant, timeout: Duration) -> u32 {
    match outcome {
        Outcome::TimedOut => elapsed_ms(started).max(timeout.as_millis() as u32),
        _ => elapsed_ms(started),
    }
}

/// A confirmed slot and the block hash served for it.
pub type SlotHash = (u64, String);

/// Probes one JSON-RPC endpoint once; also returns the confirmed block hash it served.
pub async fn probe_rpc(
    http: &reqwest::Client,
    endpoint_id: u32,
    url: &str,
    timeout: Duration,
) -> (Probe, Option<SlotHash>) {
    let started = Instant::now();
    let body = json!([
        { "jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{ "commitment": "processed" }] },
        { "jsonrpc": "2.0", "id": 2, "method": "getHealth" },
        { "jsonrpc": "2.0", "id": 3, "method": "getLatestBlockhash", "params": [{ "commitment": "confirmed" }] },
    ]);
    let (outcome, hash) = match http.post(url).json(&body).timeout(timeout).send().await {
        Err(e) => (transport_outcome(&e), None),
        Ok(resp) if !resp.status().is_success() => (Outcome::Failed, None),
        Ok(resp) => match resp.json::<Vec<Value>>().await {
            Err(e) if e.is_timeout() => (Outcome::TimedOut, None),
            Err(_) => (Outcome::Failed, None),
            Ok(answers) => match rpc_answer(&answers) {
                Some((slot, hash)) => (Outcome::Ok(Freshness::Slot(slot)), Some(hash)),
                None => (Outcome::Failed, None),
            },
        },
    };
    let probe = Probe {
        endpoint_id,
        outcome,
        latency_ms: probe_latency(outcome, started, timeout),
        divergent: false,
    };
    (probe, hash)
}

/// The result of call `id` in a batch answer.
fn result(answers: &[Value], id: u64) -> Option<&Value> {
    answers
        .iter()
        .find(|a| a["id"] == id)
        .and_then(|a| a.get("result"))
}

/// A confirmed slot and its hash from a getLatestBlockhash result.
fn slot_hash(v: &Value) -> Option<SlotHash> {
    let slot = v.get("context")?.get("slot")?.as_u64()?;
    let hash = v.get("value")?.get("blockhash")?.as_str()?;
    Some((slot, hash.to_string()))
}

/// A healthy batch answer: all three calls answered, getHealth "ok". Its processed slot
/// and its confirmed slot's hash.
fn rpc_answer(answers: &[Value]) -> Option<(u64, SlotHash)> {
    let slot = result(answers, 1)?.as_u64()?;
    (result(answers, 2)?.as_str()? == "ok").then_some(())?;
    let hash = slot_hash(result(answers, 3)?)?;
    Some((slot, hash))
}

/// What a trusted RPC says about the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterView {
    /// Its processed slot.
    pub slot: u64,
    /// Its confirmed slot and that slot's hash, when it served one.
    pub confirmed: Option<SlotHash>,
}

/// The cluster according to a trusted RPC (None if it does not answer).
pub async fn cluster_view(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Option<ClusterView> {
    let body = json!([
        { "jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{ "commitment": "processed" }] },
        { "jsonrpc": "2.0", "id": 3, "method": "getLatestBlockhash", "params": [{ "commitment": "confirmed" }] },
    ]);
    let resp = http
        .post(url)
        .json(&body)
        .timeout(timeout)
        .send()
        .await
        .ok()?;
    let answers: Vec<Value> = resp.json().await.ok()?;
    Some(ClusterView {
        slot: result(&answers, 1)?.as_u64()?,
        confirmed: result(&answers, 3).and_then(slot_hash),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_healthy_only_when_all_three_calls_answer() {
        let good = json!([
            {"id": 2, "result": "ok"},
            {"id": 1, "result": 42},
            {"id": 3, "result": {"context": {"slot": 40}, "value": {"blockhash": "abc"}}},
        ]);
        assert_eq!(
            rpc_answer(good.as_array().unwrap()),
            Some((42, (40, "abc".to_string())))
        );
        let behind = json!([
            {"id": 1, "result": 42},
            {"id": 2, "error": {"code": -32005, "message": "Node is behind"}},
            {"id": 3, "result": {"context": {"slot": 40}, "value": {"blockhash": "abc"}}},
        ]);
        assert_eq!(rpc_answer(behind.as_array().unwrap()), None);
        assert_eq!(rpc_answer(&[]), None);
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_not_slow() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let (p, _) = probe_rpc(
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
        let (p, _) = probe_rpc(
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
