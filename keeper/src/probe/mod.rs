//! Probing endpoints, each the way its kind needs. Every prober reports the same figures
//! (an `Outcome` with its freshness, and a latency), so the tracker, the engine and the
//! program judge every kind by one set of rules:
//!
//! - `rpc`: one JSON-RPC batch (getSlot, getHealth, getLatestBlockhash); its slot is
//!   judged against the keeper's reference, its confirmed block hash against the others'.
//! - `websocket`: a persistent PubSub `slotSubscribe` (stream.rs); the slot is the last
//!   one notified, the latency how late that notification came.
//! - `gateway` (and `other`): GET the URL; 2xx within the timeout is healthy.
//! - `oracle`: GET the URL; the age of the timestamp the URL's fragment points at.
//! - `grpc`: a Yellowstone Geyser slot subscription (grpc.rs), judged like `websocket`.
mod grpc;
mod http;
mod rpc;
mod stream;

use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline::state::EndpointKind;

pub use rpc::{cluster_view, ClusterView};
pub use stream::{Protocol, SlotStream, StreamOutcome};

use crate::forks::Forks;
use crate::reference::References;
use crate::window::{Outcome, Probe};

/// One endpoint to probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub id: u32,
    pub url: String,
    pub kind: EndpointKind,
}

/// The most a probe reads of any answer: a probe needs a few KiB, and everything an
/// endpoint sends is untrusted (a 64 MiB answer once took a keeper to 2.2 GB).
pub const MAX_ANSWER_BYTES: usize = 64 << 10;

/// Reads an HTTP answer's body, at most `MAX_ANSWER_BYTES` (more is a failed answer),
/// within the request's own timeout (a body trickling a byte a second is cut there).
pub(crate) async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, Outcome> {
    if resp
        .content_length()
        .is_some_and(|n| n > MAX_ANSWER_BYTES as u64)
    {
        return Err(Outcome::Failed);
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() <= MAX_ANSWER_BYTES => {
                body.extend_from_slice(&chunk)
            }
            Ok(Some(_)) => return Err(Outcome::Failed),
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(Outcome::TimedOut),
            Err(_) => return Err(Outcome::Failed),
        }
    }
}

/// A number that differs from probe to probe (no RNG crate needed): what varies the
/// probes' requests, so an endpoint cannot single keepers out by one fixed batch.
pub(crate) fn variant() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    (nanos ^ COUNTER.fetch_add(0x9e37_79b9, Ordering::Relaxed)).wrapping_mul(0x2545_f491_4f6c_dd1d)
        >> 11
}

/// Milliseconds since `started`, saturating.
pub(crate) fn elapsed_ms(started: Instant) -> u32 {
    started.elapsed().as_millis().min(u32::MAX as u128) as u32
}

/// Every prober, with what they share: the HTTP client, the streams kept open between
/// probes, the block hashes seen per slot, and the reference (for notification delays).
pub struct Probers {
    http: reqwest::Client,
    streams: stream::Streams,
    forks: Arc<Forks>,
    references: Arc<References>,
}

impl Probers {
    pub fn new(http: reqwest::Client, references: Arc<References>, forks: Arc<Forks>) -> Self {
        Self {
            http,
            streams: stream::Streams::default(),
            forks,
            references,
        }
    }

    /// Probes `t` once. Stream kinds keep their subscription open between probes; a probe
    /// reads where the stream stands (waiting up to `timeout` for a first notification).
    pub async fn probe(&self, t: &Target, timeout: Duration) -> Probe {
        match t.kind {
            EndpointKind::Rpc => {
                let (mut probe, hash) = rpc::probe_rpc(&self.http, t.id, &t.url, timeout).await;
                if let Some((slot, hash)) = hash {
                    probe.divergent = self.forks.endpoint_said(t.id, slot, &hash);
                }
                probe
            }
            EndpointKind::WebSocket | EndpointKind::Grpc => {
                let protocol = if t.kind == EndpointKind::Grpc {
                    Protocol::Geyser
                } else {
                    Protocol::PubSub
                };
                let stream = self.streams.get(protocol, t.id, &t.url, timeout);
                stream::probe_stream(&stream, t.id, timeout, &self.references).await
            }
            EndpointKind::Oracle => http::probe_oracle(&self.http, t.id, &t.url, timeout).await,
            EndpointKind::Gateway | EndpointKind::Other => {
                http::probe_gateway(&self.http, t.id, &t.url, timeout).await
            }
        }
    }

    /// Closes the streams of endpoints no longer probed.
    pub fn retain(&self, targets: &[Target]) {
        self.streams.retain(|id, url| {
            targets.iter().any(|t| {
                t.id == id
                    && t.url == url
                    && matches!(t.kind, EndpointKind::WebSocket | EndpointKind::Grpc)
            })
        });
        let rpc: Vec<u32> = targets
            .iter()
            .filter(|t| t.kind == EndpointKind::Rpc)
            .map(|t| t.id)
            .collect();
        self.forks.retain(|id| rpc.contains(&id));
    }
}
