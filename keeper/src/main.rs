//! `lifeline-keeper`: the keeper daemon.
//!
//!   lifeline-keeper run --config keeper.toml
//!   lifeline-keeper check-config --config keeper.toml
//!
//! Configuration is layered: the TOML file, then LIFELINE_<FIELD> environment variables,
//! then these flags. Bad input (configuration, keypair, unreachable RPC, unknown network)
//! is a one-line error and exit code 2.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use lifeline_keeper::config::{load, KeeperConfig};
use lifeline_keeper::Keeper;

#[derive(Parser)]
#[command(
    name = "lifeline-keeper",
    version,
    about = "Lifeline keeper: probes a network's endpoints, attests their health on chain, and triggers failover"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the keeper until SIGINT/SIGTERM.
    Run(Flags),
    /// Validate the configuration and print the effective values.
    CheckConfig(Flags),
}

#[derive(Args)]
struct Flags {
    /// TOML configuration file (optional: everything can come from LIFELINE_* and flags).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// The Network account to attest for.
    #[arg(long)]
    network: Option<String>,
    /// Keypair file [default: ~/.config/solana/id.json].
    #[arg(long, short = 'k')]
    keypair: Option<String>,
    /// RPC URL or moniker: mainnet-beta, devnet, testnet, localhost.
    #[arg(long, short = 'u')]
    url: Option<String>,
    /// processed, confirmed or finalized.
    #[arg(long)]
    commitment: Option<String>,
    #[arg(long)]
    probe_interval_ms: Option<u64>,
    /// Per-probe timeout [default: 800 ms or 80 % of the interval].
    #[arg(long)]
    probe_timeout_ms: Option<u64>,
    /// Where /metrics and /healthz are served.
    #[arg(long)]
    metrics_addr: Option<String>,
    /// text or json.
    #[arg(long)]
    log_format: Option<String>,
}

fn overrides(f: &Flags) -> Vec<(&'static str, String)> {
    let mut o: Vec<(&'static str, String)> = Vec::new();
    let quoted = |s: &String| format!("{:?}", s);
    if let Some(v) = &f.network {
        o.push(("network", quoted(v)));
    }
    if let Some(v) = &f.keypair {
        o.push(("keypair", quoted(v)));
    }
    if let Some(v) = &f.url {
        o.push(("url", quoted(v)));
    }
    if let Some(v) = &f.commitment {
        o.push(("commitment", quoted(v)));
    }
    if let Some(v) = f.probe_interval_ms {
        o.push(("probe_interval_ms", v.to_string()));
    }
    if let Some(v) = &f.metrics_addr {
        o.push(("metrics_addr", quoted(v)));
    }
    if let Some(v) = &f.log_format {
        o.push(("log_format", quoted(v)));
    }
    o
}

fn config(f: &Flags) -> Result<KeeperConfig, String> {
    load(f.config.as_deref(), std::env::vars(), &overrides(f)).map_err(|e| e.to_string())
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn run(config: KeeperConfig) -> Result<(), String> {
    let mut shutdown = lifeline_keeper::signals::Shutdown::install()
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let path = config.keypair_path();
    let keypair = solana_keypair::read_keypair_file(&path)
        .map_err(|e| format!("cannot read keypair {}: {e}", path.display()))?;
    let keeper = Keeper::new(config.clone(), keypair)
        .await
        .map_err(|e| e.to_string())?;
    let addr: std::net::SocketAddr = config
        .metrics_addr
        .parse()
        .map_err(|e| format!("metrics_addr: {e}"))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot serve metrics on {addr}: {e}"))?;
    let stale_after = Duration::from_millis(config.probe_interval_ms * 5);
    let metrics = lifeline_keeper::metrics::router(keeper.stats(), stale_after);
    tracing::info!(keeper = %keeper.pubkey(), network = %config.network, metrics = %addr, "keeper running");
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut server_stop = stop_rx.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, metrics)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|s| *s).await;
            })
            .await;
    });
    let daemon = tokio::spawn(keeper.run(stop_rx));
    shutdown.wait().await;
    tracing::info!("shutting down");
    let _ = stop.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), daemon).await;
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (flags, check_only) = match &cli.command {
        Command::Run(f) => (f, false),
        Command::CheckConfig(f) => (f, true),
    };
    let config = match config(flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if check_only {
        print!("{}", config.to_toml());
        eprintln!("configuration is valid");
        return ExitCode::SUCCESS;
    }
    init_logs(&config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
