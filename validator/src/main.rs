//! `lifeline-validator`: agave's own test validator (the `solana-test-validator` crate:
//! real JSON-RPC service, banking stage, PubSub, blockstore) with the Lifeline program
//! loaded from an SBF build, a faucet for airdrops, and fault proxies in front of its RPC
//! and PubSub (`ep0…`, `ws0…`) whose faults change through the same admin API as
//! `lifeline localnet`'s endpoints. It is the cluster under the real-validator test tier,
//! and anyone can run it to try Lifeline on the real thing.
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use lifeline_faults::{Proxies, ProxyKind};
use solana_commitment_config::CommitmentConfig;
use solana_faucet::faucet::{run_local_faucet_with_config, LocalFaucetConfig};
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_rpc::rpc::JsonRpcConfig;
use solana_signer::Signer;
use solana_streamer::socket::SocketAddrSpace;
use solana_test_validator::{TestValidator, TestValidatorGenesis, UpgradeableProgramInfo};

/// The program's source, for the id it declares (one place: `declare_id!`).
const PROGRAM_SOURCE: &str = include_str!("../../programs/lifeline/src/lib.rs");

#[derive(Parser)]
#[command(
    name = "lifeline-validator",
    about = "Agave's test validator with the Lifeline program (an SBF build), a faucet, and fault proxies in front of its RPC and PubSub",
    after_help = "Faults: POST the admin API, e.g.\n  curl -X POST http://127.0.0.1:8890/endpoints/ep0/fault -d frozen\nforms: healthy, frozen, lagging N, slow MS, errors P, down, flapping MS, forked.\nExit codes: 0 stopped by a signal, 2 bad input (a missing .so, a port in use), 1 the validator failed."
)]
struct Args {
    /// The program's SBF build. Default: $LIFELINE_SO, else target/deploy/lifeline.so
    /// (what `anchor build` writes), else $BPF_OUT_DIR/lifeline.so.
    #[arg(long, value_name = "PATH")]
    program: Option<PathBuf>,
    /// The program id (default: the id programs/lifeline declares).
    #[arg(long, value_name = "PUBKEY")]
    program_id: Option<String>,
    /// JSON-RPC port; PubSub listens on the next one (agave's convention).
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,
    /// Admin API port for the proxies' faults (GET /endpoints, POST /endpoints/NAME/fault).
    #[arg(long, default_value_t = 8890)]
    admin_port: u16,
    /// Faucet port (`requestAirdrop`).
    #[arg(long, default_value_t = 9900)]
    faucet_port: u16,
    /// Fault proxies in front of the validator: `rpc=N,websocket=M` (ep0…, ws0…), or N
    /// RPC proxies; at most 64 of each.
    #[arg(long, default_value = "0", value_parser = parse_endpoints)]
    endpoints: Counts,
    /// Port of the first proxy; the others follow (RPC, then WebSocket).
    #[arg(long, default_value_t = 8901)]
    endpoint_base_port: u16,
    /// Keep the ledger in DIR (default: a temporary directory, removed on exit).
    #[arg(long, value_name = "DIR")]
    ledger: Option<PathBuf>,
    /// UDP/TCP ports for gossip, TPU and repair, `START-END` (≥ 25 ports; default: a free
    /// block found at start).
    #[arg(long, value_name = "START-END", value_parser = parse_range)]
    dynamic_port_range: Option<(u16, u16)>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Counts {
    rpc: usize,
    websocket: usize,
}

fn parse_endpoints(s: &str) -> Result<Counts, String> {
    let number = |n: &str, what: &str| -> Result<usize, String> {
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("{what}: `{n}` is not a whole number"))?;
        if n > 64 {
            return Err(format!("{what}: {n} is more than 64"));
        }
        Ok(n)
    };
    if !s.contains('=') {
        return Ok(Counts {
            rpc: number(s, "rpc proxies")?,
            websocket: 0,
        });
    }
    let mut counts = Counts::default();
    for part in s.split(',') {
        let (kind, n) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}`: expected KIND=N, e.g. websocket=2"))?;
        match kind.trim() {
            "rpc" => counts.rpc = number(n, "rpc")?,
            "websocket" | "ws" => counts.websocket = number(n, "websocket")?,
            other => {
                return Err(format!(
                    "`{other}`: the validator proxies rpc and websocket endpoints only"
                ))
            }
        }
    }
    Ok(counts)
}

fn parse_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("`{s}`: expected START-END"))?;
    let a: u16 = a.trim().parse().map_err(|_| format!("`{a}`: not a port"))?;
    let b: u16 = b.trim().parse().map_err(|_| format!("`{b}`: not a port"))?;
    if b < a.saturating_add(25) {
        return Err(format!("{a}-{b}: the range needs at least 25 ports"));
    }
    Ok((a, b))
}

/// The id `declare_id!("…")` names in the program's source.
fn declared_program_id() -> Option<Pubkey> {
    let rest = PROGRAM_SOURCE.split("declare_id!(\"").nth(1)?;
    Pubkey::from_str(rest.split('"').next()?).ok()
}

/// The SBF build to load: the flag, $LIFELINE_SO, target/deploy, $BPF_OUT_DIR.
fn find_program(flag: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = flag {
        return p
            .is_file()
            .then_some(p.clone())
            .ok_or_else(|| format!("--program {}: no such file", p.display()));
    }
    let mut tried = Vec::new();
    let candidates = [
        std::env::var_os("LIFELINE_SO").map(PathBuf::from),
        Some(PathBuf::from("target/deploy/lifeline.so")),
        std::env::var_os("BPF_OUT_DIR").map(|d| Path::new(&d).join("lifeline.so")),
    ];
    for p in candidates.into_iter().flatten() {
        if p.is_file() {
            return Ok(p);
        }
        tried.push(p.display().to_string());
    }
    Err(format!(
        "no SBF build of the program (tried {}): run `anchor build`, or on a machine without platform-tools ../shared/sbf/build-lifeline, and pass --program PATH",
        tried.join(", ")
    ))
}

/// A block of 25 consecutive ports free for UDP and TCP, somewhere in 30000-60000.
fn free_port_block() -> Option<(u16, u16)> {
    let free = |p: u16| {
        let addr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p);
        UdpSocket::bind(addr).is_ok() && TcpListener::bind(addr).is_ok()
    };
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    (0..200u64).find_map(|i| {
        let start =
            30_000 + ((seed.wrapping_mul(2_654_435_761).wrapping_add(i * 977)) % 30_000) as u16;
        (start..start + 25).all(free).then_some((start, start + 25))
    })
}

fn fail(code: u8, message: String) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let program = match find_program(args.program.clone()) {
        Ok(p) => p,
        Err(e) => return fail(2, e),
    };
    let program_id = match &args.program_id {
        Some(s) => match Pubkey::from_str(s) {
            Ok(id) => id,
            Err(_) => return fail(2, format!("--program-id {s}: not a public key")),
        },
        None => match declared_program_id() {
            Some(id) => id,
            None => return fail(1, "the program source declares no id".into()),
        },
    };
    for (port, what) in [
        (args.rpc_port, "--rpc-port"),
        (
            args.rpc_port.saturating_add(1),
            "the PubSub port (--rpc-port + 1)",
        ),
        (args.admin_port, "--admin-port"),
        (args.faucet_port, "--faucet-port"),
    ] {
        if port != 0 && TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
            return fail(2, format!("{what} {port} is in use"));
        }
    }
    let Some(range) = args.dynamic_port_range.or_else(free_port_block) else {
        return fail(
            2,
            "no 25 free ports for gossip and TPU: pass --dynamic-port-range".into(),
        );
    };

    // The faucet signs airdrops with the mint's key, as solana-test-validator's does.
    let mint = Keypair::new();
    let (tx, rx) = crossbeam_channel::unbounded();
    run_local_faucet_with_config(
        tx,
        LocalFaucetConfig {
            keypair: mint.insecure_clone(),
            address: Ipv4Addr::LOCALHOST,
            port: args.faucet_port,
            time_input: None,
            per_time_cap: None,
            per_request_cap: None,
        },
    );
    let faucet = match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(addr)) => addr,
        Ok(Err(e)) => return fail(2, format!("faucet: {e}")),
        Err(_) => return fail(1, "the faucet did not start".into()),
    };

    let mut genesis = TestValidatorGenesis::default();
    // What agave's solana-test-validator enables: transaction history (signature
    // statuses of older transactions, getSignaturesForAddress) and its metadata.
    genesis
        .rpc_config(JsonRpcConfig {
            enable_rpc_transaction_history: true,
            enable_extended_tx_metadata_storage: true,
            ..JsonRpcConfig::default_for_test()
        })
        .rpc_port(args.rpc_port)
        .faucet_addr(Some(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            faucet.port(),
        )))
        .port_range(range)
        .gossip_port(range.0)
        .add_upgradeable_programs_with_path(&[UpgradeableProgramInfo {
            program_id,
            loader: solana_sdk_ids::bpf_loader_upgradeable::id(),
            upgrade_authority: Pubkey::default(),
            program_path: program.clone(),
        }]);
    let temp;
    match &args.ledger {
        Some(dir) => {
            genesis.ledger_path(dir);
        }
        None => {
            temp = match tempfile::tempdir() {
                Ok(t) => t,
                Err(e) => return fail(1, format!("a temporary ledger directory: {e}")),
            };
            genesis.ledger_path(temp.path());
        }
    }
    let validator = match genesis.start_with_mint_address(mint.pubkey(), SocketAddrSpace::new(true))
    {
        Ok(v) => v,
        Err(e) => return fail(1, format!("the validator failed to start: {e}")),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => return fail(1, format!("tokio: {e}")),
    };
    let code = runtime.block_on(serve(&args, &validator, program_id, &program, started));
    drop(validator);
    code
}

/// Prints where everything is, serves the proxies and the admin API, and waits for a
/// signal.
async fn serve(
    args: &Args,
    validator: &TestValidator,
    program_id: Pubkey,
    program: &Path,
    started: Instant,
) -> ExitCode {
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let counts = [
        (ProxyKind::Rpc, args.endpoints.rpc),
        (ProxyKind::WebSocket, args.endpoints.websocket),
    ];
    let proxies = match Proxies::start(
        &validator.rpc_url(),
        &validator.rpc_pubsub_url(),
        host,
        &counts,
        args.endpoint_base_port,
        stop_rx.clone(),
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return fail(2, format!("the fault proxies: {e}")),
    };
    let admin = match tokio::net::TcpListener::bind((host, args.admin_port)).await {
        Ok(l) => l,
        Err(e) => return fail(2, format!("--admin-port {}: {e}", args.admin_port)),
    };
    let admin_url = match admin.local_addr() {
        Ok(a) => format!("http://{a}"),
        Err(e) => return fail(1, format!("admin API: {e}")),
    };
    let router = lifeline_faults::admin::router(Arc::new(proxies.clone()));
    let mut admin_stop = stop_rx.clone();
    tokio::spawn(async move {
        let _ = axum::serve(admin, router)
            .with_graceful_shutdown(async move {
                let _ = admin_stop.wait_for(|s| *s).await;
            })
            .await;
    });
    lower_busy_threads();
    // The program is deployed at genesis and usable from the next slot.
    let rpc = validator.get_async_rpc_client();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = rpc
            .get_account_with_commitment(&program_id, CommitmentConfig::confirmed())
            .await
            .ok()
            .and_then(|r| r.value)
            .is_some_and(|a| a.executable);
        if ready && rpc.get_slot().await.unwrap_or(0) >= 2 {
            break;
        }
        if Instant::now() > deadline {
            return fail(1, "the program was not deployed within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "Lifeline on agave's test validator ready in {} ms",
        started.elapsed().as_millis()
    );
    println!("  program id   {program_id}");
    println!("  program      {}", program.display());
    println!("  JSON-RPC     {}", validator.rpc_url());
    println!("  WebSocket    {}", validator.rpc_pubsub_url());
    println!("  admin API    {admin_url}");
    for ep in proxies.endpoints() {
        println!(
            "  endpoint     {} {} ({})",
            ep.name,
            ep.url(),
            ep.kind.names().0
        );
    }
    println!("Ctrl-C to stop.");
    tokio::spawn(async {
        loop {
            lower_busy_threads();
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
    });
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => return fail(1, format!("signal handlers: {e}")),
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    println!("stopping…");
    let _ = stop.send(true);
    ExitCode::SUCCESS
}

/// Threads of agave's validator that poll in a loop while the node is leader — and a lone
/// test validator always is: the banking stage's scheduler and the broadcast stage. Each
/// takes a whole core, which on a small machine starves the PoH and replay threads
/// (slots stretch from 400 ms to a second) and everything else running beside it.
const BUSY_THREADS: [&str; 2] = ["solBnkTxSched", "solBroadcast"];

/// Gives the polling threads the lowest priority: they still run whenever a core is idle
/// (they are polling, not working), and yield it to the threads that make slots and to
/// the keepers and clients under test. Threads already lowered are left as they are.
fn lower_busy_threads() {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return;
    };
    for task in tasks.flatten() {
        let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if !BUSY_THREADS.iter().any(|b| name.starts_with(b)) {
            continue;
        }
        let Some(tid) = task
            .file_name()
            .to_str()
            .and_then(|t| t.parse::<u32>().ok())
        else {
            continue;
        };
        // SAFETY: setpriority only changes the scheduling priority of one of our threads.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, tid, 19);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_program_id_is_read_from_the_source() {
        let id = declared_program_id().expect("declare_id! in programs/lifeline/src/lib.rs");
        assert_ne!(id, Pubkey::default());
    }

    #[test]
    fn endpoints_and_ranges_are_checked() {
        assert_eq!(
            parse_endpoints("rpc=2,ws=1"),
            Ok(Counts {
                rpc: 2,
                websocket: 1
            })
        );
        assert_eq!(
            parse_endpoints("3"),
            Ok(Counts {
                rpc: 3,
                websocket: 0
            })
        );
        assert!(parse_endpoints("oracle=1")
            .unwrap_err()
            .contains("rpc and websocket"));
        assert!(parse_endpoints("rpc=65")
            .unwrap_err()
            .contains("more than 64"));
        assert_eq!(parse_range("40000-40100"), Ok((40_000, 40_100)));
        assert!(parse_range("40000-40010").unwrap_err().contains("25 ports"));
        assert!(parse_range("x").is_err());
    }
}
