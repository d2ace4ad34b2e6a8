//! Simulated endpoints of every kind a topology holds (JSON-RPC, PubSub WebSocket, oracle,
//! gateway, Yellowstone gRPC) in front of the one cluster, each with a fault that can be changed at run
//! time: what the keepers probe, the demo breaks and the chaos tests use (`tc netem` and
//! toxiproxy are not available here, so faults live in our own code).
//!
//! * `fault.rs`: the faults, their text forms and what each one does.
//! * `endpoint.rs`: one endpoint: its state, its port (closed while down), the transport
//!   faults every HTTP kind shares.
//! * `rpc.rs`, `websocket.rs`, `oracle.rs`, `gateway.rs`, `grpc.rs`: what each kind serves.
//! * here: the set of endpoints, its errors and the admin API.
mod endpoint;
mod fault;
mod gateway;
mod grpc;
mod oracle;
mod rpc;
mod websocket;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use lifeline::state::EndpointKind;

pub use endpoint::FaultEndpoint;
pub use fault::{Fault, FrozenAt};

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

/// Why a fault could not be set; the admin API's status code follows from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("no endpoint named {0:?}")]
    UnknownEndpoint(String),
    #[error("invalid fault: {0}")]
    BadFault(String),
}

impl FaultError {
    pub fn status(&self) -> StatusCode {
        match self {
            FaultError::UnknownEndpoint(_) => StatusCode::NOT_FOUND,
            FaultError::BadFault(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for FaultError {
    fn into_response(self) -> axum::response::Response {
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// A simulated endpoint as callers find it: by name or by kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimulatedEndpoint {
    pub name: String,
    pub kind: EndpointKind,
    pub url: String,
}

/// An endpoint as the admin API lists it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EndpointInfo {
    pub name: String,
    /// `rpc`, `websocket`, `oracle`, `gateway` or `grpc`.
    pub kind: String,
    pub url: String,
    pub fault: Fault,
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

    /// Admin API (loopback only): `GET /endpoints` (name, kind, url and fault of each),
    /// `POST /endpoints/{name}/fault` with a JSON body such as
    /// `{"mode":"lagging","slots":20}` or a text body `lagging 20`.
    pub fn admin_router(&self) -> Router {
        async fn list(State(f): State<Faults>) -> Json<Vec<EndpointInfo>> {
            Json(f.endpoints.iter().map(|e| e.info()).collect())
        }
        async fn set(
            State(f): State<Faults>,
            Path(name): Path<String>,
            body: String,
        ) -> Result<Response<Body>, FaultError> {
            let fault: Fault = if body.trim_start().starts_with('{') {
                serde_json::from_str(&body).map_err(|e| FaultError::BadFault(e.to_string()))?
            } else {
                body.trim().parse().map_err(FaultError::BadFault)?
            };
            f.set(&name, fault)?;
            Ok(Json(json!({ "name": name, "fault": fault })).into_response())
        }
        Router::new()
            .route("/endpoints", get(list))
            .route("/endpoints/{name}/fault", post(set))
            .with_state(self.clone())
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
