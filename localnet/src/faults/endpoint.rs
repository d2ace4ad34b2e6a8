//! One simulated endpoint, whatever its kind: its fault and when it was set, the port it
//! opens and closes (down, flapping), and the transport faults (slow, errors) that every
//! HTTP kind applies the same way.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Response, StatusCode};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::fault::{Fault, FrozenAt};
use super::{kind_name, EndpointInfo, EndpointKind, FaultError};
use crate::rpc::{Rpc, SlotView};

struct EndpointState {
    fault: Fault,
    since: Instant,
    frozen_at: FrozenAt,
}

/// One simulated endpoint.
pub struct FaultEndpoint {
    pub name: String,
    pub kind: EndpointKind,
    pub addr: SocketAddr,
    rpc: Arc<Rpc>,
    state: Mutex<EndpointState>,
    changed: watch::Sender<()>,
    /// Bumped each time the port closes: connections opened before (WebSockets and gRPC
    /// streams, which outlive the HTTP server that accepted them) end when it changes.
    session: watch::Sender<u64>,
    counter: AtomicU64,
}

pub(super) fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl FaultEndpoint {
    pub(super) fn new(
        name: String,
        kind: EndpointKind,
        addr: SocketAddr,
        rpc: Arc<Rpc>,
    ) -> Arc<Self> {
        Arc::new(Self {
            name,
            kind,
            addr,
            rpc,
            state: Mutex::new(EndpointState {
                fault: Fault::Healthy,
                since: Instant::now(),
                frozen_at: FrozenAt::default(),
            }),
            changed: watch::channel(()).0,
            session: watch::channel(0).0,
            counter: AtomicU64::new(0),
        })
    }

    /// The URL a client uses: `http://…` (RPC, and gRPC: plaintext HTTP/2), `ws://…`
    /// (PubSub), `http://…/health` (gateway), and for an oracle
    /// `http://…/price#/price/publish_time`, whose fragment is the JSON pointer of the
    /// timestamp to judge (a client strips it before sending).
    pub fn url(&self) -> String {
        let addr = self.addr;
        match self.kind {
            EndpointKind::WebSocket => format!("ws://{addr}"),
            EndpointKind::Oracle => format!("http://{addr}{}", super::oracle::PATH_AND_POINTER),
            EndpointKind::Gateway => format!("http://{addr}/health"),
            _ => format!("http://{addr}"),
        }
    }

    pub fn fault(&self) -> Fault {
        self.state.lock().unwrap().fault
    }

    pub fn info(&self) -> EndpointInfo {
        EndpointInfo {
            name: self.name.clone(),
            kind: kind_name(self.kind).to_string(),
            url: self.url(),
            fault: self.fault(),
        }
    }

    pub fn set_fault(&self, fault: Fault) -> Result<(), FaultError> {
        fault.validate().map_err(FaultError::BadFault)?;
        let slot = self.rpc.cluster().working_bank().slot();
        let mut s = self.state.lock().unwrap();
        if fault.refreezes(s.fault) {
            s.frozen_at = FrozenAt {
                slot,
                unix_ms: unix_ms(),
            };
        }
        s.fault = fault;
        s.since = Instant::now();
        drop(s);
        let _ = self.changed.send(());
        Ok(())
    }

    pub(super) fn rpc(&self) -> &Arc<Rpc> {
        &self.rpc
    }

    /// The fault, and where the chain and the clock stood when it was set.
    pub(super) fn fault_and_frozen_at(&self) -> (Fault, FrozenAt) {
        let s = self.state.lock().unwrap();
        (s.fault, s.frozen_at)
    }

    /// The fault, and how an RPC endpoint with it sees the chain.
    pub(super) fn view(&self) -> (Fault, SlotView) {
        let s = self.state.lock().unwrap();
        let now = self.rpc.cluster().working_bank().slot();
        (s.fault, s.fault.slot_view(now, s.frozen_at))
    }

    /// Whether the port should be open right now.
    fn accepting(&self) -> bool {
        let s = self.state.lock().unwrap();
        s.fault.open(s.since.elapsed())
    }

    /// The port's current session, and a future that resolves when it ends (the port
    /// closes, or the localnet stops): what a long-lived connection waits on.
    pub(super) fn session(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.session.subscribe();
        let current = *rx.borrow_and_update();
        async move {
            let _ = rx.wait_for(|s| *s != current).await;
        }
    }

    /// A cheap deterministic sequence (no RNG needed): request n fails when the running
    /// percentage says so, which spreads failures evenly. Some(k) when it is the k-th
    /// failure (from 0), so failure forms can take turns.
    pub(super) fn should_fail(&self, percent: u8) -> Option<u64> {
        if percent == 0 {
            return None;
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let before = n * u64::from(percent) / 100;
        let after = (n + 1) * u64::from(percent) / 100;
        (after > before).then_some(before)
    }

    /// The transport faults of an HTTP request: waits out `slow`, then under `errors`
    /// answers the failures in turn from `failures` (None: serve the request).
    pub(super) async fn transport(
        &self,
        failures: &[fn() -> Response<Body>],
    ) -> Option<Response<Body>> {
        let fault = self.fault();
        let delay = fault.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let k = self.should_fail(fault.failure_percent())?;
        let index = usize::try_from(k % failures.len() as u64).unwrap_or(0);
        Some(failures[index]())
    }

    fn router(self: &Arc<Self>) -> Router {
        match self.kind {
            EndpointKind::WebSocket => super::websocket::router(self.clone()),
            EndpointKind::Oracle => super::oracle::router(self.clone()),
            EndpointKind::Gateway => super::gateway::router(self.clone()),
            EndpointKind::Grpc => super::grpc::router(self.clone()),
            _ => super::rpc::router(self.clone()),
        }
    }

    /// Serves the accept loop, closing the port while the fault says so. `first` is the
    /// listener bound at start, so the endpoint serves as soon as `Faults::start` returns.
    pub(super) async fn supervise(
        self: Arc<Self>,
        first: TcpListener,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut changed = self.changed.subscribe();
        let mut first = Some(first);
        loop {
            if *stop.borrow() {
                return;
            }
            if !self.accepting() {
                first = None;
                tokio::select! {
                    _ = changed.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let bound = match first.take() {
                Some(l) => Ok(l),
                None => TcpListener::bind(self.addr).await,
            };
            let listener = match bound {
                Ok(l) => l,
                Err(_) => {
                    // The port may linger briefly after closing; try again shortly.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let (down_tx, down_rx) = tokio::sync::oneshot::channel::<()>();
            let router = self.router();
            let mut server = tokio::spawn(async move {
                let _ = axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        let _ = down_rx.await;
                    })
                    .await;
            });
            // Wait until the port must close (fault change, flapping phase, or stop).
            loop {
                tokio::select! {
                    _ = changed.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    _ = stop.changed() => {}
                }
                if *stop.borrow() || !self.accepting() {
                    break;
                }
            }
            let _ = down_tx.send(());
            // Established connections must die too: a down node answers nothing.
            self.session.send_modify(|s| *s += 1);
            if tokio::time::timeout(Duration::from_millis(100), &mut server)
                .await
                .is_err()
            {
                server.abort();
            }
        }
    }
}

/// An HTTP error answer with a plain-text body.
pub(super) fn http_error(status: StatusCode) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(status.canonical_reason().unwrap_or("error")))
        .expect("valid response")
}
