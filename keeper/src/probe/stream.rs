//! Slot streams: a persistent Solana PubSub `slotSubscribe`, kept open between probes and
//! reconnected with backoff (100 ms doubling to 5 s). A `websocket` endpoint is probed
//! without reconnecting:
//!
//! - each probe subscribes again on the open socket and drops the previous subscription
//!   once the new one is confirmed — unless the server answered the same id, as agave
//!   does for an identical subscription (unsubscribing it would end the only one) — so a
//!   server that refuses new subscribers (while still feeding old ones) is seen erroring,
//!   and the answer's round trip is a latency;
//! - its slot is the last one notified, so a socket that stays open but stops notifying
//!   is judged by stall and lag like a frozen RPC node;
//! - its latency is, right after a (re)connect, the time to connect and receive the first
//!   notification, and after that the larger of the subscribe round trip and how late the
//!   last notification came compared with when the keeper's reference reached that slot;
//! - a dropped connection since the previous probe is an error (a refused connection:
//!   unreachable).
//!
//! The keeper's own `ws_url` is followed the same way (without the probes) and feeds the
//! lag reference.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{watch, Notify};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};

use super::elapsed_ms;
use crate::reference::References;
use crate::window::{Freshness, Outcome, Probe};

const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// How a connection attempt or a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamOutcome {
    /// The connection was refused or could not be made.
    Unreachable,
    /// No connection or subscription within the timeout.
    TimedOut,
    /// The server refused the subscription, sent garbage, or closed the connection.
    Failed,
}

/// Where a stream stands.
#[derive(Clone, Debug, Default)]
pub struct StreamState {
    /// Counts connection attempts; the current attempt's number.
    pub connection: u64,
    /// When the current attempt started.
    pub attempt_started: Option<Instant>,
    /// The last slot notified on the current connection, and when it arrived.
    pub last: Option<(u64, Instant)>,
    /// Connect + first notification of the current connection.
    pub first_ms: Option<u32>,
    /// Failures so far, and the last one.
    pub failures: u64,
    pub last_failure: Option<StreamOutcome>,
    /// Re-subscriptions answered (the probes' checks), how many were refused, and the
    /// last one's round trip.
    pub checks: u64,
    pub check_errors: u64,
    pub check_ms: u32,
}

/// One persistent subscription; the task stops when this is dropped.
pub struct SlotStream {
    pub url: String,
    state: watch::Receiver<StreamState>,
    /// Asks the connection to subscribe again (a probe's check).
    check: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
    /// What the previous probe saw: failures and connection number.
    probed_failures: AtomicU64,
    probed_connection: AtomicU64,
}

impl Drop for SlotStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a stream speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Solana PubSub over WebSocket: slotSubscribe.
    PubSub,
    /// Yellowstone Geyser gRPC: Subscribe with a slots filter.
    Geyser,
}

impl SlotStream {
    /// Opens a PubSub slot subscription to `url` (ws:// or wss://), in the background.
    pub fn pubsub(url: &str, connect_timeout: Duration) -> Self {
        Self::open(Protocol::PubSub, url, connect_timeout)
    }

    /// Opens a slot subscription to `url` speaking `protocol`, in the background.
    pub fn open(protocol: Protocol, url: &str, connect_timeout: Duration) -> Self {
        let (tx, rx) = watch::channel(StreamState::default());
        let check = Arc::new(Notify::new());
        let session = Session {
            protocol,
            url: url.to_string(),
            connect_timeout,
            tx,
            check: check.clone(),
        };
        let task = tokio::spawn(follow(session));
        Self {
            url: url.to_string(),
            state: rx,
            check,
            task,
            probed_failures: AtomicU64::new(0),
            probed_connection: AtomicU64::new(0),
        }
    }

    pub fn state(&self) -> StreamState {
        self.state.borrow().clone()
    }

    /// A receiver that sees every change (for the reference feed).
    pub fn watch(&self) -> watch::Receiver<StreamState> {
        self.state.clone()
    }
}

/// What one stream's connections share.
pub(super) struct Session {
    pub protocol: Protocol,
    pub url: String,
    pub connect_timeout: Duration,
    pub tx: watch::Sender<StreamState>,
    /// A probe's request to check the connection (re-subscribe, or ping).
    pub check: Arc<Notify>,
}

impl Session {
    /// Records slot `slot` notified now. The newest notification stands, not the highest
    /// slot: one notification from the future must not pin the stream there (the probe
    /// judges each slot against the keeper's reference).
    pub fn notified(&self, slot: u64, connected: Instant) {
        let now = Instant::now();
        self.tx.send_modify(|s| {
            if s.last.is_none_or(|(last, _)| slot != last) {
                s.last = Some((slot, now));
            }
            s.first_ms.get_or_insert(elapsed_ms(connected));
        });
    }

    /// Records a probe's check answered after `sent`: refused or not.
    pub fn checked(&self, sent: Instant, refused: bool) {
        self.tx.send_modify(|s| {
            s.checks += 1;
            s.check_errors += refused as u64;
            s.check_ms = elapsed_ms(sent);
        });
    }
}

/// Keeps a subscription open forever, reconnecting with backoff (reset once a connection
/// delivers a notification).
async fn follow(session: Session) {
    let mut backoff = BACKOFF_START;
    loop {
        session.tx.send_modify(|s| {
            s.connection += 1;
            s.attempt_started = Some(Instant::now());
            s.last = None;
            s.first_ms = None;
        });
        let ended = match session.protocol {
            Protocol::PubSub => subscribe(&session).await,
            Protocol::Geyser => super::grpc::subscribe(&session).await,
        };
        let delivered = session.tx.borrow().first_ms.is_some();
        if delivered {
            backoff = BACKOFF_START;
        }
        session.tx.send_modify(|s| {
            s.failures += 1;
            s.last_failure = Some(ended);
        });
        tracing::debug!(url = %session.url, ?ended, "slot stream ended; reconnecting in {backoff:?}");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

fn connect_failure(e: &tungstenite::Error) -> StreamOutcome {
    match e {
        tungstenite::Error::Io(io)
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::NotFound
            ) =>
        {
            StreamOutcome::Unreachable
        }
        tungstenite::Error::Url(_) => StreamOutcome::Unreachable,
        _ => StreamOutcome::Failed,
    }
}

fn request(id: u64, method: &str, params: Value) -> Message {
    let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    Message::Text(body.to_string().into())
}

/// A PubSub message, as far as the slot stream reads it.
#[derive(Deserialize, Debug)]
struct Incoming {
    id: Option<u64>,
    method: Option<String>,
    /// A subscribe answer: the subscription id (absent, or anything else: refused).
    result: Option<serde_json::Value>,
    params: Option<NotificationParams>,
}

#[derive(Deserialize, Debug)]
struct NotificationParams {
    result: SlotResult,
}

#[derive(Deserialize, Debug)]
struct SlotResult {
    slot: u64,
}

/// The most a PubSub message or frame may hold: a slot notification is ~120 bytes.
/// (tungstenite's own default is 64 MiB.)
fn websocket_limits() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(super::MAX_ANSWER_BYTES))
        .max_frame_size(Some(super::MAX_ANSWER_BYTES))
}

/// One PubSub connection: connect, subscribe, record notifications and the probes'
/// checks until it ends. Anything but a slot notification or an answer to this stream's
/// own requests (garbage, another method, a flood) ends the connection.
async fn subscribe(session: &Session) -> StreamOutcome {
    let started = Instant::now();
    let connect = tokio_tungstenite::connect_async_with_config(
        session.url.as_str(),
        Some(websocket_limits()),
        false,
    );
    let mut ws = match tokio::time::timeout(session.connect_timeout, connect).await {
        Err(_) => return StreamOutcome::TimedOut,
        Ok(Err(e)) => return connect_failure(&e),
        Ok(Ok((ws, _))) => ws,
    };
    if ws
        .send(request(1, "slotSubscribe", json!([])))
        .await
        .is_err()
    {
        return StreamOutcome::Failed;
    }
    let mut subscription: Option<u64> = None;
    // The check in flight: its request id and when it was sent.
    let mut pending: Option<(u64, Instant)> = None;
    let mut next_id = 2;
    loop {
        let message = tokio::select! {
            m = ws.next() => m,
            _ = session.check.notified(), if pending.is_none() && subscription.is_some() => {
                if ws.send(request(next_id, "slotSubscribe", json!([]))).await.is_err() {
                    return StreamOutcome::Failed;
                }
                pending = Some((next_id, Instant::now()));
                next_id += 1;
                continue;
            }
        };
        let text = match message {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            _ => return StreamOutcome::Failed,
        };
        let Ok(v) = serde_json::from_str::<Incoming>(&text) else {
            return StreamOutcome::Failed;
        };
        match v.method.as_deref() {
            Some("slotNotification") => match v.params {
                Some(p) => {
                    session.notified(p.result.slot, started);
                    continue;
                }
                None => return StreamOutcome::Failed,
            },
            Some(_) => return StreamOutcome::Failed,
            None => {}
        }
        let id = v.id;
        let answered = v.result.as_ref().and_then(serde_json::Value::as_u64);
        if id == Some(1) {
            // The first subscription: refused means this connection is useless.
            match answered {
                Some(sub) => subscription = Some(sub),
                None => return StreamOutcome::Failed,
            }
        } else if let Some((check_id, sent)) = pending.filter(|(c, _)| Some(*c) == id) {
            pending = None;
            if let (Some(new), Some(old)) = (answered, subscription) {
                subscription = Some(new);
                // Agave answers an identical subscription with the id it already gave:
                // dropping "the old one" would then end the only subscription.
                if new != old {
                    let bye = request(check_id + 1_000_000, "slotUnsubscribe", json!([old]));
                    let _ = ws.send(bye).await;
                }
            }
            session.checked(sent, answered.is_none());
        } else if id.is_some_and(|i| i < 1_000_000) {
            // an answer to nothing this stream asked
            return StreamOutcome::Failed;
        }
    }
}

/// The streams kept open for the `websocket` and `grpc` endpoints, by endpoint id.
#[derive(Default)]
pub struct Streams {
    open: Mutex<BTreeMap<u32, Arc<SlotStream>>>,
}

impl Streams {
    /// The stream of endpoint `id` at `url`, opened on first use (and reopened when its
    /// URL changed).
    pub fn get(
        &self,
        protocol: Protocol,
        id: u32,
        url: &str,
        connect_timeout: Duration,
    ) -> Arc<SlotStream> {
        let mut open = self.open.lock().unwrap();
        match open.get(&id) {
            Some(s) if s.url == url => s.clone(),
            _ => {
                let s = Arc::new(SlotStream::open(protocol, url, connect_timeout));
                open.insert(id, s.clone());
                s
            }
        }
    }

    /// Closes the streams `keep` says no.
    pub fn retain(&self, keep: impl Fn(u32, &str) -> bool) {
        self.open.lock().unwrap().retain(|id, s| keep(*id, &s.url));
    }
}

/// One probe of a stream: asks the connection to subscribe again and waits up to
/// `timeout` for the answer (and, on a fresh connection, for a first notification).
pub async fn probe_stream(
    stream: &SlotStream,
    id: u32,
    timeout: Duration,
    references: &References,
) -> Probe {
    let started = Instant::now();
    let seen_failures = stream.probed_failures.load(Ordering::Relaxed);
    let before = stream.state();
    stream.check.notify_one();
    let mut rx = stream.watch();
    let _ = tokio::time::timeout(
        timeout,
        rx.wait_for(|s| {
            s.failures > seen_failures
                || (s.checks > before.checks
                    && (s.last.is_some() || s.check_errors > before.check_errors))
        }),
    )
    .await;
    let s = stream.state();
    stream.probed_failures.store(s.failures, Ordering::Relaxed);
    let timed_out = || {
        let waited = s.attempt_started.map_or(0, elapsed_ms);
        (Outcome::TimedOut, waited.max(timeout.as_millis() as u32))
    };
    let (outcome, latency_ms) = if s.failures > seen_failures {
        match s.last_failure {
            Some(StreamOutcome::Unreachable) => (Outcome::Unreachable, elapsed_ms(started)),
            Some(StreamOutcome::TimedOut) => (Outcome::TimedOut, timeout.as_millis() as u32),
            _ => (Outcome::Failed, elapsed_ms(started)),
        }
    } else if s.checks == before.checks {
        timed_out()
    } else if s.check_errors > before.check_errors {
        (Outcome::Failed, s.check_ms)
    } else if let Some((slot, at)) = s.last {
        let fresh_connection = stream
            .probed_connection
            .swap(s.connection, Ordering::Relaxed)
            != s.connection;
        let latency = match (fresh_connection, s.first_ms) {
            (true, Some(first)) => first,
            _ => references.delay(slot, at),
        };
        (Outcome::Ok(Freshness::Slot(slot)), latency.max(s.check_ms))
    } else {
        timed_out()
    };
    Probe {
        endpoint_id: id,
        outcome,
        latency_ms,
        divergent: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any PubSub message (up to the frame cap) parses into what the stream reads, or
        /// is refused — never a panic.
        #[test]
        fn any_pubsub_message_parses_or_is_refused_without_a_panic(text in ".{0,2048}") {
            let _ = serde_json::from_str::<Incoming>(&text);
        }

        #[test]
        fn any_notification_shape_parses_or_is_refused(
            slot in proptest::prelude::any::<i128>(),
            method in "[a-zA-Z]{0,20}",
            id in proptest::prelude::any::<i64>(),
        ) {
            let text = format!(
                r#"{{"jsonrpc":"2.0","method":"{method}","id":{id},"params":{{"result":{{"slot":{slot}}},"subscription":1}}}}"#
            );
            if let Ok(m) = serde_json::from_str::<Incoming>(&text) {
                proptest::prop_assert!(m.params.is_none_or(|p| i128::from(p.result.slot) == slot));
            }
        }
    }
}
