//! Slot streams: a persistent Solana PubSub `slotSubscribe`, kept open between probes and
//! reconnected with backoff (100 ms doubling to 5 s). A `websocket` endpoint is probed by
//! reading where its stream stands, never by reconnecting:
//!
//! - its slot is the last one notified, so a socket that stays open but stops notifying
//!   is judged by stall and lag like a frozen RPC node;
//! - its latency is, right after a (re)connect, the time to connect and receive the first
//!   notification, and after that how late the last notification came compared with the
//!   moment the keeper's reference first reached that slot;
//! - a dropped connection or a refused subscription since the previous probe is an
//!   error (a refused connection: unreachable).
//!
//! The keeper's own `ws_url` is followed the same way and feeds the lag reference.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
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
}

/// One persistent subscription; the task stops when this is dropped.
pub struct SlotStream {
    pub url: String,
    state: watch::Receiver<StreamState>,
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

impl SlotStream {
    /// Opens a PubSub slot subscription to `url` (ws:// or wss://), in the background.
    pub fn pubsub(url: &str, connect_timeout: Duration) -> Self {
        let (tx, rx) = watch::channel(StreamState::default());
        let task = tokio::spawn(follow(url.to_string(), connect_timeout, tx));
        Self {
            url: url.to_string(),
            state: rx,
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

/// Keeps a subscription open forever, reconnecting with backoff.
async fn follow(url: String, connect_timeout: Duration, tx: watch::Sender<StreamState>) {
    let mut backoff = BACKOFF_START;
    loop {
        tx.send_modify(|s| {
            s.connection += 1;
            s.attempt_started = Some(Instant::now());
            s.last = None;
            s.first_ms = None;
        });
        let ended = subscribe(&url, connect_timeout, &tx, &mut backoff).await;
        tx.send_modify(|s| {
            s.failures += 1;
            s.last_failure = Some(ended);
        });
        tracing::debug!(%url, ?ended, "slot stream ended; reconnecting in {backoff:?}");
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

/// One connection: connect, subscribe, record notifications until it ends.
async fn subscribe(
    url: &str,
    connect_timeout: Duration,
    tx: &watch::Sender<StreamState>,
    backoff: &mut Duration,
) -> StreamOutcome {
    let started = Instant::now();
    let mut ws =
        match tokio::time::timeout(connect_timeout, tokio_tungstenite::connect_async(url)).await {
            Err(_) => return StreamOutcome::TimedOut,
            Ok(Err(e)) => return connect_failure(&e),
            Ok(Ok((ws, _))) => ws,
        };
    let request = json!({ "jsonrpc": "2.0", "id": 1, "method": "slotSubscribe" });
    if ws
        .send(Message::Text(request.to_string().into()))
        .await
        .is_err()
    {
        return StreamOutcome::Failed;
    }
    while let Some(message) = ws.next().await {
        let text = match message {
            Ok(Message::Text(t)) => t,
            Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
            Ok(Message::Binary(_)) | Ok(Message::Close(_)) | Err(_) => break,
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            break;
        };
        if v.get("error").is_some() {
            break;
        }
        if v["method"] != "slotNotification" {
            continue; // the subscription id
        }
        let Some(slot) = v["params"]["result"]["slot"].as_u64() else {
            break;
        };
        let now = Instant::now();
        tx.send_modify(|s| {
            s.last = Some((slot, now));
            s.first_ms.get_or_insert(elapsed_ms(started));
        });
        *backoff = BACKOFF_START;
    }
    StreamOutcome::Failed
}

/// The streams kept open for the `websocket` endpoints, by endpoint id.
#[derive(Default)]
pub struct Streams {
    open: Mutex<BTreeMap<u32, Arc<SlotStream>>>,
}

impl Streams {
    /// The stream of endpoint `id` at `url`, opened on first use (and reopened when its
    /// URL changed).
    pub fn pubsub(&self, id: u32, url: &str, connect_timeout: Duration) -> Arc<SlotStream> {
        let mut open = self.open.lock().unwrap();
        match open.get(&id) {
            Some(s) if s.url == url => s.clone(),
            _ => {
                let s = Arc::new(SlotStream::pubsub(url, connect_timeout));
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

/// Reads where `stream` stands as one probe, waiting up to `timeout` for a first
/// notification on a fresh connection.
pub async fn probe_stream(
    stream: &SlotStream,
    id: u32,
    timeout: Duration,
    references: &References,
) -> Probe {
    let started = Instant::now();
    let seen_failures = stream.probed_failures.load(Ordering::Relaxed);
    let mut rx = stream.watch();
    let _ = tokio::time::timeout(
        timeout,
        rx.wait_for(|s| s.failures > seen_failures || s.last.is_some()),
    )
    .await;
    let s = stream.state();
    stream.probed_failures.store(s.failures, Ordering::Relaxed);
    let (outcome, latency_ms) = match (s.failures > seen_failures, s.last) {
        (true, _) => match s.last_failure {
            Some(StreamOutcome::Unreachable) => (Outcome::Unreachable, elapsed_ms(started)),
            Some(StreamOutcome::TimedOut) => (Outcome::TimedOut, timeout.as_millis() as u32),
            _ => (Outcome::Failed, elapsed_ms(started)),
        },
        (false, Some((slot, at))) => {
            let fresh_connection = stream
                .probed_connection
                .swap(s.connection, Ordering::Relaxed)
                != s.connection;
            let latency = match (fresh_connection, s.first_ms) {
                (true, Some(first)) => first,
                _ => references.delay(slot, at),
            };
            (Outcome::Ok(Freshness::Slot(slot)), latency)
        }
        (false, None) => (
            Outcome::TimedOut,
            s.attempt_started
                .map_or(0, elapsed_ms)
                .max(timeout.as_millis() as u32),
        ),
    };
    Probe {
        endpoint_id: id,
        outcome,
        latency_ms,
        divergent: false,
    }
}
