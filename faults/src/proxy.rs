//! Fault proxies in front of a real node: each one a port that forwards JSON-RPC (HTTP) or
//! Solana PubSub (WebSocket) to the node, through its fault. This is how faults reach an
//! endpoint Lifeline does not simulate — agave's own test validator in the real-validator
//! tier.
//!
//! A proxy cannot make a node's state older, so it replays: every answer it forwards is
//! kept (per method and parameters, with the node's slot when it was given, the last 64 of
//! each, at most 512 calls), and
//!
//! - `frozen` answers each call with the newest answer given at or before the slot it
//!   froze at, and acknowledges `sendTransaction` with the transaction's signature without
//!   forwarding it; PubSub connections stay open and get no more notifications;
//! - `lagging K` answers with the newest answer given at or before K slots ago; PubSub
//!   slot notifications are K slots behind;
//! - `forked` forwards, and reports every `blockhash` in an answer as another one (the
//!   same slot, another fork);
//! - `slow`, `errors`, `down` and `flapping` act on the transport as on the localnet.
//!
//! A call never seen before the fault has nothing to replay: it is forwarded, with its
//! context slot (and `getSlot`'s answer) capped at the slot the fault serves. The
//! keeper's probes and the clients' reads repeat, so they are replayed.
use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ws::{Message as ClientMessage, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message as UpstreamMessage;

use crate::admin::{EndpointInfo, FaultError, FaultSet};
use crate::fault::{Fault, Slot, SlotInfo};
use crate::switch::Switch;

/// Answers kept per call, and calls kept.
const KEEP_PER_CALL: usize = 64;
const KEEP_CALLS: usize = 512;
/// The largest request a proxy forwards, and the largest answer it relays.
const MAX_REQUEST: usize = 1 << 20;
const MAX_ANSWER: usize = 64 << 20;

/// What a proxy speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    /// JSON-RPC over HTTP (`epN`).
    Rpc,
    /// Solana PubSub over WebSocket (`wsN`).
    WebSocket,
}

impl ProxyKind {
    /// The topology's name of the kind, and the prefix of its endpoints' names.
    pub fn names(self) -> (&'static str, &'static str) {
        match self {
            ProxyKind::Rpc => ("rpc", "ep"),
            ProxyKind::WebSocket => ("websocket", "ws"),
        }
    }
}

/// The node behind the proxies, and its slot (polled every 100 ms).
pub struct Upstream {
    pub rpc_url: String,
    pub ws_url: String,
    http: reqwest::Client,
    slot: AtomicU64,
}

impl Upstream {
    /// The node's processed slot as last polled.
    pub fn slot(&self) -> Slot {
        self.slot.load(Ordering::Relaxed)
    }

    async fn follow_slot(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{"commitment": "processed"}]});
        loop {
            let answer = self
                .http
                .post(&self.rpc_url)
                .json(&body)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if let Ok(resp) = answer {
                if let Ok(v) = resp.json::<Value>().await {
                    if let Some(slot) = v["result"].as_u64() {
                        self.slot.fetch_max(slot, Ordering::Relaxed);
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

/// What one proxy has answered, per call, with the node's slot at the time.
#[derive(Default)]
struct History {
    calls: BTreeMap<String, VecDeque<(Slot, Value)>>,
}

impl History {
    fn key(call: &Value) -> Option<String> {
        let method = call.get("method")?.as_str()?;
        let params = call.get("params").cloned().unwrap_or(Value::Null);
        Some(format!("{method} {params}"))
    }

    fn record(&mut self, key: String, slot: Slot, answer: Value) {
        if self.calls.len() >= KEEP_CALLS && !self.calls.contains_key(&key) {
            self.calls.clear();
        }
        let kept = self.calls.entry(key).or_default();
        kept.push_back((slot, answer));
        while kept.len() > KEEP_PER_CALL {
            kept.pop_front();
        }
    }

    /// The newest answer given at or before `slot`.
    fn at(&self, key: &str, slot: Slot) -> Option<Value> {
        self.calls
            .get(key)?
            .iter()
            .rev()
            .find(|(s, _)| *s <= slot)
            .map(|(_, a)| a.clone())
    }
}

/// One proxy endpoint.
pub struct ProxyEndpoint {
    pub name: String,
    pub kind: ProxyKind,
    pub addr: SocketAddr,
    pub switch: Arc<Switch>,
    upstream: Arc<Upstream>,
    history: Mutex<History>,
}

impl ProxyEndpoint {
    pub fn url(&self) -> String {
        match self.kind {
            ProxyKind::Rpc => format!("http://{}", self.addr),
            ProxyKind::WebSocket => format!("ws://{}", self.addr),
        }
    }

    pub fn info(&self) -> EndpointInfo {
        EndpointInfo {
            name: self.name.clone(),
            kind: self.kind.names().0.to_string(),
            url: self.url(),
            fault: self.switch.fault(),
        }
    }

    fn router(self: &Arc<Self>) -> Router {
        match self.kind {
            ProxyKind::Rpc => Router::new()
                .route("/", post(rpc_entry))
                .with_state(self.clone()),
            ProxyKind::WebSocket => Router::new()
                .route("/", get(ws_entry))
                .with_state(self.clone()),
        }
    }

    /// The slot this endpoint serves under `fault` (None: current).
    fn serving_slot(&self, fault: Fault) -> Option<Slot> {
        match fault {
            Fault::Frozen => Some(self.switch.fault_and_frozen_at().1.slot),
            Fault::Lagging { slots } => Some(self.upstream.slot().saturating_sub(slots)),
            _ => None,
        }
    }
}

/// Every proxy in front of one node, controllable through the admin API.
#[derive(Clone)]
pub struct Proxies {
    pub upstream: Arc<Upstream>,
    endpoints: Arc<Vec<Arc<ProxyEndpoint>>>,
}

impl Proxies {
    /// Binds `count` proxies of each kind on `host` in front of the node at `rpc_url` /
    /// `ws_url`, ports from `base_port` on (ephemeral when 0), serving until `stop`.
    pub async fn start(
        rpc_url: &str,
        ws_url: &str,
        host: IpAddr,
        counts: &[(ProxyKind, usize)],
        base_port: u16,
        stop: watch::Receiver<bool>,
    ) -> std::io::Result<Self> {
        let upstream = Arc::new(Upstream {
            rpc_url: rpc_url.to_string(),
            ws_url: ws_url.to_string(),
            http: reqwest::Client::new(),
            slot: AtomicU64::new(0),
        });
        tokio::spawn(upstream.clone().follow_slot(stop.clone()));
        let mut endpoints = Vec::new();
        for &(kind, count) in counts {
            for i in 0..count {
                let port = match base_port {
                    0 => 0,
                    base => u16::try_from(endpoints.len())
                        .ok()
                        .and_then(|n| base.checked_add(n))
                        .ok_or_else(|| std::io::Error::other("proxy port past 65535"))?,
                };
                let listener = TcpListener::bind(SocketAddr::new(host, port)).await?;
                let addr = listener.local_addr()?;
                let ep = Arc::new(ProxyEndpoint {
                    name: format!("{}{i}", kind.names().1),
                    kind,
                    addr,
                    switch: Arc::new(Switch::default()),
                    upstream: upstream.clone(),
                    history: Mutex::new(History::default()),
                });
                let make = {
                    let ep = ep.clone();
                    move || ep.router()
                };
                tokio::spawn(
                    ep.switch
                        .clone()
                        .supervise(addr, listener, make, stop.clone()),
                );
                endpoints.push(ep);
            }
        }
        Ok(Self {
            upstream,
            endpoints: Arc::new(endpoints),
        })
    }

    pub fn endpoints(&self) -> &[Arc<ProxyEndpoint>] {
        &self.endpoints
    }

    pub fn get(&self, name: &str) -> Option<&Arc<ProxyEndpoint>> {
        self.endpoints.iter().find(|e| e.name == name)
    }
}

impl FaultSet for Proxies {
    fn list(&self) -> Vec<EndpointInfo> {
        self.endpoints.iter().map(|e| e.info()).collect()
    }

    fn set(&self, name: &str, fault: Fault) -> Result<(), FaultError> {
        let ep = self
            .get(name)
            .ok_or_else(|| FaultError::UnknownEndpoint(name.to_string()))?;
        ep.switch
            .set(fault, self.upstream.slot())
            .map_err(FaultError::BadFault)
    }
}

fn http_error(status: StatusCode) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(status.canonical_reason().unwrap_or("error")))
        .expect("valid response")
}

fn json_response(v: &Value) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from(v.to_string()))
        .expect("valid response")
}

/// The failures `errors P` answers, in turn (as the localnet's RPC endpoints do).
const FAILURES: [fn() -> Response<Body>; 3] = [
    || http_error(StatusCode::INTERNAL_SERVER_ERROR),
    || http_error(StatusCode::TOO_MANY_REQUESTS),
    || {
        json_response(
            &json!({"jsonrpc": "2.0", "error": {"code": -32603, "message": "Internal error (injected)"}, "id": null}),
        )
    },
];

async fn rpc_entry(State(ep): State<Arc<ProxyEndpoint>>, body: Bytes) -> Response<Body> {
    if body.len() > MAX_REQUEST {
        return http_error(StatusCode::PAYLOAD_TOO_LARGE);
    }
    if let Some(failure) = ep.switch.transport(&FAILURES).await {
        return failure;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return forward_raw(&ep, body).await;
    };
    let fault = ep.switch.fault();
    let answer = match &request {
        Value::Array(calls) => {
            let mut answers = Vec::with_capacity(calls.len());
            for call in calls {
                answers.push(serve_call(&ep, fault, call).await);
            }
            Value::Array(answers)
        }
        call => serve_call(&ep, fault, call).await,
    };
    match answer {
        Value::Null => http_error(StatusCode::BAD_GATEWAY),
        v => json_response(&v),
    }
}

/// Forwards a body that is not JSON as it is (the node answers its parse error).
async fn forward_raw(ep: &ProxyEndpoint, body: Bytes) -> Response<Body> {
    match post_upstream(ep, body.to_vec()).await {
        Some(v) => json_response(&v),
        None => http_error(StatusCode::BAD_GATEWAY),
    }
}

async fn post_upstream(ep: &ProxyEndpoint, body: Vec<u8>) -> Option<Value> {
    let mut resp = ep
        .upstream
        .http
        .post(&ep.upstream.rpc_url)
        .header("content-type", "application/json")
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .ok()?;
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.ok()? {
        if bytes.len() + chunk.len() > MAX_ANSWER {
            return None;
        }
        bytes.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&bytes).ok()
}

/// One call through the fault: forwarded and recorded, replayed, or acknowledged.
async fn serve_call(ep: &ProxyEndpoint, fault: Fault, call: &Value) -> Value {
    let id = call.get("id").cloned().unwrap_or(Value::Null);
    let method = call.get("method").and_then(Value::as_str).unwrap_or("");
    let key = History::key(call);
    if let Some(slot) = ep.serving_slot(fault) {
        if fault == Fault::Frozen && method == "sendTransaction" {
            // A frozen node acknowledges and drops: the signature is real, the transaction
            // never lands.
            if let Some(signature) = first_signature(call) {
                return json!({"jsonrpc": "2.0", "result": signature, "id": id});
            }
        }
        let kept = key
            .as_ref()
            .and_then(|k| ep.history.lock().unwrap().at(k, slot));
        if let Some(mut answer) = kept {
            answer["id"] = id;
            return answer;
        }
        let mut answer = forward(ep, call).await;
        cap_slot(method, &mut answer, slot);
        return answer;
    }
    let slot = ep.upstream.slot();
    let mut answer = forward(ep, call).await;
    if let Some(k) = key.filter(|_| answer.get("result").is_some()) {
        ep.history.lock().unwrap().record(k, slot, answer.clone());
    }
    if fault == Fault::Forked {
        fork_blockhashes(&mut answer);
    }
    answer
}

async fn forward(ep: &ProxyEndpoint, call: &Value) -> Value {
    match post_upstream(ep, call.to_string().into_bytes()).await {
        Some(v) => v,
        None => {
            let id = call.get("id").cloned().unwrap_or(Value::Null);
            json!({"jsonrpc": "2.0", "error": {"code": -32603, "message": "upstream unavailable"}, "id": id})
        }
    }
}

/// An answer given fresh by the node, reported as of `slot`: getSlot's number and every
/// context slot capped.
fn cap_slot(method: &str, answer: &mut Value, slot: Slot) {
    let Some(result) = answer.get_mut("result") else {
        return;
    };
    if method == "getSlot" {
        if let Some(s) = result.as_u64() {
            *result = json!(s.min(slot));
        }
    } else if let Some(context) = result.get_mut("context") {
        if let Some(s) = context.get("slot").and_then(Value::as_u64) {
            context["slot"] = json!(s.min(slot));
        }
    }
}

/// Reports every `blockhash` in `v` as another fork's: the same bytes reversed.
fn fork_blockhashes(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, field) in map.iter_mut() {
                match field {
                    Value::String(s) if k == "blockhash" => *s = other_fork(s),
                    other => fork_blockhashes(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(fork_blockhashes),
        _ => {}
    }
}

fn other_fork(hash: &str) -> String {
    match bs58::decode(hash).into_vec() {
        Ok(mut bytes) if !bytes.is_empty() => {
            bytes.reverse();
            bytes[0] ^= 0x5a;
            bs58::encode(bytes).into_string()
        }
        _ => hash.to_string(),
    }
}

/// The first signature of the transaction a `sendTransaction` call carries (base58 or
/// base64 wire format: a compact count, then 64-byte signatures).
fn first_signature(call: &Value) -> Option<String> {
    use base64::Engine;
    let encoded = call.get("params")?.get(0)?.as_str()?;
    let base64 = call
        .get("params")
        .and_then(|p| p.get(1))
        .and_then(|c| c.get("encoding"))
        .and_then(Value::as_str)
        == Some("base64");
    let bytes = if base64 {
        base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?
    } else {
        bs58::decode(encoded).into_vec().ok()?
    };
    let count = *bytes.first()?;
    if count == 0 || count & 0x80 != 0 {
        return None;
    }
    Some(bs58::encode(bytes.get(1..65)?).into_string())
}

async fn ws_entry(State(ep): State<Arc<ProxyEndpoint>>, ws: WebSocketUpgrade) -> impl IntoResponse {
    let dropped = ep.switch.session();
    ws.max_message_size(MAX_REQUEST)
        .on_upgrade(move |socket| relay(ep, socket, dropped))
}

/// Relays one PubSub connection to the node through the fault, until either side closes
/// or the port's session ends.
async fn relay(
    ep: Arc<ProxyEndpoint>,
    mut client: WebSocket,
    dropped: impl std::future::Future<Output = ()> + Send,
) {
    let Ok((mut upstream, _)) = tokio_tungstenite::connect_async(ep.upstream.ws_url.as_str()).await
    else {
        let _ = client.close().await;
        return;
    };
    tokio::pin!(dropped);
    loop {
        tokio::select! {
            _ = &mut dropped => break,
            m = client.next() => {
                let text = match m {
                    Some(Ok(ClientMessage::Text(t))) => t.to_string(),
                    Some(Ok(ClientMessage::Ping(_) | ClientMessage::Pong(_))) => continue,
                    _ => break,
                };
                let fault = ep.switch.fault();
                if let Some(refusal) = refuse_subscription(&ep, fault, &text) {
                    if client.send(ClientMessage::Text(refusal.into())).await.is_err() {
                        break;
                    }
                    continue;
                }
                if upstream.send(UpstreamMessage::Text(text.into())).await.is_err() {
                    break;
                }
            }
            m = upstream.next() => {
                let text = match m {
                    Some(Ok(UpstreamMessage::Text(t))) => t.to_string(),
                    Some(Ok(UpstreamMessage::Ping(_) | UpstreamMessage::Pong(_) | UpstreamMessage::Frame(_))) => continue,
                    _ => break,
                };
                let fault = ep.switch.fault();
                let Some(text) = distort_notification(fault, text) else { continue };
                let delay = fault.delay();
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if client.send(ClientMessage::Text(text.into())).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = client.close().await;
    let _ = upstream.close(None).await;
}

/// Under `errors P`, P % of subscribe requests are answered here with an error.
fn refuse_subscription(ep: &ProxyEndpoint, fault: Fault, text: &str) -> Option<String> {
    let request: Value = serde_json::from_str(text).ok()?;
    let method = request.get("method")?.as_str()?;
    if !method.ends_with("Subscribe") {
        return None;
    }
    ep.switch.should_fail(fault.failure_percent())?;
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    Some(json!({"jsonrpc": "2.0", "error": {"code": -32603, "message": "Internal error (injected)"}, "id": id}).to_string())
}

/// A message from the node as the fault lets it through: notifications stop while
/// frozen, slot notifications trail while lagging; answers pass.
fn distort_notification(fault: Fault, text: String) -> Option<String> {
    if !matches!(fault, Fault::Frozen | Fault::Lagging { .. }) {
        return Some(text);
    }
    let mut v: Value = serde_json::from_str(&text).ok()?;
    let Some(method) = v.get("method").and_then(Value::as_str) else {
        return Some(text);
    };
    if fault == Fault::Frozen {
        return None;
    }
    if method != "slotNotification" {
        return Some(text);
    }
    let result = &v["params"]["result"];
    let info = SlotInfo {
        slot: result["slot"].as_u64()?,
        parent: result["parent"].as_u64()?,
        root: result["root"].as_u64()?,
    };
    let shown = fault.slot_notification(info)?;
    v["params"]["result"]["slot"] = json!(shown.slot);
    v["params"]["result"]["parent"] = json!(shown.parent);
    v["params"]["result"]["root"] = json!(shown.root);
    Some(v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_replays_the_newest_answer_at_or_before_a_slot() {
        let mut h = History::default();
        let call = json!({"jsonrpc": "2.0", "id": 1, "method": "getSlot", "params": [{"commitment": "processed"}]});
        let key = History::key(&call).unwrap();
        for slot in [10, 11, 15] {
            h.record(key.clone(), slot, json!({"result": slot}));
        }
        assert_eq!(h.at(&key, 14), Some(json!({"result": 11})));
        assert_eq!(h.at(&key, 15), Some(json!({"result": 15})));
        assert_eq!(h.at(&key, 9), None);
        for slot in 0..200 {
            h.record(key.clone(), slot, json!({"result": slot}));
        }
        assert_eq!(h.calls[&key].len(), KEEP_PER_CALL);
    }

    #[test]
    fn a_fresh_answer_is_capped_at_the_served_slot() {
        let mut a = json!({"result": {"context": {"slot": 90}, "value": 5}});
        cap_slot("getBalance", &mut a, 40);
        assert_eq!(a["result"]["context"]["slot"], 40);
        let mut s = json!({"result": 90});
        cap_slot("getSlot", &mut s, 40);
        assert_eq!(s["result"], 40);
    }

    #[test]
    fn forked_blockhashes_differ_and_stay_base58() {
        let hash = bs58::encode([7u8; 32]).into_string();
        let mut v = json!({"result": {"context": {"slot": 1}, "value": {"blockhash": hash, "lastValidBlockHeight": 3}}});
        fork_blockhashes(&mut v);
        let forked = v["result"]["value"]["blockhash"].as_str().unwrap();
        assert_ne!(forked, hash);
        assert_eq!(bs58::decode(forked).into_vec().unwrap().len(), 32);
    }

    #[test]
    fn a_send_is_acknowledged_with_its_first_signature() {
        use base64::Engine;
        let mut wire = vec![1u8];
        wire.extend([9u8; 64]);
        wire.extend([0u8; 10]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(&wire);
        let call = json!({"method": "sendTransaction", "params": [b64, {"encoding": "base64"}]});
        assert_eq!(
            first_signature(&call),
            Some(bs58::encode([9u8; 64]).into_string())
        );
        let call =
            json!({"method": "sendTransaction", "params": [bs58::encode(&wire).into_string()]});
        assert_eq!(
            first_signature(&call),
            Some(bs58::encode([9u8; 64]).into_string())
        );
        assert_eq!(first_signature(&json!({"params": ["!!"]})), None);
    }

    #[test]
    fn frozen_stops_notifications_and_lagging_shifts_slots() {
        let note = json!({"jsonrpc": "2.0", "method": "slotNotification", "params": {"result": {"slot": 50, "parent": 49, "root": 18}, "subscription": 3}}).to_string();
        assert_eq!(distort_notification(Fault::Frozen, note.clone()), None);
        let lagging: Value = serde_json::from_str(
            &distort_notification(Fault::Lagging { slots: 20 }, note.clone()).unwrap(),
        )
        .unwrap();
        assert_eq!(lagging["params"]["result"]["slot"], 30);
        assert_eq!(
            distort_notification(Fault::Healthy, note.clone()),
            Some(note)
        );
        let answer = json!({"jsonrpc": "2.0", "result": 3, "id": 1}).to_string();
        assert_eq!(
            distort_notification(Fault::Frozen, answer.clone()),
            Some(answer)
        );
    }
}
