//! lifeline-localnet: a real Solana bank (solana-runtime) running the Lifeline program
//! natively, served over JSON-RPC and PubSub on loopback, with fault-injecting simulated
//! endpoints of every kind a topology holds (JSON-RPC, PubSub, oracle, gateway, Yellowstone
//! gRPC) in front of it. What the keeper, the SDK, the dashboard and the end-to-end
//! tests talk to instead of solana-test-validator (which only loads SBF builds).
pub mod cluster;
pub mod console;
pub mod faults;
pub mod ledger;
pub mod program;
pub mod pubsub;
pub mod rpc;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_signer::Signer;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use cluster::{Cluster, ClusterConfig, ClusterEvent};
pub use faults::{EndpointKind, Fault, FaultError, Faults, SimulatedEndpoint};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ledger: {0}")]
    Ledger(String),
    #[error("could not fund {0}")]
    Fund(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
}

/// How to start a localnet. `Default` is what `lifeline localnet` uses; tests pass port 0
/// everywhere to get ephemeral ports.
#[derive(Clone, Debug)]
pub struct LocalnetConfig {
    pub host: IpAddr,
    pub rpc_port: u16,
    pub ws_port: u16,
    /// Admin API for faults; None = not served.
    pub admin_port: Option<u16>,
    /// Simulated RPC endpoints to start (named ep0, ep1, …).
    pub endpoints: usize,
    /// Simulated WebSocket (Solana PubSub) endpoints (ws0, ws1, …).
    pub websocket_endpoints: usize,
    /// Simulated oracle (HTTP price) endpoints (or0, or1, …).
    pub oracle_endpoints: usize,
    /// Simulated gateway (HTTP health) endpoints (gw0, gw1, …).
    pub gateway_endpoints: usize,
    /// Simulated Yellowstone gRPC (Geyser) endpoints (gr0, gr1, …).
    pub grpc_endpoints: usize,
    /// First endpoint port (0 = ephemeral): the RPC endpoints', then the WebSocket,
    /// oracle, gateway and gRPC endpoints' ports follow in that order.
    pub endpoint_base_port: u16,
    pub slot_duration: Duration,
    pub ledger: Option<PathBuf>,
}

impl Default for LocalnetConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rpc_port: 8899,
            ws_port: 8900,
            admin_port: Some(8890),
            endpoints: 0,
            websocket_endpoints: 0,
            oracle_endpoints: 0,
            gateway_endpoints: 0,
            grpc_endpoints: 0,
            endpoint_base_port: 8901,
            slot_duration: Duration::from_millis(400),
            ledger: None,
        }
    }
}

impl LocalnetConfig {
    /// Everything on ephemeral loopback ports (for tests running in parallel).
    pub fn ephemeral() -> Self {
        Self {
            rpc_port: 0,
            ws_port: 0,
            admin_port: Some(0),
            endpoint_base_port: 0,
            ..Self::default()
        }
    }
}

/// A running localnet: the cluster, its RPC and PubSub servers, the fault endpoints and
/// the admin API. Dropping it (or `shutdown`) stops everything and writes the ledger.
pub struct Localnet {
    pub cluster: Arc<Cluster>,
    pub rpc_url: String,
    pub ws_url: String,
    pub admin_url: Option<String>,
    pub faults: Faults,
    stop: watch::Sender<bool>,
    slot_clock: Option<std::thread::JoinHandle<()>>,
}

async fn bind(host: IpAddr, port: u16) -> Result<(TcpListener, SocketAddr), Error> {
    let addr = SocketAddr::new(host, port);
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| Error::Bind { addr, source })?;
    Ok((listener, local))
}

fn serve(listener: TcpListener, router: axum::Router, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await;
    });
}

impl Localnet {
    /// Starts the cluster and every server. Must be called inside a tokio runtime.
    pub async fn start(config: LocalnetConfig) -> Result<Self, Error> {
        let cluster = Cluster::new(ClusterConfig {
            slot_duration: config.slot_duration,
            ledger: config.ledger.clone(),
        })?;
        let (stop, stop_rx) = watch::channel(false);
        let rpc = Arc::new(rpc::Rpc::new(cluster.clone()));

        let (rpc_listener, rpc_addr) = bind(config.host, config.rpc_port).await?;
        let (ws_listener, ws_addr) = bind(config.host, config.ws_port).await?;
        serve(rpc_listener, rpc::router(rpc.clone()), stop_rx.clone());
        serve(
            ws_listener,
            pubsub::router(cluster.clone()),
            stop_rx.clone(),
        );
        let faults = Faults::start(
            rpc.clone(),
            config.host,
            &[
                (EndpointKind::Rpc, config.endpoints),
                (EndpointKind::WebSocket, config.websocket_endpoints),
                (EndpointKind::Oracle, config.oracle_endpoints),
                (EndpointKind::Gateway, config.gateway_endpoints),
                (EndpointKind::Grpc, config.grpc_endpoints),
            ],
            config.endpoint_base_port,
            stop_rx.clone(),
        )
        .await?;
        let admin_url = match config.admin_port {
            Some(port) => {
                let (listener, addr) = bind(config.host, port).await?;
                serve(listener, faults.admin_router(), stop_rx.clone());
                Some(format!("http://{addr}"))
            }
            None => None,
        };
        let slot_clock = Some(cluster.spawn_slot_clock());
        Ok(Self {
            cluster,
            rpc_url: format!("http://{rpc_addr}"),
            ws_url: format!("ws://{ws_addr}"),
            admin_url,
            faults,
            stop,
            slot_clock,
        })
    }

    /// URLs of the simulated RPC endpoints, in order (ep0, ep1, …).
    pub fn endpoint_urls(&self) -> Vec<String> {
        self.faults
            .of_kind(EndpointKind::Rpc)
            .map(|e| e.url())
            .collect()
    }

    /// Every simulated endpoint, of every kind, in port order (RPC, WebSocket, oracle,
    /// gateway, gRPC): its name (for `faults.set`), kind and URL.
    pub fn simulated(&self) -> Vec<SimulatedEndpoint> {
        self.faults
            .endpoints()
            .iter()
            .map(|e| SimulatedEndpoint {
                name: e.name.clone(),
                kind: e.kind,
                url: e.url(),
            })
            .collect()
    }

    /// Bootstrap helper: transfers `lamports` from the faucet to each key.
    pub fn fund(&self, keys: &[Pubkey], lamports: u64) -> Result<(), Error> {
        for key in keys {
            self.cluster
                .airdrop(key, lamports)
                .map_err(|e| Error::Fund(format!("{key}: {e:?}")))?;
        }
        Ok(())
    }

    /// Bootstrap helper: `n` new keypairs, each funded with `lamports`.
    pub fn funded_keypairs(&self, n: usize, lamports: u64) -> Result<Vec<Keypair>, Error> {
        let keys: Vec<Keypair> = (0..n).map(|_| Keypair::new()).collect();
        self.fund(
            &keys.iter().map(|k| k.pubkey()).collect::<Vec<_>>(),
            lamports,
        )?;
        Ok(keys)
    }

    /// Signs `instructions` with `payer` (fee payer and only signer) against the latest
    /// blockhash and commits them in-process, with preflight. For setup code in tests,
    /// benches and the demo; clients go through JSON-RPC.
    pub fn send(
        &self,
        payer: &Keypair,
        instructions: &[solana_instruction::Instruction],
    ) -> Result<solana_signature::Signature, cluster::SendError> {
        let blockhash = self.cluster.working_bank().last_blockhash();
        let tx = solana_transaction::Transaction::new_signed_with_payer(
            instructions,
            Some(&payer.pubkey()),
            &[payer],
            blockhash,
        );
        self.cluster.send_transaction(tx.into(), false)
    }

    /// Stops the servers and the slot clock, and writes the ledger.
    pub fn shutdown(mut self) {
        self.stop_all();
    }

    fn stop_all(&mut self) {
        let _ = self.stop.send(true);
        self.cluster.stop();
        if let Some(h) = self.slot_clock.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        self.stop_all();
    }
}
