//! The `rpc` prober: one JSON-RPC batch per probe (getSlot at processed, getHealth,
//! getLatestBlockhash at confirmed). The slot is what the endpoint claims, judged later
//! against the keeper's reference; the confirmed block hash is compared with what others
//! served for the same slot (forks.rs) — confirmed, because a processed bank still being
//! built reports its parent's hash and honest nodes would disagree. The outcome tells
//! apart an endpoint that cannot be reached, one that answers with errors, and one that
//! is merely slow.
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::json;

use super::{elapsed_ms, read_capped};
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

/// One answer of a JSON-RPC batch, as far as a probe reads it: nothing else of what an
/// endpoint sends is kept.
#[derive(Deserialize, Debug)]
struct Reply {
    id: Option<u64>,
    result: Option<ResultValue>,
}

/// The results a probe asks for, typed.
#[derive(Deserialize, Debug)]
#[serde(untagged)]
enum ResultValue {
    Number(u64),
    Text(String),
    Blockhash(BlockhashResult),
    Other(serde::de::IgnoredAny),
}

#[derive(Deserialize, Debug)]
struct BlockhashResult {
    context: Context,
    value: BlockhashValue,
}

#[derive(Deserialize, Debug)]
struct Context {
    slot: u64,
}

#[derive(Deserialize, Debug)]
struct BlockhashValue {
    blockhash: String,
}

/// Posts `body` and reads the batch answer, at most `MAX_ANSWER_BYTES`, within `timeout`.
async fn batch(
    http: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<Vec<Reply>, Outcome> {
    let resp = http
        .post(url)
        .json(body)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| transport_outcome(&e))?;
    if !resp.status().is_success() {
        return Err(Outcome::Failed);
    }
    let bytes = read_capped(resp).await?;
    serde_json::from_slice(&bytes).map_err(|_| Outcome::Failed)
}

/// Probes one JSON-RPC endpoint once; also returns the confirmed block hash it served.
/// The batch's order varies from probe to probe (`variant`), so an endpoint cannot tell a
/// keeper's probe from other traffic by one fixed request.
pub async fn probe_rpc(
    http: &reqwest::Client,
    endpoint_id: u32,
    url: &str,
    timeout: Duration,
) -> (Probe, Option<SlotHash>) {
    let started = Instant::now();
    let body = probe_batch(super::variant());
    let (outcome, hash) = match batch(http, url, &body, timeout).await {
        Err(o) => (o, None),
        Ok(answers) => match rpc_answer(&answers) {
            Some((slot, hash)) => (Outcome::Ok(Freshness::Slot(slot)), Some(hash)),
            None => (Outcome::Failed, None),
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

/// The probe's batch: getSlot at processed, getHealth, getLatestBlockhash at confirmed, in
/// an order and with ids that depend on `variant`.
fn probe_batch(variant: u64) -> serde_json::Value {
    let base = 1 + (variant % 1_000) * 3;
    let mut calls = vec![
        json!({ "jsonrpc": "2.0", "id": base, "method": "getSlot", "params": [{ "commitment": "processed" }] }),
        json!({ "jsonrpc": "2.0", "id": base + 1, "method": "getHealth" }),
        json!({ "jsonrpc": "2.0", "id": base + 2, "method": "getLatestBlockhash", "params": [{ "commitment": "confirmed" }] }),
    ];
    calls.rotate_left((variant / 1_000 % 3) as usize);
    serde_json::Value::Array(calls)
}

/// The result of the call whose id is the smallest of its kind: getSlot is the batch's
/// lowest id, getHealth the next, getLatestBlockhash the highest.
fn results(answers: &[Reply]) -> Option<[&ResultValue; 3]> {
    let mut ids: Vec<(u64, &ResultValue)> = answers
        .iter()
        .filter_map(|a| Some((a.id?, a.result.as_ref()?)))
        .collect();
    if ids.len() != 3 {
        return None;
    }
    ids.sort_by_key(|(id, _)| *id);
    (ids[1].0 == ids[0].0 + 1 && ids[2].0 == ids[0].0 + 2).then_some([ids[0].1, ids[1].1, ids[2].1])
}

/// A healthy batch answer: all three calls answered, getHealth "ok". Its processed slot
/// and its confirmed slot's hash.
fn rpc_answer(answers: &[Reply]) -> Option<(u64, SlotHash)> {
    let [slot, health, latest] = results(answers)?;
    let ResultValue::Number(slot) = slot else {
        return None;
    };
    let ResultValue::Text(health) = health else {
        return None;
    };
    let ResultValue::Blockhash(latest) = latest else {
        return None;
    };
    (health == "ok").then_some(())?;
    Some((*slot, (latest.context.slot, latest.value.blockhash.clone())))
}

/// What a trusted RPC says about the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterView {
    /// Its processed slot.
    pub slot: u64,
    /// Its confirmed slot and that slot's hash, when it served one.
    pub confirmed: Option<SlotHash>,
}

/// The cluster according to a trusted RPC (None if it does not answer, or not sensibly).
pub async fn cluster_view(
    http: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Option<ClusterView> {
    let body = json!([
        { "jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{ "commitment": "processed" }] },
        { "jsonrpc": "2.0", "id": 3, "method": "getLatestBlockhash", "params": [{ "commitment": "confirmed" }] },
    ]);
    let answers = batch(http, url, &body, timeout).await.ok()?;
    let find = |id| answers.iter().find(|a| a.id == Some(id))?.result.as_ref();
    let ResultValue::Number(slot) = find(1)? else {
        return None;
    };
    let confirmed = match find(3) {
        Some(ResultValue::Blockhash(b)) => Some((b.context.slot, b.value.blockhash.clone())),
        _ => None,
    };
    Some(ClusterView {
        slot: *slot,
        confirmed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Vec<Reply> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_batch_is_healthy_only_when_all_three_calls_answer() {
        let good = json!([
            {"id": 2, "result": "ok"},
            {"id": 1, "result": 42},
            {"id": 3, "result": {"context": {"slot": 40}, "value": {"blockhash": "abc"}}},
        ]);
        assert_eq!(
            rpc_answer(&parse(good)),
            Some((42, (40, "abc".to_string())))
        );
        let behind = json!([
            {"id": 1, "result": 42},
            {"id": 2, "error": {"code": -32005, "message": "Node is behind"}},
            {"id": 3, "result": {"context": {"slot": 40}, "value": {"blockhash": "abc"}}},
        ]);
        assert_eq!(rpc_answer(&parse(behind)), None);
        assert_eq!(rpc_answer(&[]), None);
        // the wrong type in any place is a failed answer, not a panic
        let odd = json!([
            {"id": 1, "result": "42"},
            {"id": 2, "result": "ok"},
            {"id": 3, "result": {"context": {"slot": 40}, "value": {"blockhash": "abc"}}},
        ]);
        assert_eq!(rpc_answer(&parse(odd)), None);
    }

    #[test]
    fn the_batch_varies_and_its_answers_are_read_whatever_the_order() {
        let mut seen = std::collections::BTreeSet::new();
        for variant in [0u64, 1, 1_000, 2_000, 777_777] {
            let batch = probe_batch(variant);
            seen.insert(batch.to_string());
            // answer each call as a node would
            let answers: Vec<serde_json::Value> = batch
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    let result = match c["method"].as_str().unwrap() {
                        "getSlot" => json!(9),
                        "getHealth" => json!("ok"),
                        _ => json!({"context": {"slot": 8}, "value": {"blockhash": "h"}}),
                    };
                    json!({"id": c["id"], "result": result})
                })
                .collect();
            assert_eq!(
                rpc_answer(&parse(json!(answers))),
                Some((9, (8, "h".to_string()))),
                "variant {variant}"
            );
        }
        assert!(seen.len() >= 4, "the requests differ: {seen:?}");
    }

    proptest::proptest! {
        /// Whatever bytes an endpoint answers (up to the read cap), parsing them is a
        /// failed answer or a probe result — never a panic.
        #[test]
        fn any_answer_parses_or_fails_without_a_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            if let Ok(replies) = serde_json::from_slice::<Vec<Reply>>(&bytes) {
                let _ = rpc_answer(&replies);
            }
        }

        /// JSON-shaped answers with arbitrary ids, types and nesting.
        #[test]
        fn any_json_batch_is_judged_without_a_panic(
            ids in proptest::collection::vec(proptest::prelude::any::<u64>(), 0..5),
            slot in proptest::prelude::any::<u64>(),
            text in ".{0,40}",
        ) {
            let answers: Vec<serde_json::Value> = ids
                .iter()
                .enumerate()
                .map(|(i, id)| match i % 4 {
                    0 => json!({"id": id, "result": slot}),
                    1 => json!({"id": id, "result": text}),
                    2 => json!({"id": id, "result": {"context": {"slot": slot}, "value": {"blockhash": text}}}),
                    _ => json!({"id": id, "result": [[[{"x": text}]]]}),
                })
                .collect();
            let _ = rpc_answer(&parse(json!(answers)));
        }
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
