//! Simulated RPC endpoints in front of the one cluster, each with a fault that can be
//! changed at run time: what the keepers probe, the demo breaks and the chaos tests use
//! (`tc netem` and toxiproxy are not available here, so faults live in our own code).
use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Method, Response, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::rpc::{self, Handler, Rpc, RpcError, SlotView};

/// What an endpoint does to the requests it serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Fault {
    /// Serves the cluster faithfully.
    #[default]
    Healthy,
    /// Answers 200 OK and getHealth "ok", but its slot stops where it was when frozen;
    /// transactions sent to it are acknowledged and silently dropped.
    Frozen,
    /// Trails the cluster by `slots`.
    Lagging { slots: u64 },
    /// Adds `ms` of latency to every answer.
    Slow { ms: u64 },
    /// Fails `percent` % of requests (HTTP 500, HTTP 429, or a JSON-RPC error, in turn).
    Errors { percent: u8 },
    /// Refuses connections (its port is closed).
    Down,
    /// Alternates healthy / down every `period_ms`.
    Flapping { period_ms: u64 },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Healthy => write!(f, "healthy"),
            Fault::Frozen => write!(f, "frozen"),
            Fault::Lagging { slots } => write!(f, "lagging {slots}"),
            Fault::Slow { ms } => write!(f, "slow {ms}"),
            Fault::Errors { percent } => write!(f, "errors {percent}"),
            Fault::Down => write!(f, "down"),
            Fault::Flapping { period_ms } => write!(f, "flapping {period_ms}"),
        }
    }
}

/// Parses the CLI form: `healthy`, `frozen`, `lagging 20`, `slow 500`, `errors 30`, `down`,
/// `flapping 2000`.
impl FromStr for Fault {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut words = s.split_whitespace();
        let mode = words.next().unwrap_or("");
        let mut number = |what: &str| -> Result<u64, String> {
            words
                .next()
                .ok_or_else(|| format!("`{mode}` needs {what}"))?
                .parse::<u64>()
                .map_err(|_| format!("`{mode}`: {what} must be a whole number"))
        };
        let fault = match mode {
            "healthy" => Fault::Healthy,
            "frozen" => Fault::Frozen,
            "down" => Fault::Down,
            "lagging" => Fault::Lagging { slots: number("a slot count")? },
            "slow" => Fault::Slow { ms: number("milliseconds")? },
            "errors" => {
                let p = number("a percentage")?;
                if p > 100 {
                    return Err("`errors`: percentage must be 0..=100".into());
                }
                Fault::Errors { percent: p as u8 }
            }
            "flapping" => {
                let p = number("a period in milliseconds")?;
                if p == 0 {
                    return Err("`flapping`: period must be > 0".into());
                }
                Fault::Flapping { period_ms: p }
            }
            other => {
                return Err(format!(
                    "unknown fault `{other}`; expected healthy, frozen, lagging N, slow MS, errors P, down or flapping MS"
                ))
            }
        };
        if words.next().is_some() {
            return Err(format!("too many words in `{s}`"));
        }
        Ok(fault)
    }
}

impl Fault {
    fn validate(&self) -> Result<(), String> {
        match self {
            Fault::Errors { percent } if *percent > 100 => {
                Err("errors: percent must be 0..=100".into())
            }
            Fault::Flapping { period_ms: 0 } => Err("flapping: period_ms must be > 0".into()),
            _ => Ok(()),
        }
    }
}

struct EndpointState {
    fault: Fault,
    since: Instant,
    /// The slot a frozen endpoint is stuck at.
    frozen_at: u64,
}

/// One simulated endpoint.
pub struct FaultEndpoint {
    pub name: String,
    pub addr: SocketAddr,
    rpc: Arc<Rpc>,
    state: Mutex<EndpointState>,
    changed: watch::Sender<()>,
    counter: AtomicU64,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EndpointInfo {
    pub name: String,
    pub url: String,
    pub fault: Fault,
}

impl FaultEndpoint {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn fault(&self) -> Fault {
        self.state.lock().unwrap().fault
    }

    pub fn info(&self) -> EndpointInfo {
        EndpointInfo {
            name: self.name.clone(),
            url: self.url(),
            fault: self.fault(),
        }
    }

    pub fn set_fault(&self, fault: Fault) -> Result<(), String> {
        fault.validate()?;
        let slot = self.rpc.cluster().working_bank().slot();
        let mut s = self.state.lock().unwrap();
        if !(fault == Fault::Frozen && s.fault == Fault::Frozen) {
            s.frozen_at = slot;
        }
        s.fault = fault;
        s.since = Instant::now();
        drop(s);
        let _ = self.changed.send(());
        Ok(())
    }

    /// Whether the port should be open right now.
    fn accepting(&self) -> bool {
        let s = self.state.lock().unwrap();
        match s.fault {
            Fault::Down => false,
            Fault::Flapping { period_ms } => {
                (s.since.elapsed().as_millis() / period_ms as u128).is_multiple_of(2)
            }
            _ => true,
        }
    }

    fn view(&self) -> (Fault, SlotView) {
        let s = self.state.lock().unwrap();
        let now = self.rpc.cluster().working_bank().slot();
        let cap = match s.fault {
            Fault::Frozen => Some(s.frozen_at),
            Fault::Lagging { slots } => Some(now.saturating_sub(slots)),
            _ => None,
        };
        (
            s.fault,
            SlotView {
                cap,
                ..SlotView::default()
            },
        )
    }

    /// A cheap deterministic sequence (no RNG needed): request n fails when the running
    /// percentage says so, which spreads failures evenly.
    fn should_fail(&self, percent: u8) -> Option<u64> {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let before = n * percent as u64 / 100;
        let after = (n + 1) * percent as u64 / 100;
        (after > before).then_some(n)
    }

    /// Serves the accept loop, closing the port while the fault says "down".
    /// `first` is the listener bound at start, so the endpoint serves as soon as
    /// `Faults::start` returns.
    async fn supervise(self: Arc<Self>, first: TcpListener, mut stop: watch::Receiver<bool>) {
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
            let me = self.clone();
            let (down_tx, down_rx) = tokio::sync::oneshot::channel::<()>();
            let mut server = tokio::spawn(async move {
                let _ = axum::serve(listener, endpoint_router(me))
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
            // Established keep-alive connections must die too: a down node answers nothing.
            if tokio::time::timeout(Duration::from_millis(100), &mut server)
                .await
                .is_err()
            {
                server.abort();
            }
        }
    }
}

impl Handler for FaultEndpoint {
    async fn call(&self, method: String, params: Value) -> Result<Value, RpcError> {
        let (fault, view) = self.view();
        match fault {
            Fault::Frozen if method == "sendTransaction" => {
                // A frozen node acknowledges and drops: the signature is real, the
                // transaction never lands.
                let encoded = params.get(0).and_then(Value::as_str).unwrap_or_default();
                let encoding = params
                    .get(1)
                    .and_then(|c| c.get("encoding"))
                    .and_then(|e| serde_json::from_value(e.clone()).ok());
                let tx = rpc::decode_transaction(encoded, encoding)?;
                return Ok(json!(tx
                    .signatures
                    .first()
                    .map(|s| s.to_string())
                    .unwrap_or_default()));
            }
            Fault::Frozen | Fault::Lagging { .. } if method == "requestAirdrop" => {
                return Err(RpcError::new(-32005, "Node is behind"));
            }
            _ => {}
        }
        self.rpc.dispatch_in(&method, params, view).await
    }
}

fn endpoint_router(ep: Arc<FaultEndpoint>) -> Router {
    async fn entry(
        State(ep): State<Arc<FaultEndpoint>>,
        method: Method,
        body: Body,
    ) -> Response<Body> {
        let body = match rpc::limited_body(body).await {
            Ok(b) => b,
            Err(resp) => return resp,
        };
        let fault = ep.fault();
        if let Fault::Slow { ms } = fault {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Fault::Errors { percent } = fault {
            if let Some(n) = ep.should_fail(percent) {
                match n % 3 {
                    0 => {
                        return Response::builder()
                            .status(StatusCode::INTERNAL_SERVER_ERROR)
                            .body(Body::from("Internal Server Error"))
                            .expect("valid response")
                    }
                    1 => {
                        return Response::builder()
                            .status(StatusCode::TOO_MANY_REQUESTS)
                            .body(Body::from("Too Many Requests"))
                            .expect("valid response")
                    }
                    _ => {
                        let err = json!({ "jsonrpc": "2.0", "error": { "code": -32603, "message": "Internal error (injected)" }, "id": Value::Null });
                        return Response::builder()
                            .status(StatusCode::OK)
                            .header("content-type", "application/json")
                            .body(Body::from(err.to_string()))
                            .expect("valid response");
                    }
                }
            }
        }
        rpc::http_entry(ep.as_ref(), &method, body).await
    }
    Router::new()
        .route("/", post(entry).options(entry))
        .with_state(ep)
}

/// The set of simulated endpoints, controllable from Rust and over the admin API.
#[derive(Clone)]
pub struct Faults {
    endpoints: Arc<Vec<Arc<FaultEndpoint>>>,
}

impl Faults {
    /// Binds `count` endpoints on `host` (ports from `base_port`, or ephemeral when 0) and
    /// starts serving them until `stop` turns true.
    pub async fn start(
        rpc: Arc<Rpc>,
        host: std::net::IpAddr,
        count: usize,
        base_port: u16,
        stop: watch::Receiver<bool>,
    ) -> Result<Self, crate::Error> {
        let mut endpoints = Vec::with_capacity(count);
        for i in 0..count {
            let port = if base_port == 0 {
                0
            } else {
                base_port + i as u16
            };
            let wanted = SocketAddr::new(host, port);
            // Bind now: learn the port (ephemeral), fail early if it is taken, and serve
            // from the moment start returns.
            let listener =
                TcpListener::bind(wanted)
                    .await
                    .map_err(|source| crate::Error::Bind {
                        addr: wanted,
                        source,
                    })?;
            let addr = listener.local_addr().map_err(|source| crate::Error::Bind {
                addr: wanted,
                source,
            })?;
            let (changed, _) = watch::channel(());
            let ep = Arc::new(FaultEndpoint {
                name: format!("ep{i}"),
                addr,
                rpc: rpc.clone(),
                state: Mutex::new(EndpointState {
                    fault: Fault::Healthy,
                    since: Instant::now(),
                    frozen_at: 0,
                }),
                changed,
                counter: AtomicU64::new(0),
            });
            tokio::spawn(ep.clone().supervise(listener, stop.clone()));
            endpoints.push(ep);
        }
        Ok(Self {
            endpoints: Arc::new(endpoints),
        })
    }

    pub fn endpoints(&self) -> &[Arc<FaultEndpoint>] {
        &self.endpoints
    }

    pub fn get(&self, name: &str) -> Option<&Arc<FaultEndpoint>> {
        self.endpoints.iter().find(|e| e.name == name)
    }

    pub fn set(&self, name: &str, fault: Fault) -> Result<(), String> {
        self.get(name)
            .ok_or_else(|| format!("no endpoint named {name:?}"))?
            .set_fault(fault)
    }

    /// Admin API (loopback only): `GET /endpoints`, `POST /endpoints/{name}/fault` with a
    /// JSON body such as `{"mode":"lagging","slots":20}` or a text body `lagging 20`.
    pub fn admin_router(&self) -> Router {
        async fn list(State(f): State<Faults>) -> Json<Vec<EndpointInfo>> {
            Json(f.endpoints.iter().map(|e| e.info()).collect())
        }
        async fn set(
            State(f): State<Faults>,
            Path(name): Path<String>,
            body: String,
        ) -> Response<Body> {
            let parsed: Result<Fault, String> = if body.trim_start().starts_with('{') {
                serde_json::from_str(&body).map_err(|e| format!("invalid fault: {e}"))
            } else {
                body.trim().parse()
            };
            let result = parsed.and_then(|fault| f.set(&name, fault).map(|_| fault));
            let (status, body) = match result {
                Ok(fault) => (StatusCode::OK, json!({ "name": name, "fault": fault })),
                Err(e) if e.starts_with("no endpoint") => {
                    (StatusCode::NOT_FOUND, json!({ "error": e }))
                }
                Err(e) => (StatusCode::BAD_REQUEST, json!({ "error": e })),
            };
            Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .expect("valid response")
        }
        Router::new()
            .route("/endpoints", get(list))
            .route("/endpoints/{name}/fault", post(set))
            .with_state(self.clone())
    }
}
