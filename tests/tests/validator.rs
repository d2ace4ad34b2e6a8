//! The real-validator tier: Lifeline on agave's own test validator (`lifeline-validator`:
//! the real RPC service, banking stage, PubSub and blockstore, the program loaded from its
//! SBF build), driven the way an operator and a frontend would — `lifeline apply` and
//! `status`, four keeper daemons, faults injected through proxies in front of the
//! validator's own RPC and PubSub, the Rust `FailoverRpc` and the TypeScript transport
//! following the topology.
//!
//! One validator for the whole story (a debug build of agave takes most of a core):
//! dead and frozen primaries of an rpc and a websocket group fail over, the failed
//! endpoints recover and are readmitted, and the validator's own endpoints stay healthy
//! by every keeper, with no verdict change, for the whole run (at least
//! `LIFELINE_TIER_SOAK_SECS`, default 300 s).
//!
//! Without an SBF build or the validator runner this says loudly why it did not run.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use lifeline::state::{Role, Verdict};
use lifeline_client::{ChainState, FailoverRpc, RouterConfig, TopologyWatcher, WatcherConfig};
use lifeline_keeper::KeeperStats;
use lifeline_localnet::Fault;
use lifeline_tests::validator::{
    repo, run, say_skipped, start_keepers, unavailable, write_key, RealValidator,
};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use tokio::sync::watch;

/// A policy for the tier: the default thresholds, but quarantine, probation and cooldown
/// short enough for the readmission cycle to fit a test (400 ms slots).
fn tier_policy() -> Vec<(&'static str, u64)> {
    vec![
        ("cooldown_slots", 25),
        ("quarantine_base_slots", 50),
        ("quarantine_max_slots", 500),
        ("probation_slots", 25),
    ]
}

fn soak() -> Duration {
    let secs = std::env::var("LIFELINE_TIER_SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    Duration::from_secs(secs)
}

/// The topology file: group 0 (rpc) ep0 primary, ep1 and the validator's own RPC standbys;
/// group 1 (websocket) ws0 primary, ws1 and the validator's own PubSub standbys. The
/// validator's endpoints share region and provider with the primaries, so each group
/// fails over to the other proxy first and to the validator's own endpoint second.
fn topology(v: &RealValidator, keepers: &[Keypair]) -> String {
    let mut out = String::from("[network]\nname = \"tier\"\n\n[policy]\n");
    for (k, val) in tier_policy() {
        out += &format!("{k} = {val}\n");
    }
    for (i, k) in keepers.iter().enumerate() {
        out += &format!(
            "\n[[keeper]]\npubkey = \"{}\"\nregion = \"k{i}\"\nprovider = \"kp{i}\"\n",
            k.pubkey()
        );
    }
    let endpoints = [
        (0, "rpc", "primary", v.proxy("ep0").url.clone(), "a", "A", 0),
        (0, "rpc", "standby", v.proxy("ep1").url.clone(), "b", "B", 1),
        (0, "rpc", "standby", v.rpc_url.clone(), "a", "A", 2),
        (
            1,
            "websocket",
            "primary",
            v.proxy("ws0").url.clone(),
            "a",
            "A",
            0,
        ),
        (
            1,
            "websocket",
            "standby",
            v.proxy("ws1").url.clone(),
            "b",
            "B",
            1,
        ),
        (1, "websocket", "standby", v.ws_url.clone(), "a", "A", 2),
    ];
    for (group, kind, role, url, region, provider, priority) in endpoints {
        out += &format!(
            "\n[[endpoint]]\ngroup = {group}\nkind = \"{kind}\"\nrole = \"{role}\"\nurl = \"{url}\"\nregion = \"{region}\"\nprovider = \"{provider}\"\npriority = {priority}\n"
        );
    }
    out
}

/// Every keeper's verdict on every endpoint, sampled; the changes after the first.
#[derive(Default)]
struct Verdicts {
    last: BTreeMap<(usize, String), u8>,
    changes: Vec<String>,
}

impl Verdicts {
    fn sample(&mut self, stats: &[Arc<KeeperStats>], watched: &[String]) {
        for (k, s) in stats.iter().enumerate() {
            for g in s.endpoints.lock().unwrap().values() {
                if !watched.contains(&g.url) {
                    continue;
                }
                let key = (k, g.url.clone());
                if let Some(before) = self.last.insert(key, g.verdict) {
                    if before != g.verdict {
                        self.changes
                            .push(format!("keeper {k}: {} {before} → {}", g.url, g.verdict));
                    }
                }
            }
        }
    }
}

async fn state(rpc: &RpcClient, network: &Pubkey) -> ChainState {
    ChainState::read(rpc, network, CommitmentConfig::confirmed())
        .await
        .expect("the network")
}

/// Waits until `done` holds for the chain at processed: how long it took, and that state.
async fn wait_chain(
    rpc: &RpcClient,
    network: &Pubkey,
    limit: Duration,
    what: &str,
    mut tick: impl FnMut(),
    mut done: impl FnMut(&ChainState) -> bool,
) -> (Duration, ChainState) {
    let started = Instant::now();
    loop {
        tick();
        if let Ok(s) = ChainState::read(rpc, network, CommitmentConfig::processed()).await {
            if done(&s) {
                return (started.elapsed(), s);
            }
        }
        assert!(
            started.elapsed() < limit,
            "timed out after {limit:?}: {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn id_of(s: &ChainState, url: &str) -> u32 {
    s.topology
        .endpoints()
        .iter()
        .find(|e| e.url() == url)
        .unwrap_or_else(|| panic!("{url} in the topology"))
        .id
}

fn role_of(s: &ChainState, url: &str) -> Option<Role> {
    s.topology.endpoint(id_of(s, url)).and_then(|e| e.role())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lifeline_on_agaves_test_validator() {
    if let Some(why) = unavailable() {
        say_skipped("lifeline_on_agaves_test_validator", &why);
        return;
    }
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
    let v = tokio::task::spawn_blocking(|| RealValidator::start("rpc=2,websocket=2"))
        .await
        .unwrap()
        .expect("lifeline-validator starts");
    let dir = std::env::temp_dir().join(format!("lifeline-tier-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let authority = v.funded_key(100).await;
    let mut keepers = Vec::new();
    for _ in 0..4 {
        keepers.push(v.funded_key(10).await);
    }
    let authority_file = write_key(&dir, "authority.json", &authority);
    let topology_file = dir.join("topology.toml");
    std::fs::write(&topology_file, topology(&v, &keepers)).unwrap();
    let (f, a) = (
        topology_file.display().to_string(),
        authority_file.display().to_string(),
    );

    // ---- apply, apply again, status: the operator's path on a real validator ----------
    let (code, out, err) = run("lifeline", &["apply", "-f", &f, "-u", &v.rpc_url, "-k", &a]);
    assert_eq!(code, 0, "apply: {out}{err}");
    let network: Pubkey = out
        .split("network \"tier\" at ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|s| {
            s.trim_end_matches(|c: char| !c.is_alphanumeric())
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("the network's address in:\n{out}"));
    let (code, again, err) = run("lifeline", &["apply", "-f", &f, "-u", &v.rpc_url, "-k", &a]);
    assert_eq!(code, 0, "second apply: {again}{err}");
    assert!(
        again.contains("nothing to change") || again.contains("Nothing to change"),
        "a second apply changes nothing:\n{again}"
    );
    let net = network.to_string();
    let (code, status, err) = run(
        "lifeline",
        &["status", "-u", &v.rpc_url, "--network", &net, "--json"],
    );
    assert_eq!(code, 0, "status: {err}");
    let status: serde_json::Value = serde_json::from_str(&status).expect("status --json");
    let shown = status.to_string();
    for p in ["ep0", "ep1", "ws0", "ws1"] {
        assert!(shown.contains(&v.proxy(p).url), "status shows {p}");
    }
    assert!(shown.contains(&v.rpc_url) && shown.contains(&v.ws_url));

    // ---- four keeper daemons --------------------------------------------------------
    let (stop, _) = watch::channel(false);
    let (stats, daemons) =
        start_keepers(&v.rpc_url, &v.ws_url, &network, &keepers, 1_000, &stop).await;
    let rpc = RpcClient::new(v.rpc_url.clone());
    let own = vec![v.rpc_url.clone(), v.ws_url.clone()];
    let mut verdicts = Verdicts::default();
    let all_healthy = |s: &ChainState| {
        let n = s.topology.endpoints().len();
        (0..n).all(|j| {
            s.ballot.reports[..4].iter().all(|r| {
                lifeline::engine::ballot::cell_verdict(&s.topology, r, j) == Verdict::Healthy
            })
        })
    };
    let (settle, _) = wait_chain(
        &rpc,
        &network,
        Duration::from_secs(120),
        "every endpoint healthy by 4 keepers",
        || {},
        all_healthy,
    )
    .await;
    eprintln!(
        "tier: every endpoint healthy by 4 of 4 keepers {settle:?} after the keepers started"
    );
    let soak_started = Instant::now();
    verdicts.sample(&stats, &own);

    // ---- both clients follow group 0 from here on -----------------------------------
    let watcher = TopologyWatcher::start(WatcherConfig::new(
        v.rpc_url.clone(),
        Some(v.ws_url.clone()),
        network,
    ))
    .await
    .expect("watcher");
    let client = FailoverRpc::following(
        &watcher,
        RouterConfig {
            group: 0,
            timeout: Duration::from_secs(2),
            ..RouterConfig::default()
        },
    );
    let (served, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let requests = {
        let (served, failed) = (served.clone(), failed.clone());
        let rpc = client
            .clone()
            .into_rpc_client(CommitmentConfig::confirmed());
        let mut stop = stop.subscribe();
        tokio::spawn(async move {
            let who = Pubkey::default();
            let mut failures = Vec::new();
            while !*stop.borrow() {
                match rpc.get_balance(&who).await {
                    Ok(_) => served.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        failures.push(e.to_string());
                        failed.fetch_add(1, Ordering::Relaxed)
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = stop.changed() => {}
                }
            }
            failures
        })
    };
    let ts = typescript_follower(&v, &net, soak());

    // ---- a dead rpc primary and a dead websocket primary ------------------------------
    let tick = || ();
    let before = state(&rpc, &network).await.topology.history_total;
    v.fault("ep0", Fault::Down).await;
    v.fault("ws0", Fault::Down).await;
    let (ep0, ep1, ws0, ws1) = (
        v.proxy("ep0").url.clone(),
        v.proxy("ep1").url.clone(),
        v.proxy("ws0").url.clone(),
        v.proxy("ws1").url.clone(),
    );
    let (dead, s) = wait_chain(
        &rpc,
        &network,
        Duration::from_secs(60),
        "ep0 and ws0 failed over",
        tick,
        |s| {
            role_of(s, &ep0) == Some(Role::Quarantined)
                && role_of(s, &ws0) == Some(Role::Quarantined)
        },
    )
    .await;
    assert_eq!(role_of(&s, &ep1), Some(Role::Primary), "ep1 took group 0");
    assert_eq!(role_of(&s, &ws1), Some(Role::Primary), "ws1 took group 1");
    eprintln!("tier: dead primaries (rpc and websocket) failed over in {dead:?}");
    verdicts.sample(&stats, &own);

    // ---- frozen primaries: the validator's own endpoints take over --------------------
    v.fault("ep1", Fault::Frozen).await;
    v.fault("ws1", Fault::Frozen).await;
    let (rpc_url, ws_url) = (v.rpc_url.clone(), v.ws_url.clone());
    let (frozen_rpc, _) = wait_chain(
        &rpc,
        &network,
        Duration::from_secs(60),
        "ep1 failed over",
        tick,
        |s| role_of(s, &rpc_url) == Some(Role::Primary),
    )
    .await;
    let (frozen_ws, s) = wait_chain(
        &rpc,
        &network,
        Duration::from_secs(60),
        "ws1 failed over",
        tick,
        |s| role_of(s, &ws_url) == Some(Role::Primary),
    )
    .await;
    let frozen = frozen_rpc + frozen_ws;
    eprintln!("tier: frozen rpc primary failed over in {frozen_rpc:?}, websocket {frozen:?}");
    eprintln!("tier: frozen primaries failed over in {frozen:?}");
    assert_eq!(
        s.topology.history_total,
        before + 4,
        "four migrations, none twice"
    );
    verdicts.sample(&stats, &own);

    // ---- recovery: quarantine, probation, readmission (keepers racing to readmit) -----
    for p in ["ep0", "ep1", "ws0", "ws1"] {
        v.fault(p, Fault::Healthy).await;
    }
    let proxies = [ep0.clone(), ep1.clone(), ws0.clone(), ws1.clone()];
    let (readmitted, _) = wait_chain(
        &rpc,
        &network,
        Duration::from_secs(240),
        "all four readmitted",
        || (),
        |s| proxies.iter().all(|u| role_of(s, u) == Some(Role::Standby)),
    )
    .await;
    eprintln!("tier: the four failed endpoints readmitted {readmitted:?} after they recovered");

    // ---- the rest of the soak ---------------------------------------------------------
    while soak_started.elapsed() < soak() {
        verdicts.sample(&stats, &own);
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    verdicts.sample(&stats, &own);
    let s = state(&rpc, &network).await;
    assert!(
        all_healthy(&s),
        "every endpoint healthy by 4 of 4 keepers at the end"
    );
    assert!(
        verdicts.changes.is_empty(),
        "the validator's own endpoints never changed verdict in {:?}: {:?}",
        soak_started.elapsed(),
        verdicts.changes
    );
    assert_eq!(
        verdicts.last.len(),
        8,
        "4 keepers × the validator's rpc and websocket endpoints were sampled"
    );

    let _ = stop.send(true);
    let failures = requests.await.unwrap();
    let (ok, bad) = (
        served.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    eprintln!("tier: FailoverRpc served {ok} requests through the run, {bad} failed");
    assert!(ok > 1_000, "{ok}");
    assert_eq!(bad, 0, "the Rust client failed requests: {failures:?}");
    if let Some(ts) = ts {
        let (ok, bad, lines) = ts.await.unwrap();
        eprintln!("tier: the TypeScript transport served {ok} requests, {bad} failed");
        assert!(ok >= 40, "{lines}");
        assert_eq!(bad, 0, "the TypeScript client failed requests:\n{lines}");
    }

    // ---- what the keepers paid for transactions that failed ---------------------------
    let counted: u64 = stats
        .iter()
        .map(|s| KeeperStats::get(&s.failed_transactions))
        .sum();
    let mut on_chain = 0;
    for k in &keepers {
        on_chain += failed_on_chain(&rpc, &k.pubkey()).await;
    }
    let fees: u64 = stats
        .iter()
        .map(|s| KeeperStats::get(&s.failed_transaction_fees_lamports))
        .sum();
    eprintln!("tier: keeper transactions failed on chain: {on_chain} (counted {counted}, {fees} lamports)");
    assert_eq!(
        counted, on_chain,
        "every failed transaction's fee is counted"
    );
    for d in daemons {
        d.abort();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Keeper transactions that landed and failed (each paid its fee).
async fn failed_on_chain(rpc: &RpcClient, keeper: &Pubkey) -> u64 {
    let config = solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config {
        commitment: Some(CommitmentConfig::confirmed()),
        ..Default::default()
    };
    let sigs = rpc
        .get_signatures_for_address_with_config(keeper, config)
        .await
        .expect("signatures");
    sigs.iter().filter(|s| s.err.is_some()).count() as u64
}

/// The TypeScript transport following group 0 (clients/js/examples/follow-network.mjs)
/// for `run`: (served, failed, its output). None, said loudly, when the package is not
/// built.
fn typescript_follower(
    v: &RealValidator,
    network: &str,
    run: Duration,
) -> Option<tokio::task::JoinHandle<(usize, usize, String)>> {
    let js = repo().join("clients/js");
    if !js.join("dist/index.js").is_file() {
        say_skipped(
            "the TypeScript transport on the validator",
            "clients/js is not built (npm --prefix clients/js run build; scripts/test does)",
        );
        return None;
    }
    let mut cmd = tokio::process::Command::new("node");
    cmd.current_dir(&js)
        .arg("examples/follow-network.mjs")
        .args([&v.rpc_url, &v.ws_url, network, "0"])
        .arg(run.as_secs().saturating_sub(10).max(30).to_string())
        .kill_on_drop(true);
    Some(tokio::spawn(async move {
        let out = cmd.output().await.expect("node runs the example");
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let ok = text.lines().filter(|l| l.starts_with("slot ")).count();
        let bad = text
            .lines()
            .filter(|l| l.starts_with("request failed"))
            .count()
            + usize::from(!out.status.success());
        (ok, bad, text)
    }))
}
