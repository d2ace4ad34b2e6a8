//! Simulated endpoints of every kind a topology holds (JSON-RPC, PubSub WebSocket, oracle,
//! gateway, Yellowstone gRPC) in front of the one cluster, each with a fault that can be changed at run
//! time: what the keepers probe, the demo breaks and the chaos tests use (`tc netem` and
//! toxiproxy are not available here, so faults live in our own code).
//!
//! * `lifeline-faults` (the `faults/` crate): the faults, their text forms and what each
//!   one does, the port that opens and closes with them, the admin API.
//! * `endpoint.rs`: one endpoint: what it serves behind its fault.
//! * `rpc.rs`, `websocket.rs`, `oracle.rs`, `gateway.rs`, `grpc.rs`: what each kind serves.
//! * here: the set of endpoints and the kinds they come in.
mod endpoint;
mod gateway;
mod grpc;
mod oracle;
mod rpc;
mod websocket;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use lifeline::state::EndpointKind;

pub use endpoint::FaultEndpoint;
pub use lifeline_faults::{EndpointInfo, Fault, FaultError, FaultSet, FrozenAt};

/// The kinds the localnet simulates, in port order: name, and the prefix of its
/// endpoints' names (`ep0`, `ws0`, `or0`, `gw0`, `gr0`).
const KINDS: [(EndpointKind, &str, &str); 5] = [
    (EndpointKind::Rpc, "rpc", "ep"),
    (EndpointKind::WebSocket, "websocket", "ws"),
    (EndpointKind::Oracle, "oracle", "or"),
    (EndpointKind::Gateway, "gateway", "gw"),
    (EndpointKind::Grpc, "grpc", "gr"),
];

/// The topology's name of `kind` (`rpc`, `websocket`, `oracle`, `gateway`, `grpc`).
pub fn kind_name(kind: EndpointKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or("other", |(_, name, _)| name)
}

/// The simulated kind named `name` (`ws` is accepted for websocket).
pub fn parse_kind(name: &str) -> Option<EndpointKind> {
    let name = if name == "ws" { "websocket" } else { name };
    KINDS
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|(k, _, _)| *k)
}

/// Every kind the localnet simulates, by name.
pub fn kind_names() -> impl Iterator<Item = &'static str> {
    KINDS.iter().map(|(_, name, _)| *name)
}

/// A simulated endpoint as callers find it: by name or by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulatedEndpoint {
    pub name: String,
    pub kind: EndpointKind,
    pub url: String,
}

/// The set of simulated endpoints, controllable from Rust and over the admin API.
#[derive(Clone)]
pub struct Faults {
    endpoints: Arc<Vec<Arc<FaultEndpoint>>>,
}

impl Faults {
    /// Binds `count` endpoints of each kind on `host`, ports from `base_port` on in the
    /// order given (or ephemeral when 0), and serves them until `stop` turns true.
    pub async fn start(
        rpc: Arc<crate::rpc::Rpc>,
        host: IpAddr,
        counts: &[(EndpointKind, usize)],
        base_port: u16,
        stop: watch::Receiver<bool>,
    ) -> Result<Self, crate::Error> {
        let mut endpoints = Vec::new();
        for &(kind, count) in counts {
            let prefix = KINDS
                .iter()
                .find(|(k, _, _)| *k == kind)
                .map_or("x", |(_, _, p)| p);
            for i in 0..count {
                let port = match base_port {
                    0 => 0,
                    base => port_after(base, endpoints.len(), host)?,
                };
                let wanted = SocketAddr::new(host, port);
                // Bind now: learn the port (ephemeral), fail early if it is taken, and
                // serve from the moment start returns.
                let bind_error = |source| crate::Error::Bind {
                    addr: wanted,
                    source,
                };
                let listener = TcpListener::bind(wanted).await.map_err(bind_error)?;
                let addr = listener.local_addr().map_err(bind_error)?;
                let ep = FaultEndpoint::new(format!("{prefix}{i}"), kind, addr, rpc.clone());
                tokio::spawn(ep.clone().supervise(listener, stop.clone()));
                endpoints.push(ep);
            }
        }
        Ok(Self {
            endpoints: Arc::new(endpoints),
        })
    }

    /// Every endpoint, of every kind, in port order.
    pub fn endpoints(&self) -> &[Arc<FaultEndpoint>] {
        &self.endpoints
    }

    /// The endpoints of one kind, in order.
    pub fn of_kind(&self, kind: EndpointKind) -> impl Iterator<Item = &Arc<FaultEndpoint>> {
        self.endpoints.iter().filter(move |e| e.kind == kind)
    }

    pub fn get(&self, name: &str) -> Option<&Arc<FaultEndpoint>> {
        self.endpoints.iter().find(|e| e.name == name)
    }

    pub fn set(&self, name: &str, fault: Fault) -> Result<(), FaultError> {
        self.get(name)
            .ok_or_else(|| FaultError::UnknownEndpoint(name.to_string()))?
            .set_fault(fault)
    }

    /// The admin API (loopback only; see `lifeline_faults::admin`).
    pub fn admin_router(&self) -> Router {
        lifeline_faults::admin::router(Arc::new(self.clone()))
    }
}

impl FaultSet for Faults {
    fn list(&self) -> Vec<EndpointInfo> {
        self.endpoints.iter().map(|e| e.info()).collect()
    }

    fn set(&self, name: &str, fault: Fault) -> Result<(), FaultError> {
        Faults::set(self, name, fault)
    }
}

/// `base + n`, or the error binding it would give when that is past the last port.
fn port_after(base: u16, n: usize, host: IpAddr) -> Result<u16, crate::Error> {
    u16::try_from(n)
        .ok()
        .and_then(|n| base.checked_add(n))
        .ok_or_else(|| crate::Error::Bind {
            addr: SocketAddr::new(host, base),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("endpoint {n} would be past port 65535"),
            ),
        })
}
