//! One simulated endpoint, whatever its kind: what it serves, behind its fault's `Switch`
//! (the fault, the port it opens and closes, the transport faults every HTTP kind shares).
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Response, StatusCode};
use axum::Router;
use lifeline_faults::Switch;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{kind_name, EndpointInfo, EndpointKind, FaultError};
use crate::rpc::{Rpc, SlotView};
pub(super) use lifeline_faults::switch::unix_ms;
use lifeline_faults::{Fault, FrozenAt};

/// One simulated endpoint.
pub struct FaultEndpoint {
    pub name: String,
    pub kind: EndpointKind,
    pub addr: SocketAddr,
    rpc: Arc<Rpc>,
    switch: Arc<Switch>,
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
            switch: Arc::new(Switch::default()),
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
        self.switch.fault()
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
        let slot = self.rpc.cluster().working_bank().slot();
        self.switch.set(fault, slot).map_err(FaultError::BadFault)
    }

    pub(super) fn rpc(&self) -> &Arc<Rpc> {
        &self.rpc
    }

    /// The fault, and where the chain and the clock stood when it was set.
    pub(super) fn fault_and_frozen_at(&self) -> (Fault, FrozenAt) {
        self.switch.fault_and_frozen_at()
    }

    /// The fault, and how an RPC endpoint with it sees the chain.
    pub(super) fn view(&self) -> (Fault, SlotView) {
        let (fault, frozen_at) = self.switch.fault_and_frozen_at();
        let now = self.rpc.cluster().working_bank().slot();
        (fault, fault.slot_view(now, frozen_at))
    }

    /// A future that resolves when the port's session ends: what a long-lived connection
    /// waits on.
    pub(super) fn session(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.switch.session()
    }

    /// The latency of the next message or answer (`slow`, `wobble`).
    pub(super) fn next_delay(&self) -> std::time::Duration {
        self.switch.next_delay()
    }

    /// Whether this request fails under `errors P` (see `Switch::should_fail`).
    pub(super) fn should_fail(&self, percent: u8) -> Option<u64> {
        self.switch.should_fail(percent)
    }

    /// The transport faults of an HTTP request (see `Switch::transport`).
    pub(super) async fn transport(
        &self,
        failures: &[fn() -> Response<Body>],
    ) -> Option<Response<Body>> {
        self.switch.transport(failures).await
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

    /// Serves the endpoint, closing its port while the fault says so.
    pub(super) async fn supervise(
        self: Arc<Self>,
        first: TcpListener,
        stop: watch::Receiver<bool>,
    ) {
        let make = {
            let ep = self.clone();
            move || ep.router()
        };
        self.switch
            .clone()
            .supervise(self.addr, first, make, stop)
            .await
    }
}

/// An HTTP error answer with a plain-text body.
pub(super) fn http_error(status: StatusCode) -> Response<Body> {
    Response::builder()
        .status(status)
        .body(Body::from(status.canonical_reason().unwrap_or("error")))
        .expect("valid response")
}
