//! `lifeline-keeper`: the keeper daemon.
//!
//!   lifeline-keeper run --config keeper.toml
//!   lifeline-keeper check-config --config keeper.toml [--online]
//!
//! Configuration is layered: the TOML file, then LIFELINE_<FIELD> environment variables,
//! then flags (one per field, generated from the field list in config.rs). Bad input
//! (configuration, keypair, unreachable RPC, unknown network, a key not in the set) is a
//! one-line error and exit code 2.
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use lifeline_keeper::config::{load_with_warnings, Flags, KeeperConfig};
use lifeline_keeper::Keeper;
use solana_keypair::Keypair;
use solana_signer::Signer;

#[derive(Parser)]
#[command(
    name = "lifeline-keeper",
    version,
    about = "Lifeline keeper: probes a network's endpoints, attests their health on chain, and triggers failover",
    after_help = "Every setting can come from the file, a LIFELINE_<FIELD> variable (e.g. LIFELINE_PROBE_INTERVAL_MS=500) or a flag; flags win over variables, variables over the file.\n\nExit codes: 0 ok, 1 internal failure, 2 bad input (configuration, keypair, network, RPC)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the keeper until SIGINT/SIGTERM.
    Run(Source),
    /// Validate the configuration and the keypair file and print the effective values.
    CheckConfig {
        #[command(flatten)]
        source: Source,
        /// Also check that the network exists, that this key is in its keeper set, and
        /// print the settings derived from the network's policy.
        #[arg(long)]
        online: bool,
    },
}

#[derive(Args)]
struct Source {
    /// TOML configuration file (optional: everything can come from LIFELINE_* and flags).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    flags: Flags,
}

fn config(source: &Source) -> Result<KeeperConfig, String> {
    let (config, warnings) =
        load_with_warnings(source.config.as_deref(), std::env::vars(), &source.flags.0)
            .map_err(|e| e.to_string())?;
    for w in warnings.0 {
        eprintln!("warning: {w}");
    }
    Ok(config)
}

fn read_keypair(config: &KeeperConfig) -> Result<Keypair, String> {
    let path = config.keypair_path();
    solana_keypair::read_keypair_file(&path)
        .map_err(|e| format!("cannot read keypair {}: {e}", path.display()))
}

fn init_logs(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // colour only for a person at a terminal: files and journald get plain text
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// `check-config`: the effective configuration as TOML on stdout, derived values as
/// comments; with `online`, the chain checks too.
fn check_config(config: KeeperConfig, online: bool) -> Result<(), String> {
    let keypair = read_keypair(&config)?;
    print!("{}", config.to_toml());
    println!("# keeper key: {}", keypair.pubkey());
    println!(
        "# rpc urls (failover order): {}",
        config.rpc_urls().join(", ")
    );
    println!("# ws url: {}", config.ws_url());
    println!(
        "# confirm interval (re-probe of a suspect endpoint): {} ms",
        config.confirm_interval().as_millis()
    );
    if !online {
        if config.probe_timeout_ms.is_none() || config.window_probes.is_none() {
            println!(
                "# probe timeout and error window follow the network's policy: --online shows them"
            );
        }
        eprintln!(
            "configuration is valid (offline: the network and the keeper set were not checked)"
        );
        return Ok(());
    }
    let network = config.network.clone();
    let keeper = runtime()?
        .block_on(Keeper::new(config.clone(), keypair))
        .map_err(|e| e.to_string())?;
    let policy = keeper.policy();
    println!(
        "# probe timeout: {} ms{}",
        config.probe_timeout(policy).as_millis(),
        if config.probe_timeout_ms.is_none() {
            " (the policy's latency_down_ms)"
        } else {
            ""
        }
    );
    println!(
        "# error window: {} probes{}",
        config.error_window(policy),
        if config.window_probes.is_none() {
            " (derived from the policy's error_degraded_bps)"
        } else {
            ""
        }
    );
    eprintln!(
        "configuration is valid; network {network} exists and {} is in its keeper set",
        keeper.pubkey()
    );
    Ok(())
}

async fn run(config: KeeperConfig) -> Result<(), String> {
    let mut shutdown = lifeline_keeper::signals::Shutdown::install()
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    let keypair = read_keypair(&config)?;
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
    let result = match &cli.command {
        Command::Run(source) => config(source).and_then(|config| {
            init_logs(&config.log_format);
            runtime()?.block_on(run(config))
        }),
        Command::CheckConfig { source, online } => {
            config(source).and_then(|config| check_config(config, *online))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
