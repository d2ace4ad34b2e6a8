//! The real-validator tier's harness: `lifeline-validator` (agave's own test validator
//! with the program's SBF build, a faucet, fault proxies in front of its RPC and PubSub)
//! started as a child process, with what a test needs to drive it — funded keys, faults
//! through the admin API, the operator CLI and the keeper daemon.
//!
//! The tier needs two things this workspace does not build: the validator runner (its own
//! workspace, `validator/`: agave's validator crates cannot share a lock file with
//! anchor-lang) and an SBF `lifeline.so`. `scripts/test` builds both when it can; without
//! them every tier test says loudly why it did not run, and passes.
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lifeline_localnet::Fault;
use serde_json::Value;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(&std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The directory cargo put this test binary's siblings in (`<target>/debug`).
fn target_profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.parent()?.parent().map(Path::to_path_buf)
}

/// A binary of this workspace (`lifeline`, `lifeline-keeper`) or the validator runner:
/// beside this test's target directory, else in validator/target/debug.
pub fn binary(name: &str) -> Option<PathBuf> {
    let mut places = Vec::new();
    if let Some(dir) = std::env::var_os("LIFELINE_BIN_DIR") {
        places.push(PathBuf::from(dir));
    }
    places.extend(target_profile_dir());
    places.push(repo().join("validator/target/debug"));
    places
        .into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The program's SBF build: $LIFELINE_SO, target/deploy/lifeline.so (`anchor build`),
/// $BPF_OUT_DIR/lifeline.so, or target/sbf/lifeline.so (`../shared/sbf/build-lifeline`).
pub fn program_so() -> Option<PathBuf> {
    let mut places: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("LIFELINE_SO") {
        places.push(PathBuf::from(p));
    }
    places.push(repo().join("target/deploy/lifeline.so"));
    if let Some(d) = std::env::var_os("BPF_OUT_DIR") {
        places.push(Path::new(&d).join("lifeline.so"));
    }
    places.push(repo().join("target/sbf/lifeline.so"));
    places.into_iter().find(|p| p.is_file())
}

/// Why the tier cannot run here, if it cannot: printed by every tier test that skips.
pub fn unavailable() -> Option<String> {
    let mut missing = Vec::new();
    if program_so().is_none() {
        missing.push(
            "no SBF build of the program (target/deploy/lifeline.so from `anchor build`, or \
             ../shared/sbf/build-lifeline . SCRATCH target/sbf; or set LIFELINE_SO)",
        );
    }
    if binary("lifeline-validator").is_none() {
        missing.push(
            "no lifeline-validator binary (cargo build --manifest-path validator/Cargo.toml \
             --target-dir $CARGO_TARGET_DIR)",
        );
    }
    if missing.is_empty() {
        None
    } else {
        Some(missing.join("; "))
    }
}

/// Says loudly that a tier test did not run, and why.
pub fn say_skipped(test: &str, why: &str) {
    eprintln!(
        "\n==== SKIPPED (real-validator tier) {test}: {why}.\n==== `scripts/test` builds both when ../shared/sbf or platform-tools are present.\n"
    );
}

/// A simulated endpoint of the validator runner: a proxy in front of its RPC or PubSub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub name: String,
    pub url: String,
    /// `rpc` or `websocket`.
    pub kind: String,
}

/// `lifeline-validator`, running.
pub struct RealValidator {
    child: Child,
    pub rpc_url: String,
    pub ws_url: String,
    pub admin_url: String,
    pub proxies: Vec<Proxy>,
    /// Everything it printed.
    pub log: Arc<Mutex<Vec<String>>>,
    http: reqwest::Client,
}

impl Drop for RealValidator {
    fn drop(&mut self) {
        // SIGTERM first: the validator removes its temporary ledger on a clean stop.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free TCP port on loopback (and the next one, for PubSub).
fn free_port_pair() -> u16 {
    for _ in 0..200 {
        let Ok(l) = std::net::TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(addr) = l.local_addr() else { continue };
        let port = addr.port();
        if port < 65_000 && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no two consecutive free ports");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl RealValidator {
    /// Starts the runner with `endpoints` proxies (`rpc=2,websocket=2`) on free ports and
    /// waits until it serves (up to 3 minutes: a debug build starts in ~10-30 s).
    pub fn start(endpoints: &str) -> Result<Self, String> {
        let bin = binary("lifeline-validator").ok_or("no lifeline-validator binary")?;
        let so = program_so().ok_or("no lifeline.so")?;
        let rpc = free_port_pair();
        let (admin, faucet) = (free_port(), free_port());
        let mut child = Command::new(bin)
            .args(["--program", &so.display().to_string()])
            .args(["--rpc-port", &rpc.to_string()])
            .args(["--admin-port", &admin.to_string()])
            .args(["--faucet-port", &faucet.to_string()])
            .args(["--endpoints", endpoints])
            .args(["--endpoint-base-port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("lifeline-validator: {e}"))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let log = log.clone();
            let ready = ready_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if line.starts_with("Ctrl-C") {
                        let _ = ready.send(());
                    }
                    let mut l = log.lock().unwrap();
                    l.push(line);
                    if l.len() > 5_000 {
                        l.drain(..2_500);
                    }
                }
            });
        }
        let started = ready_rx.recv_timeout(Duration::from_secs(180));
        let lines = log.lock().unwrap().clone();
        if started.is_err() {
            let _ = child.kill();
            return Err(format!(
                "lifeline-validator did not start:\n{}",
                lines.join("\n")
            ));
        }
        let field = |label: &str| {
            lines
                .iter()
                .find_map(|l| l.trim().strip_prefix(label).map(|r| r.trim().to_string()))
                .unwrap_or_default()
        };
        let proxies = lines
            .iter()
            .filter_map(|l| l.trim().strip_prefix("endpoint"))
            .filter_map(|rest| {
                let mut words = rest.split_whitespace();
                Some(Proxy {
                    name: words.next()?.to_string(),
                    url: words.next()?.to_string(),
                    kind: words
                        .next()?
                        .trim_matches(|c| c == '(' || c == ')')
                        .to_string(),
                })
            })
            .collect();
        Ok(Self {
            rpc_url: field("JSON-RPC"),
            ws_url: field("WebSocket"),
            admin_url: field("admin API"),
            proxies,
            child,
            log,
            http: reqwest::Client::new(),
        })
    }

    /// The proxy called `name` (ep0, ws0, …).
    pub fn proxy(&self, name: &str) -> &Proxy {
        self.proxies
            .iter()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("no proxy {name}: {:?}", self.proxies))
    }

    /// Sets a proxy's fault through the admin API, as an operator would.
    pub async fn fault(&self, name: &str, fault: Fault) {
        let resp = self
            .http
            .post(format!("{}/endpoints/{name}/fault", self.admin_url))
            .body(fault.to_string())
            .send()
            .await
            .expect("admin API");
        assert!(
            resp.status().is_success(),
            "admin API refused {fault} for {name}: {}",
            resp.text().await.unwrap_or_default()
        );
    }

    /// A JSON-RPC call to the validator itself.
    pub async fn call(&self, method: &str, params: Value) -> Value {
        call(&self.http, &self.rpc_url, method, params).await
    }

    /// A key funded by the faucet (`requestAirdrop`), confirmed.
    pub async fn funded_key(&self, sol: u64) -> Keypair {
        let key = Keypair::new();
        let lamports = sol * 1_000_000_000;
        let sig = self
            .call(
                "requestAirdrop",
                serde_json::json!([key.pubkey().to_string(), lamports]),
            )
            .await;
        let sig = sig["result"]
            .as_str()
            .unwrap_or_else(|| panic!("airdrop refused: {sig}"))
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let status = self
                .call(
                    "getSignatureStatuses",
                    serde_json::json!([[sig], {"searchTransactionHistory": true}]),
                )
                .await;
            let s = &status["result"]["value"][0];
            if s["confirmationStatus"] == "confirmed" || s["confirmationStatus"] == "finalized" {
                return key;
            }
            assert!(Instant::now() < deadline, "airdrop {sig} never confirmed");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The validator's processed slot.
    pub async fn slot(&self) -> u64 {
        self.call("getSlot", serde_json::json!([{"commitment": "processed"}]))
            .await["result"]
            .as_u64()
            .unwrap_or(0)
    }
}

/// One JSON-RPC call to `url`.
pub async fn call(http: &reqwest::Client, url: &str, method: &str, params: Value) -> Value {
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let resp = http
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method}: {e}"));
    resp.json::<Value>()
        .await
        .unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// Writes `key` as a Solana keypair file (the JSON byte array) in `dir`.
pub fn write_key(dir: &Path, name: &str, key: &Keypair) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{:?}", key.to_bytes().to_vec())).expect("write key");
    path
}

/// Runs a binary of this workspace to completion: (exit code, stdout, stderr).
pub fn run(name: &str, args: &[&str]) -> (i32, String, String) {
    let bin = binary(name).unwrap_or_else(|| panic!("no {name} binary: build the workspace"));
    let out = Command::new(bin)
        .args(args)
        .env_remove("LIFELINE_URL")
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Applies the topology file `toml` to the cluster at `rpc_url` through the planner, as
/// `lifeline apply` does, signed by `authority`; the network's address.
pub async fn apply_spec(
    rpc_url: &str,
    toml: &str,
    authority: &Keypair,
) -> Result<anchor_lang::prelude::Pubkey, String> {
    use lifeline_client::plan;
    let spec = plan::Spec::parse(toml).map_err(|e| e.to_string())?;
    let plan = plan::plan(&spec, &authority.pubkey(), None).map_err(|e| e.to_string())?;
    let rpc = solana_rpc_client::nonblocking::rpc_client::RpcClient::new_with_commitment(
        rpc_url.to_string(),
        solana_commitment_config::CommitmentConfig::confirmed(),
    );
    let target = plan::RpcTarget {
        rpc: &rpc,
        authority,
    };
    plan::apply(&target, &plan, &authority.pubkey(), |_, _, _| {})
        .await
        .map_err(|e| e.to_string())?;
    Ok(plan.network)
}

/// Keeper daemons in-process, one per key, following the network at `rpc_url` / `ws_url`
/// and probing every `probe_ms`, until `stop` turns true: their counters and tasks.
pub async fn start_keepers(
    rpc_url: &str,
    ws_url: &str,
    network: &anchor_lang::prelude::Pubkey,
    keys: &[Keypair],
    probe_ms: u64,
    stop: &tokio::sync::watch::Sender<bool>,
) -> (
    Vec<Arc<lifeline_keeper::KeeperStats>>,
    Vec<tokio::task::JoinHandle<()>>,
) {
    let mut stats = Vec::new();
    let mut tasks = Vec::new();
    for key in keys {
        let config = lifeline_keeper::config::load(
            None,
            Vec::<(String, String)>::new(),
            &[
                ("network", network.to_string()),
                ("url", rpc_url.to_string()),
                ("ws_url", ws_url.to_string()),
                ("probe_interval_ms", probe_ms.to_string()),
            ],
        )
        .expect("keeper config");
        let keeper = lifeline_keeper::Keeper::new(config, key.insecure_clone())
            .await
            .expect("keeper starts");
        stats.push(keeper.stats());
        tasks.push(tokio::spawn(keeper.run(stop.subscribe())));
    }
    (stats, tasks)
}

/// Sends `ixs` signed by `signer` to the cluster and waits for it to land: its signature
/// and compute units (from the transaction's metadata, as the validator metered it).
pub async fn send_metered(
    rpc: &solana_rpc_client::nonblocking::rpc_client::RpcClient,
    signer: &Keypair,
    ixs: &[solana_instruction::Instruction],
) -> Result<(solana_signature::Signature, u64), String> {
    let mut all = vec![
        solana_compute_budget_interface::ComputeBudgetInstruction::set_compute_unit_limit(
            1_400_000,
        ),
    ];
    all.extend_from_slice(ixs);
    let blockhash = rpc
        .get_latest_blockhash()
        .await
        .map_err(|e| e.to_string())?;
    let tx = solana_transaction::Transaction::new_signed_with_payer(
        &all,
        Some(&signer.pubkey()),
        &[signer],
        blockhash,
    );
    let sig = rpc
        .send_and_confirm_transaction(&tx)
        .await
        .map_err(|e| e.to_string())?;
    let config = solana_rpc_client_api::config::RpcTransactionConfig {
        commitment: Some(solana_commitment_config::CommitmentConfig::confirmed()),
        max_supported_transaction_version: Some(0),
        ..Default::default()
    };
    let meta = rpc
        .get_transaction_with_config(&sig, config)
        .await
        .map_err(|e| e.to_string())?
        .transaction
        .meta
        .ok_or("no metadata")?;
    let units: Option<u64> = meta.compute_units_consumed.into();
    Ok((sig, units.unwrap_or(0)))
}
