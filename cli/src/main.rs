//! `lifeline`: the operator CLI: `localnet`, `status`, `apply` (topology as code), and the
//! authority's levers (`failover`, `pause`, `resume`, `authority`, `guardian`).
//! Bad input (including an RPC URL that does not answer) is a one-line error and exit
//! code 2; a transaction the program refuses is exit code 1, with the error's name.
mod chain;
mod commands;
mod demo;
mod plan;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use lifeline_localnet::{Localnet, LocalnetConfig};

#[derive(Parser)]
#[command(
    name = "lifeline",
    version,
    about = "Lifeline: network disaster recovery for Solana protocols"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a local Solana cluster with the Lifeline program loaded (no Solana toolchain
    /// needed), served over JSON-RPC and WebSocket on 127.0.0.1, with optional
    /// fault-injecting RPC endpoints in front of it. Stops on Ctrl-C.
    Localnet(LocalnetArgs),
    /// The failover story on an embedded default: a local cluster, four keepers, a fault,
    /// the migration with its evidence, quarantine, probation and readmission.
    Demo(demo::DemoArgs),
    /// Show a network: policy, keepers, each group's endpoints with role and quorum
    /// verdict, recent migrations.
    Status(commands::StatusArgs),
    /// Topology as code: diff a declarative file against chain, print the plan, apply it.
    /// Applying the same file twice changes nothing the second time.
    Apply(commands::ApplyArgs),
    /// Create a network.
    #[command(subcommand)]
    Network(commands::NetworkCommand),
    /// Change the failover policy.
    #[command(subcommand)]
    Policy(commands::PolicyCommand),
    /// Add, update or remove endpoints.
    #[command(subcommand)]
    Endpoint(commands::EndpointCommand),
    /// Add or remove keepers.
    #[command(subcommand)]
    Keeper(commands::KeeperCommand),
    /// Manual failover (authority): promote a standby to primary of its group.
    Failover(commands::FailoverArgs),
    /// Pause automatic migration and readmission (authority or guardian).
    Pause(commands::Common),
    /// Resume automatic migration and readmission (authority or guardian).
    Resume(commands::Common),
    /// Two-step authority transfer.
    #[command(subcommand)]
    Authority(commands::AuthorityCommand),
    /// The guardian may only pause and resume.
    #[command(subcommand)]
    Guardian(commands::GuardianCommand),
}

#[derive(clap::Args)]
struct LocalnetArgs {
    /// JSON-RPC port.
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,
    /// PubSub (WebSocket) port.
    #[arg(long, default_value_t = 8900)]
    ws_port: u16,
    /// Admin API port for changing endpoint faults (GET /endpoints,
    /// POST /endpoints/NAME/fault with e.g. `frozen` or `lagging 20`).
    #[arg(long, default_value_t = 8890)]
    admin_port: u16,
    /// Simulated RPC endpoints to start in front of the cluster (ep0, ep1, …).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=64))]
    endpoints: u16,
    /// Port of the first simulated endpoint; the others follow.
    #[arg(long, default_value_t = 8901)]
    endpoint_base_port: u16,
    /// Slot duration in milliseconds.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(50..=10_000))]
    slot_ms: u64,
    /// Persist accounts in DIR, so a restart keeps the network state. Without it,
    /// state lives in memory only.
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,
}

async fn localnet(args: LocalnetArgs) -> ExitCode {
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
    let net = match Localnet::start(config).await {
        Ok(net) => net,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut shutdown = match Shutdown::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "Lifeline localnet ready in {} ms",
        started.elapsed().as_millis()
    );
    println!("  program id   {}", lifeline::ID);
    println!("  JSON-RPC     {}", net.rpc_url);
    println!("  WebSocket    {}", net.ws_url);
    if let Some(admin) = &net.admin_url {
        println!("  admin API    {admin}");
    }
    for ep in net.faults.endpoints() {
        println!("  endpoint     {} {}", ep.name, ep.url());
    }
    match &args.ledger {
        Some(dir) => println!("  ledger       {}", dir.display()),
        None => println!("  ledger       (in memory; use --ledger DIR to keep state)"),
    }
    println!("Ctrl-C to stop.");
    shutdown.wait().await;
    println!("stopping…");
    net.shutdown();
    ExitCode::SUCCESS
}

/// The in-process Solana runtime (solana-program-test's logger) logs every transaction at
/// DEBUG unless RUST_LOG says otherwise. Set before any thread starts.
fn quiet_runtime_logs() {
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("RUST_LOG", "error") };
    }
}

/// SIGINT/SIGTERM handlers, registered at once (tokio's ctrl_c() registers only when
/// first polled; a signal before that would kill the process uncleanly).
struct Shutdown {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

impl Shutdown {
    fn install() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn wait(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

fn main() -> ExitCode {
    quiet_runtime_logs();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Command::Localnet(args) => return runtime.block_on(localnet(args)),
        Command::Demo(a) => runtime.block_on(demo::demo(a)),
        Command::Status(a) => runtime.block_on(commands::status(a)),
        Command::Apply(a) => runtime.block_on(commands::apply(a)),
        Command::Network(c) => runtime.block_on(commands::network(c)),
        Command::Policy(c) => runtime.block_on(commands::policy(c)),
        Command::Endpoint(c) => runtime.block_on(commands::endpoint(c)),
        Command::Keeper(c) => runtime.block_on(commands::keeper(c)),
        Command::Failover(a) => runtime.block_on(commands::failover(a)),
        Command::Pause(a) => runtime.block_on(commands::set_paused(a, true)),
        Command::Resume(a) => runtime.block_on(commands::set_paused(a, false)),
        Command::Authority(c) => runtime.block_on(commands::authority(c)),
        Command::Guardian(c) => runtime.block_on(commands::guardian(c)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(if f.input { 2 } else { 1 })
        }
    }
}
