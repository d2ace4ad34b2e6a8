//! `lifeline localnet`: a local cluster with the program loaded, and fault endpoints.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use lifeline_keeper::signals::Shutdown;
use lifeline_localnet::{Localnet, LocalnetConfig};

use crate::chain::Failure;
use lifeline_localnet::say;

#[derive(clap::Args)]
pub struct LocalnetArgs {
    /// JSON-RPC port.
    #[arg(long, default_value_t = 8899)]
    pub rpc_port: u16,
    /// PubSub (WebSocket) port.
    #[arg(long, default_value_t = 8900)]
    pub ws_port: u16,
    /// Admin API port for changing endpoint faults (GET /endpoints,
    /// POST /endpoints/NAME/fault with e.g. `frozen` or `lagging 20`).
    #[arg(long, default_value_t = 8890)]
    pub admin_port: u16,
    /// Simulated RPC endpoints to start in front of the cluster (ep0, ep1, …).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=64))]
    pub endpoints: u16,
    /// Port of the first simulated endpoint; the others follow.
    #[arg(long, default_value_t = 8901)]
    pub endpoint_base_port: u16,
    /// Slot duration in milliseconds.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(50..=10_000))]
    pub slot_ms: u64,
    /// Persist accounts in DIR, so a restart keeps the network state. Without it,
    /// state lives in memory only.
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
}

pub async fn run(args: LocalnetArgs) -> Result<(), Failure> {
    // Handlers first: a Ctrl-C during start-up must stop us cleanly.
    let mut shutdown =
        Shutdown::install().map_err(|e| Failure::world(format!("signal handlers: {e}")))?;
    lifeline_localnet::console::divert()
        .map_err(|e| Failure::world(format!("cannot set up the console: {e}")))?;
    let started = Instant::now();
    let config = LocalnetConfig {
        rpc_port: args.rpc_port,
        ws_port: args.ws_port,
        admin_port: Some(args.admin_port),
        endpoints: args.endpoints as usize,
        endpoint_base_port: args.endpoint_base_port,
        slot_duration: Duration::from_millis(args.slot_ms),
        ledger: args.ledger.clone(),
        ..LocalnetConfig::default()
    };
    let net = Localnet::start(config)
        .await
        .map_err(|e| Failure::input(e.to_string()))?;
    say!(
        "Lifeline localnet ready in {} ms",
        started.elapsed().as_millis()
    );
    say!("  program id   {}", lifeline::ID);
    say!("  JSON-RPC     {}", net.rpc_url);
    say!("  WebSocket    {}", net.ws_url);
    if let Some(admin) = &net.admin_url {
        say!("  admin API    {admin}");
    }
    for ep in net.faults.endpoints() {
        say!("  endpoint     {} {}", ep.name, ep.url());
    }
    match &args.ledger {
        Some(dir) => say!("  ledger       {}", dir.display()),
        None => say!("  ledger       (in memory; use --ledger DIR to keep state)"),
    }
    if args.rpc_port != 8899 {
        say!(
            "  tip          export LIFELINE_URL={} so `-u` defaults to it",
            net.rpc_url
        );
    }
    say!("Ctrl-C to stop.");
    shutdown.wait().await;
    say!("stopping…");
    net.shutdown();
    Ok(())
}
