//! PubSub over WebSocket: accountSubscribe, programSubscribe, signatureSubscribe and
//! slotSubscribe (with their unsubscribes), in Solana's notification shapes. Notifications
//! are sent when a transaction commits (account, program, signature) and when a slot ends.
//! The simulated WebSocket endpoints serve the same connections through a `Distortion`.
//!
//! (Over 400 lines: every subscription kind and its notification shape, served by one
//! connection loop.)
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use solana_account::ReadableAccount;
use solana_account_decoder::{encode_ui_account, UiAccountEncoding};
use solana_pubkey::Pubkey;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSignatureSubscribeConfig,
};
use solana_rpc_client_api::response::{
    ProcessedSignatureResult, RpcKeyedAccount, RpcResponseContext, RpcSignatureResult, SlotInfo,
};
use solana_runtime::bank::Bank;
use solana_signature::Signature;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use crate::cluster::{Cluster, ClusterEvent};
use crate::rpc::{account_encoding, filter_allows, RpcError};

/// Subscriptions one connection may hold.
const MAX_SUBSCRIPTIONS: usize = 1_000;

/// Messages queued for one connection's writer.
const OUTBOX: usize = 1_024;

/// A PubSub server over one cluster: its connections share the subscription ids.
#[derive(Clone)]
pub struct PubSub {
    cluster: Arc<Cluster>,
    ids: Arc<Mutex<Ids>>,
}

/// Subscription ids as agave hands them out: identical subscriptions (the same method and
/// parameters) share one id across every connection — a second `slotSubscribe` answers
/// the id of the first — and an id lives while some connection holds it. A connection
/// holds an id once however often it subscribes; unsubscribing (or leaving) lets go.
#[derive(Default)]
struct Ids {
    next: u64,
    /// Per subscription (its parsed parameters): its id and how many connections hold it.
    by_params: HashMap<String, (u64, usize)>,
    params_of: HashMap<u64, String>,
}

impl Ids {
    /// The id for `params`, held once more by a connection that did not hold it.
    fn hold(&mut self, params: String, already_held: impl Fn(u64) -> bool) -> u64 {
        if let Some((id, holders)) = self.by_params.get_mut(&params) {
            if !already_held(*id) {
                *holders += 1;
            }
            return *id;
        }
        self.next += 1;
        let id = self.next;
        self.by_params.insert(params.clone(), (id, 1));
        self.params_of.insert(id, params);
        id
    }

    /// A connection lets go of `id`; the id ends with its last holder.
    fn release(&mut self, id: u64) {
        let Some(params) = self.params_of.get(&id) else {
            return;
        };
        if let Some((_, holders)) = self.by_params.get_mut(params) {
            *holders = holders.saturating_sub(1);
            if *holders == 0 {
                self.by_params.remove(params);
                self.params_of.remove(&id);
            }
        }
    }
}

/// How a connection departs from what the cluster does: not at all on the localnet's own
/// server (`Faithful`); by its fault on a simulated WebSocket endpoint. Asked at every
/// message, so a fault change applies to open connections at once.
pub trait Distortion: Send + Sync + 'static {
    /// An error to answer this request with instead of handling it.
    fn fail(&self, _method: &str) -> Option<RpcError> {
        None
    }
    /// The slot notification to send when the cluster ends a slot, if any.
    fn slot(&self, info: SlotInfo) -> Option<SlotInfo> {
        Some(info)
    }
    /// Whether account, program and signature notifications are sent.
    fn commits(&self) -> bool {
        true
    }
    /// How long each outgoing message is held back.
    fn delay(&self) -> Duration {
        Duration::ZERO
    }
    /// A hostile endpoint's answer (`giant`, `endless`, `garbage`), if any.
    fn hostile(&self) -> Option<lifeline_faults::HostileBody> {
        None
    }
}

/// The cluster as it is.
pub struct Faithful;

impl Distortion for Faithful {}

impl PubSub {
    pub fn new(cluster: Arc<Cluster>) -> Self {
        Self {
            cluster,
            ids: Arc::new(Mutex::new(Ids::default())),
        }
    }

    /// Serves one connection through `distortion` until the client leaves or `dropped`
    /// resolves (then the socket is dropped as it is, without a close frame).
    pub async fn serve<D: Distortion>(
        self,
        socket: WebSocket,
        distortion: Arc<D>,
        dropped: impl Future<Output = ()> + Send,
    ) {
        connection(self, socket, distortion, dropped).await
    }
}

#[derive(Debug)]
enum Sub {
    Account {
        key: Pubkey,
        config: RpcAccountInfoConfig,
    },
    Program {
        program: Pubkey,
        config: RpcProgramAccountsConfig,
    },
    Signature {
        signature: Signature,
    },
    Slot,
}

impl Sub {
    fn kind(&self) -> &'static str {
        match self {
            Sub::Account { .. } => "account",
            Sub::Program { .. } => "program",
            Sub::Signature { .. } => "signature",
            Sub::Slot => "slot",
        }
    }
}

pub fn router(cluster: Arc<Cluster>) -> Router {
    Router::new()
        .route("/", get(upgrade))
        .with_state(PubSub::new(cluster))
}

async fn upgrade(State(state): State<PubSub>, ws: WebSocketUpgrade) -> impl IntoResponse {
    ws.on_upgrade(move |socket| {
        connection(state, socket, Arc::new(Faithful), std::future::pending())
    })
}

/// A notification's context: the slot only (agave's PubSub sends no apiVersion there,
/// unlike its JSON-RPC answers).
fn notification_context(slot: u64) -> RpcResponseContext {
    RpcResponseContext {
        slot,
        api_version: None,
    }
}

fn notification(method: &str, subscription: u64, result: Value) -> Message {
    Message::Text(
        json!({ "jsonrpc": "2.0", "method": method, "params": { "result": result, "subscription": subscription } })
            .to_string()
            .into(),
    )
}

fn reply(id: Value, result: Result<Value, RpcError>) -> Message {
    let body = match result {
        Ok(r) => json!({ "jsonrpc": "2.0", "result": r, "id": id }),
        Err(e) => {
            let mut err = json!({ "code": e.code, "message": e.message });
            if let Some(d) = e.data {
                err["data"] = d;
            }
            json!({ "jsonrpc": "2.0", "error": err, "id": id })
        }
    };
    Message::Text(body.to_string().into())
}

fn param<T: serde::de::DeserializeOwned + Default>(
    params: &Value,
    i: usize,
) -> Result<T, RpcError> {
    match params.get(i) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| RpcError::invalid_params(format!("Invalid params: {e}"))),
    }
}

fn key_param(params: &Value) -> Result<Pubkey, RpcError> {
    let s = params
        .get(0)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params("Invalid params: missing pubkey"))?;
    crate::rpc::parse_pubkey(s)
}

async fn connection<D: Distortion>(
    state: PubSub,
    socket: WebSocket,
    distortion: Arc<D>,
    dropped: impl Future<Output = ()> + Send,
) {
    let (sink, mut rx) = socket.split();
    let (outbox, queue) = mpsc::channel(OUTBOX);
    let writer = tokio::spawn(write(sink, queue, distortion.clone()));
    let mut events = state.cluster.subscribe();
    let mut subs: HashMap<u64, Sub> = HashMap::new();
    tokio::pin!(dropped);
    loop {
        let messages = tokio::select! {
            _ = &mut dropped => {
                writer.abort();
                release_all(&state, &subs);
                return;
            }
            msg = rx.next() => {
                let Some(Ok(msg)) = msg else { break };
                let text = match msg {
                    Message::Text(t) => t.to_string(),
                    Message::Close(_) => break,
                    _ => continue,
                };
                let (reply, mut immediate) = handle(&state, &mut subs, &text, distortion.as_ref());
                immediate.insert(0, reply);
                if let Some(hostile) = distortion.hostile() {
                    immediate = hostile_messages(hostile, immediate, &outbox);
                }
                immediate
            }
            ev = events.recv() => {
                match ev {
                    Ok(ev) => notifications(&state, &mut subs, &ev, distortion.as_ref()),
                    Err(RecvError::Lagged(_)) => continue,
                    Err(RecvError::Closed) => break,
                }
            }
        };
        let now = Instant::now();
        for m in messages {
            if outbox.send((now, m)).await.is_err() {
                release_all(&state, &subs);
                return;
            }
        }
    }
    release_all(&state, &subs);
    drop(outbox);
    let _ = writer.await;
}

/// What a hostile endpoint sends instead of `answers`: one giant message after them,
/// malformed JSON in their place, or (endless) a flood that runs until the connection
/// ends.
fn hostile_messages(
    hostile: lifeline_faults::HostileBody,
    answers: Vec<Message>,
    outbox: &mpsc::Sender<(Instant, Message)>,
) -> Vec<Message> {
    use lifeline_faults::HostileBody;
    match hostile {
        HostileBody::Giant(bytes) => {
            let pad = "a".repeat(usize::try_from(bytes).unwrap_or(usize::MAX).min(1 << 30));
            let giant =
                format!(r#"{{"jsonrpc":"2.0","method":"slotNotification","params":"{pad}"}}"#);
            answers
                .into_iter()
                .chain(std::iter::once(Message::Text(giant.into())))
                .collect()
        }
        HostileBody::Garbage => {
            let text = String::from_utf8_lossy(lifeline_faults::hostile::garbage()).into_owned();
            answers
                .iter()
                .map(|_| Message::Text(text.clone().into()))
                .collect()
        }
        HostileBody::Endless => {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let chunk = format!(
                    r#"{{"jsonrpc":"2.0","method":"flood","params":"{}"}}"#,
                    " ".repeat(32 << 10)
                );
                while outbox
                    .send((Instant::now(), Message::Text(chunk.clone().into())))
                    .await
                    .is_ok()
                {}
            });
            answers
        }
        // A WebSocket message arrives whole: trickling and redirects are HTTP's.
        HostileBody::Trickle | HostileBody::Redirect => answers,
    }
}

/// A connection that ends lets go of every id it held.
fn release_all(state: &PubSub, subs: &HashMap<u64, Sub>) {
    let mut ids = state.ids.lock().unwrap();
    for id in subs.keys() {
        ids.release(*id);
    }
}

/// Sends a connection's messages in order, each held back by the distortion's delay from
/// the moment it was made.
async fn write<D: Distortion>(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<(Instant, Message)>,
    distortion: Arc<D>,
) {
    while let Some((made, m)) = queue.recv().await {
        let delay = distortion.delay();
        if !delay.is_zero() {
            tokio::time::sleep_until((made + delay).into()).await;
        }
        if sink.send(m).await.is_err() {
            return;
        }
    }
}

/// Answers one client message; also returns notifications due immediately (a signature
/// that already landed).
fn handle(
    state: &PubSub,
    subs: &mut HashMap<u64, Sub>,
    text: &str,
    distortion: &impl Distortion,
) -> (Message, Vec<Message>) {
    let req: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let e = RpcError::parse(format!("Parse error: {e}"));
            return (reply(Value::Null, Err(e)), vec![]);
        }
    };
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = req.get("method").and_then(Value::as_str) else {
        let e = RpcError::invalid_request("Invalid request: missing method");
        return (reply(id, Err(e)), vec![]);
    };
    if let Some(e) = distortion.fail(method) {
        return (reply(id, Err(e)), vec![]);
    }
    let params = req.get("params").cloned().unwrap_or(Value::Array(vec![]));
    let mut immediate = Vec::new();
    let result = call(state, subs, method, &params, &mut immediate);
    (reply(id, result), immediate)
}

/// One subscribe or unsubscribe request.
fn call(
    state: &PubSub,
    subs: &mut HashMap<u64, Sub>,
    method: &str,
    params: &Value,
    immediate: &mut Vec<Message>,
) -> Result<Value, RpcError> {
    let sub = match method {
        "accountSubscribe" => Sub::Account {
            key: key_param(params)?,
            config: param(params, 1)?,
        },
        "programSubscribe" => program_sub(params)?,
        "signatureSubscribe" => signature_sub(params)?,
        "slotSubscribe" => Sub::Slot,
        "accountUnsubscribe"
        | "programUnsubscribe"
        | "signatureUnsubscribe"
        | "slotUnsubscribe" => return unsubscribe(state, subs, method, params),
        other => return Err(RpcError::method_not_found(other)),
    };
    if subs.len() >= MAX_SUBSCRIPTIONS {
        return Err(RpcError::invalid_request(format!(
            "Too many subscriptions (max {MAX_SUBSCRIPTIONS})"
        )));
    }
    let mut ids = state.ids.lock().unwrap();
    let id = ids.hold(format!("{method} {sub:?}"), |id| subs.contains_key(&id));
    // A signature that already landed is notified at once, and the subscription ends.
    let landed = match &sub {
        Sub::Signature { signature } => state.cluster.transaction(signature),
        _ => None,
    };
    match landed {
        Some(r) => {
            immediate.push(signature_notification(id, r.slot, r.err));
            if !subs.contains_key(&id) {
                ids.release(id);
            }
        }
        None => {
            subs.insert(id, sub);
        }
    }
    Ok(json!(id))
}

fn program_sub(params: &Value) -> Result<Sub, RpcError> {
    let program = key_param(params)?;
    let config: RpcProgramAccountsConfig = param(params, 1)?;
    for f in config.filters.iter().flatten() {
        f.verify()
            .map_err(|e| RpcError::invalid_params(format!("Invalid param: filter: {e}")))?;
    }
    Ok(Sub::Program { program, config })
}

fn signature_sub(params: &Value) -> Result<Sub, RpcError> {
    let s = params
        .get(0)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params("Invalid params: missing signature"))?;
    let signature = crate::rpc::parse_signature(s)?;
    let _config: RpcSignatureSubscribeConfig = param(params, 1)?;
    Ok(Sub::Signature { signature })
}

fn unsubscribe(
    state: &PubSub,
    subs: &mut HashMap<u64, Sub>,
    method: &str,
    params: &Value,
) -> Result<Value, RpcError> {
    let id: u64 = params
        .get(0)
        .and_then(Value::as_u64)
        .ok_or_else(|| RpcError::invalid_params("Invalid params: missing subscription id"))?;
    let kind = method.trim_end_matches("Unsubscribe");
    match subs.get(&id) {
        Some(s) if s.kind() == kind => {
            subs.remove(&id);
            state.ids.lock().unwrap().release(id);
            Ok(json!(true))
        }
        _ => Err(RpcError::invalid_params("Invalid subscription id.")),
    }
}

fn signature_notification(
    id: u64,
    slot: u64,
    err: Option<solana_transaction_error::TransactionError>,
) -> Message {
    let value = RpcSignatureResult::ProcessedSignature(ProcessedSignatureResult {
        err: err.map(Into::into),
    });
    notification(
        "signatureNotification",
        id,
        json!({ "context": notification_context(slot), "value": value }),
    )
}

fn notifications(
    state: &PubSub,
    subs: &mut HashMap<u64, Sub>,
    ev: &ClusterEvent,
    distortion: &impl Distortion,
) -> Vec<Message> {
    match ev {
        ClusterEvent::Slot { slot, parent, root } => {
            let Some(info) = distortion.slot(SlotInfo {
                slot: *slot,
                parent: *parent,
                root: *root,
            }) else {
                return vec![];
            };
            subs.iter()
                .filter(|(_, sub)| matches!(sub, Sub::Slot))
                .map(|(id, _)| notification("slotNotification", *id, json!(info)))
                .collect()
        }
        ClusterEvent::Committed { .. } if !distortion.commits() => vec![],
        ClusterEvent::Committed {
            signature,
            slot,
            err,
            writable,
        } => {
            let bank = state.cluster.working_bank();
            let mut out = Vec::new();
            let mut done = Vec::new();
            for (id, sub) in subs.iter() {
                match sub {
                    Sub::Account { key, config } if writable.contains(key) => {
                        out.extend(account_notification(&bank, *id, key, config, *slot));
                    }
                    Sub::Program { program, config } => {
                        for key in writable.iter() {
                            out.extend(program_notification(
                                &bank, *id, key, program, config, *slot,
                            ));
                        }
                    }
                    Sub::Signature { signature: s } if s == signature => {
                        out.push(signature_notification(*id, *slot, err.clone()));
                        done.push(*id);
                    }
                    _ => {}
                }
            }
            let mut ids = state.ids.lock().unwrap();
            for id in done {
                subs.remove(&id);
                ids.release(id);
            }
            out
        }
    }
}

fn account_notification(
    bank: &Bank,
    id: u64,
    key: &Pubkey,
    config: &RpcAccountInfoConfig,
    slot: u64,
) -> Option<Message> {
    let account = bank.get_account(key)?;
    let encoding = account_encoding(config.encoding.or(Some(UiAccountEncoding::Base64)));
    let ui = encode_ui_account(key, &account, encoding, None, config.data_slice);
    Some(notification(
        "accountNotification",
        id,
        json!({ "context": notification_context(slot), "value": ui }),
    ))
}

/// A program subscription's notification for the written account `key`, if the program
/// owns it and the filters let it through.
fn program_notification(
    bank: &Bank,
    id: u64,
    key: &Pubkey,
    program: &Pubkey,
    config: &RpcProgramAccountsConfig,
    slot: u64,
) -> Option<Message> {
    let account = bank.get_account(key)?;
    let filters = config.filters.as_deref().unwrap_or(&[]);
    if account.owner() != program || !filters.iter().all(|f| filter_allows(f, account.data())) {
        return None;
    }
    let encoding = account_encoding(
        config
            .account_config
            .encoding
            .or(Some(UiAccountEncoding::Base64)),
    );
    let keyed = RpcKeyedAccount {
        pubkey: key.to_string(),
        account: encode_ui_account(
            key,
            &account,
            encoding,
            None,
            config.account_config.data_slice,
        ),
    };
    Some(notification(
        "programNotification",
        id,
        json!({ "context": notification_context(slot), "value": keyed }),
    ))
}
