//! `lifeline`: the operator CLI. `localnet` and `demo` run everything locally; `status`
//! shows a network; `apply` is topology as code; the other subcommands are the
//! authority's single levers. Every input is checked before anything is sent; the exit
//! code says what kind of failure it was (see `lifeline --help`).

// stdout may be a pipe its reader closed (`lifeline status | head`): a line that cannot be
// written is dropped, never a panic, so a command (`apply` above all) finishes its work.
// Defined before the modules, these shadow std's macros in the whole crate.
macro_rules! println {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}
macro_rules! print {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod chain;
mod commands;
mod demo;
mod failure;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::*;

#[derive(Parser)]
#[command(
    name = "lifeline",
    version,
    about = "Lifeline: network disaster recovery for Solana protocols",
    after_help = failure::EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a local Solana cluster with the Lifeline program loaded (no Solana toolchain
    /// needed), served over JSON-RPC and WebSocket on 127.0.0.1, with optional
    /// fault-injecting endpoints in front of it. Stops on Ctrl-C.
    Localnet(localnet::LocalnetArgs),
    /// The failover story on an embedded default: a local cluster, four keepers, a fault,
    /// the migration with its evidence, quarantine, probation and readmission.
    Demo(demo::DemoArgs),
    /// Show a network: who controls it, the policy, every keeper and when it last attested,
    /// each group's endpoints with the keepers' verdict, recent migrations.
    Status(status::StatusArgs),
    /// Topology as code: diff a declarative file against chain, print the plan, apply it.
    /// Applying the same file twice changes nothing the second time; apply never undoes a
    /// failover the keepers made.
    Apply(apply::ApplyArgs),
    /// Create or close a network.
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Change the failover policy.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Add, update or remove endpoints.
    #[command(subcommand)]
    Endpoint(endpoint::EndpointCommand),
    /// Add, relabel or remove keepers.
    #[command(subcommand)]
    Keeper(keeper::KeeperCommand),
    /// Manual failover (authority): promote a standby to primary of its group.
    Failover(failover::FailoverArgs),
    /// Pause automatic migration and readmission (authority or guardian).
    Pause(Common),
    /// Resume automatic migration and readmission (the authority, or the guardian if it
    /// paused).
    Resume(Common),
    /// Two-step authority transfer.
    #[command(subcommand)]
    Authority(authority::AuthorityCommand),
    /// The guardian may only pause and resume.
    #[command(subcommand)]
    Guardian(guardian::GuardianCommand),
    /// Write a new keypair file (Solana CLI format).
    Keygen(keygen::KeygenArgs),
    /// Request lamports from a cluster that gives them away (localnet, devnet).
    Airdrop(airdrop::AirdropArgs),
    /// What keepers cost a month (fees) and what a network's accounts hold (rent), from
    /// the keeper's real transactions; offline.
    Cost(cost::CostArgs),
}

/// The in-process Solana runtime (solana-program-test's logger) logs every transaction at
/// DEBUG unless RUST_LOG says otherwise. Set before any thread starts.
fn quiet_runtime_logs() {
    if std::env::var_os("RUST_LOG").is_none() {
        // SAFETY: called first thing in main, before any other thread exists.
        unsafe { std::env::set_var("RUST_LOG", "error") };
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
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Localnet(a) => localnet::run(a).await,
            Command::Demo(a) => demo::demo(a).await,
            Command::Status(a) => status::run(a).await,
            Command::Apply(a) => apply::run(a).await,
            Command::Network(c) => network::run(c).await,
            Command::Policy(c) => policy::run(c).await,
            Command::Endpoint(c) => endpoint::run(c).await,
            Command::Keeper(c) => keeper::run(c).await,
            Command::Failover(a) => failover::run(a).await,
            Command::Pause(a) => pause::run(a, true).await,
            Command::Resume(a) => pause::run(a, false).await,
            Command::Authority(c) => authority::run(c).await,
            Command::Guardian(c) => guardian::run(c).await,
            Command::Keygen(a) => keygen::run(a).await,
            Command::Airdrop(a) => airdrop::run(a).await,
            Command::Cost(a) => cost::run(a).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {}", f.message);
            ExitCode::from(f.kind.exit_code())
        }
    }
}
