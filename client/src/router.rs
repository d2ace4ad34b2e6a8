//! `FailoverRpc`: a JSON-RPC transport that follows the on-chain topology.
//!
//! It is an `RpcSender`, so `FailoverRpc::into_rpc_client` gives a regular
//! `solana_rpc_client::nonblocking::rpc_client::RpcClient` whose every call:
//! * goes to the current primary of its group (or, with latency arbitration, to the
//!   fastest healthy endpoint the topology allows);
//! * on a transport error, HTTP 5xx or 429, or "node behind", is retried on the next
//!   candidate — immediately, no sleeping on 429;
//! * skips endpoints whose local circuit breaker is open (re-admitted after a cooldown);
//! * is refused when its context slot is below the highest slot already served at that
//!   commitment (a client never goes back in time after a failover), and retried elsewhere;
//! * is refused as an answer from the future when its slot is beyond what the client
//!   trusts — the topology's read, and the other endpoints' answers, each advanced by the
//!   time since — plus a tolerance. No endpoint's answer can make the others unusable: an
//!   answer raises the floor at most a couple of slots above what the others corroborate,
//!   and each endpoint is also held to its own floor (`floors.rs`);
//! * follows a migration as soon as the watcher publishes the new epoch.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client::rpc_client::RpcClientConfig;
use solana_rpc_client::rpc_sender::{RpcSender, RpcTransportStats};
use solana_rpc_client_api::client_error::{Error as ClientError, ErrorKind};
use solana_rpc_client_api::custom_error;
use solana_rpc_client_api::request::{RpcError, RpcRequest, RpcResponseErrorData};
use solana_rpc_client_api::response::RpcSimulateTransactionResult;
use tokio::sync::watch;

use crate::floors::Floors;
use crate::view::TopologyView;
use crate::watcher::TopologyWatcher;

#[derive(Clone, Debug)]
pub struct RouterConfig {
    /// The topology group this client serves (e.g. 0 = the protocol's RPC group).
    pub group: u8,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Consecutive failures that open an endpoint's breaker.
    pub breaker_threshold: u32,
    /// How long an open breaker keeps an endpoint out.
    pub breaker_cooldown: Duration,
    /// Order all serving endpoints by measured latency instead of primary-first.
    pub arbitrate_latency: bool,
    /// When every endpoint answered, but only with slots behind the floor (a healthy
    /// standby may trail the old primary by a slot), wait this long and try once more.
    pub stale_retry_delay: Duration,
    /// The most read of one answer (None: no limit — a user's getProgramAccounts may be
    /// large; the keeper and the topology watcher set one for their own reads).
    pub max_answer_bytes: Option<usize>,
}

impl Default for RouterConfig {
    fn default() -> Self {
        Self {
            group: 0,
            timeout: Duration::from_secs(5),
            breaker_threshold: 2,
            breaker_cooldown: Duration::from_secs(3),
            arbitrate_latency: false,
            stale_retry_delay: Duration::from_millis(400),
            max_answer_bytes: None,
        }
    }
}

enum Source {
    Static(Vec<String>),
    Topology(watch::Receiver<Arc<TopologyView>>),
}

#[derive(Default)]
struct Health {
    consecutive_failures: u32,
    open_until: Option<Instant>,
    /// Exponentially weighted latency, ms (None until the first success).
    latency_ms: Option<f64>,
    served: u64,
}

struct Inner {
    source: Source,
    config: RouterConfig,
    http: reqwest::Client,
    health: Mutex<HashMap<String, Health>>,
    /// What the client has served and what it trusts, per commitment level.
    floors: Mutex<Floors>,
    next_id: AtomicU64,
    stats: Mutex<RpcTransportStats>,
    last: Mutex<Option<String>>,
}

/// Cheap to clone; clones share state (breakers, floors, statistics).
#[derive(Clone)]
pub struct FailoverRpc {
    inner: Arc<Inner>,
}

/// Why one attempt did not produce an answer to return.
enum Attempt {
    /// Try the next endpoint.
    Retry(ClientError),
    /// The node answered with an error that another node would repeat: return it.
    Final(ClientError),
}

fn request_error(msg: String) -> ClientError {
    ClientError::new_with_request(
        ErrorKind::RpcError(RpcError::RpcRequestError(msg)),
        RpcRequest::GetHealth,
    )
}

/// Which floor a call is judged against: the commitment it asked for (finalized when
/// unspecified, as on a validator); signature statuses report the processed slot.
fn commitment_index(request: &RpcRequest, params: &Value) -> usize {
    if matches!(request, RpcRequest::GetSignatureStatuses) {
        return 0;
    }
    let asked = params.as_array().into_iter().flatten().find_map(|p| {
        p.get("commitment")
            .or_else(|| p.get("preflightCommitment"))
            .and_then(Value::as_str)
    });
    match asked {
        Some("processed") | Some("recent") => 0,
        Some("confirmed") | Some("single") | Some("singleGossip") => 1,
        _ => 2,
    }
}

/// The slot an answer speaks for: its context slot, or the number getSlot returns.
fn answer_slot(request: &RpcRequest, result: &Value) -> Option<u64> {
    match request {
        RpcRequest::GetSlot => result.as_u64(),
        _ => result
            .get("context")
            .and_then(|c| c.get("slot"))
            .and_then(Value::as_u64),
    }
}

impl FailoverRpc {
    /// A fixed list of endpoints, tried in order.
    pub fn with_urls(urls: Vec<String>, config: RouterConfig) -> Self {
        Self::new(Source::Static(urls), config)
    }

    /// Follows `watcher`: the group's primary first, then its standbys; quarantined and
    /// retired endpoints are never used.
    pub fn following(watcher: &TopologyWatcher, config: RouterConfig) -> Self {
        Self::new(Source::Topology(watcher.subscribe()), config)
    }

    fn new(source: Source, config: RouterConfig) -> Self {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .expect("HTTP client");
        Self {
            inner: Arc::new(Inner {
                source,
                config,
                http,
                health: Mutex::new(HashMap::new()),
                floors: Mutex::new(Floors::default()),
                next_id: AtomicU64::new(1),
                stats: Mutex::new(RpcTransportStats::default()),
                last: Mutex::new(None),
            }),
        }
    }

    /// A standard nonblocking `RpcClient` that sends everything through this router.
    pub fn into_rpc_client(self, commitment: CommitmentConfig) -> RpcClient {
        RpcClient::new_sender(self, RpcClientConfig::with_commitment(commitment))
    }

    /// The endpoint that served the last successful call.
    pub fn last_endpoint(&self) -> Option<String> {
        self.inner.last.lock().unwrap().clone()
    }

    /// Successful calls per endpoint URL.
    pub fn served(&self) -> HashMap<String, u64> {
        self.inner
            .health
            .lock()
            .unwrap()
            .iter()
            .map(|(u, h)| (u.clone(), h.served))
            .collect()
    }

    /// The slot no answer at `commitment` may be behind (what was served, as far as the
    /// other sources corroborate it).
    pub fn floor(&self, commitment: CommitmentConfig) -> u64 {
        let idx = commitment_index(
            &RpcRequest::GetSlot,
            &serde_json::json!([{ "commitment": commitment.commitment }]),
        );
        self.inner.floors.lock().unwrap().floor(idx)
    }

    /// The order in which endpoints are tried for the next call.
    pub fn candidates(&self) -> Vec<String> {
        let urls: Vec<String> = match &self.inner.source {
            Source::Static(urls) => urls.clone(),
            Source::Topology(rx) => {
                let view = rx.borrow();
                self.inner
                    .floors
                    .lock()
                    .unwrap()
                    .topology(view.epoch, view.slot, Instant::now());
                view.serving(self.inner.config.group)
                    .into_iter()
                    .map(|e| e.url.clone())
                    .collect()
            }
        };
        let health = self.inner.health.lock().unwrap();
        let now = Instant::now();
        let open = |u: &String| {
            health
                .get(u)
                .and_then(|h| h.open_until)
                .is_some_and(|t| t > now)
        };
        let mut ordered: Vec<(usize, String)> = urls.into_iter().enumerate().collect();
        if self.inner.config.arbitrate_latency {
            // Unmeasured endpoints sort as fast, so each gets tried and measured.
            let latency = |u: &String| health.get(u).and_then(|h| h.latency_ms).unwrap_or(0.0);
            ordered.sort_by(|(ia, a), (ib, b)| latency(a).total_cmp(&latency(b)).then(ia.cmp(ib)));
        }
        // Endpoints with an open breaker go last (still tried if nothing else answers).
        ordered.sort_by_key(|(_, u)| open(u));
        ordered.into_iter().map(|(_, u)| u).collect()
    }

    fn record(&self, url: &str, outcome: Result<Duration, ()>) {
        let mut health = self.inner.health.lock().unwrap();
        let h = health.entry(url.to_string()).or_default();
        match outcome {
            Ok(elapsed) => {
                let ms = elapsed.as_secs_f64() * 1000.0;
                h.latency_ms = Some(h.latency_ms.map_or(ms, |prev| 0.8 * prev + 0.2 * ms));
                h.consecutive_failures = 0;
                h.open_until = None;
                h.served += 1;
                *self.inner.last.lock().unwrap() = Some(url.to_string());
            }
            Err(()) => {
                h.consecutive_failures += 1;
                if h.consecutive_failures >= self.inner.config.breaker_threshold {
                    h.open_until = Some(Instant::now() + self.inner.config.breaker_cooldown);
                }
            }
        }
    }

    async fn attempt(&self, url: &str, request: RpcRequest, body: &str) -> Result<Value, Attempt> {
        let resp = self
            .inner
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| {
                Attempt::Retry(ClientError::new_with_request(
                    ErrorKind::Reqwest(e),
                    request,
                ))
            })?;
        let status = resp.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(Attempt::Retry(request_error(format!(
                "{url} answered HTTP {status}"
            ))));
        }
        if !status.is_success() {
            return Err(Attempt::Final(request_error(format!(
                "{url} answered HTTP {status}"
            ))));
        }
        let mut json: Value = read_json(resp, self.inner.config.max_answer_bytes)
            .await
            .map_err(|e| Attempt::Retry(request_error(format!("{url}: {e}"))))?;
        if json["error"].is_object() {
            let code = json["error"]["code"].as_i64().unwrap_or(0);
            let message = json["error"]["message"].as_str().unwrap_or("").to_string();
            let data = match code {
                custom_error::JSON_RPC_SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE => {
                    serde_json::from_value::<RpcSimulateTransactionResult>(
                        json["error"]["data"].clone(),
                    )
                    .map(RpcResponseErrorData::SendTransactionPreflightFailure)
                    .unwrap_or(RpcResponseErrorData::Empty)
                }
                _ => RpcResponseErrorData::Empty,
            };
            let err = ClientError::new_with_request(
                ErrorKind::RpcError(RpcError::RpcResponseError {
                    code,
                    message,
                    data,
                }),
                request,
            );
            // The node is behind or unhealthy, or failed internally: another node may answer.
            let node_problem = matches!(
                code,
                custom_error::JSON_RPC_SERVER_ERROR_NODE_UNHEALTHY
                    | custom_error::JSON_RPC_SERVER_ERROR_MIN_CONTEXT_SLOT_NOT_REACHED
                    | -32603
            );
            return Err(if node_problem {
                Attempt::Retry(err)
            } else {
                Attempt::Final(err)
            });
        }
        Ok(json["result"].take())
    }
}

/// Reads an answer's body as JSON, at most `cap` bytes when there is a cap.
async fn read_json(mut resp: reqwest::Response, cap: Option<usize>) -> Result<Value, String> {
    let Some(cap) = cap else {
        return resp.json().await.map_err(|e| e.to_string());
    };
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(format!("an answer over {cap} bytes"));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > cap {
            return Err(format!("an answer over {cap} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| e.to_string())
}

#[async_trait]
impl RpcSender for FailoverRpc {
    async fn send(
        &self,
        request: RpcRequest,
        params: Value,
    ) -> solana_rpc_client_api::client_error::Result<Value> {
        let started = Instant::now();
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let body = request.build_request_json(id, params.clone()).to_string();
        let floor_idx = commitment_index(&request, &params);
        let mut last_err = request_error(format!(
            "no endpoint serves group {}",
            self.inner.config.group
        ));
        for round in 0..2 {
            let candidates = self.candidates();
            let mut only_stale = !candidates.is_empty();
            for url in &candidates {
                let t = Instant::now();
                match self.attempt(url, request, &body).await {
                    Ok(result) => {
                        if let Some(slot) = answer_slot(&request, &result) {
                            let judged = self.inner.floors.lock().unwrap().judge(
                                url,
                                floor_idx,
                                slot,
                                Instant::now(),
                            );
                            if let Err(why) = judged {
                                // A stale answer (a lagging or frozen node) or one from
                                // the future (a lying one): never serve it.
                                self.record(url, Err(()));
                                last_err = request_error(format!("{url} {why}"));
                                continue;
                            }
                        }
                        self.record(url, Ok(t.elapsed()));
                        let mut stats = self.inner.stats.lock().unwrap();
                        stats.request_count += 1;
                        stats.elapsed_time += started.elapsed();
                        return Ok(result);
                    }
                    Err(Attempt::Retry(e)) => {
                        self.record(url, Err(()));
                        only_stale = false;
                        last_err = e;
                    }
                    Err(Attempt::Final(e)) => {
                        // The node is fine; the request is not. Count it as served.
                        self.record(url, Ok(t.elapsed()));
                        return Err(e);
                    }
                }
            }
            if round == 0 && only_stale {
                tokio::time::sleep(self.inner.config.stale_retry_delay).await;
            } else {
                break;
            }
        }
        Err(last_err)
    }

    fn get_transport_stats(&self) -> RpcTransportStats {
        self.inner.stats.lock().unwrap().clone()
    }

    fn url(&self) -> String {
        self.last_endpoint()
            .or_else(|| self.candidates().into_iter().next())
            .unwrap_or_default()
    }
}
