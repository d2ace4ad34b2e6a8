//! Failover on agave's own test validator: fault onset → migration confirmed, with four
//! keeper daemons probing every second under the default policy, faults injected by the
//! proxies in front of the validator's RPC and PubSub.
//!
//!   cargo build --release --manifest-path validator/Cargo.toml --target-dir $CARGO_TARGET_DIR
//!   ../shared/sbf/build-lifeline . SCRATCH target/sbf      # or anchor build
//!   cargo bench -p lifeline-tests --bench validator [-- rpc|websocket|frozen|down|compute]
//!
//! Each row runs on validators with 8 groups of two proxies of the row's kind; each trial
//! faults the next group's primary at a random phase of the probe interval. 20 trials per
//! row (LIFELINE_TRIALS overrides). The validator is the release build next to this
//! bench's target directory (an optimized validator, as in production).
//!
//! `compute`: the compute units of the worst decisions at 16 keepers × 32 endpoints on the
//! validator's real banking stage (scripted keepers attest; units from each transaction's
//! metadata), beside what the keeper asks (`lifeline_client::budget`).
use std::time::{Duration, Instant};

use lifeline_client::ChainState;
use lifeline_localnet::Fault;
use lifeline_tests::validator::{
    apply_spec, send_metered, start_keepers, unavailable, RealValidator,
};
use lifeline_tests::Seen;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;

const GROUPS: usize = 8;

struct Row {
    name: &'static str,
    kind: &'static str,
    fault: Fault,
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            name: "rpc down (connections refused)",
            kind: "rpc",
            fault: Fault::Down,
        },
        Row {
            name: "rpc frozen (200 OK, stale slot)",
            kind: "rpc",
            fault: Fault::Frozen,
        },
        Row {
            name: "websocket down",
            kind: "websocket",
            fault: Fault::Down,
        },
        Row {
            name: "websocket frozen (open, silent)",
            kind: "websocket",
            fault: Fault::Frozen,
        },
    ]
}

fn spec(v: &RealValidator, kind: &str, keepers: &[Keypair]) -> String {
    let prefix = if kind == "rpc" { "ep" } else { "ws" };
    let mut out = String::from("[network]\nname = \"bench\"\n");
    for (i, k) in keepers.iter().enumerate() {
        out += &format!(
            "\n[[keeper]]\npubkey = \"{}\"\nregion = \"k{i}\"\nprovider = \"kp{i}\"\n",
            k.pubkey()
        );
    }
    for g in 0..GROUPS {
        for (n, role) in ["primary", "standby"].iter().enumerate() {
            let i = 2 * g + n;
            out += &format!(
                "\n[[endpoint]]\ngroup = {g}\nkind = \"{kind}\"\nrole = \"{role}\"\nurl = \"{}\"\nregion = \"r{i}\"\nprovider = \"p{i}\"\npriority = {n}\n",
                v.proxy(&format!("{prefix}{i}")).url
            );
        }
    }
    out
}

fn rand_below(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    (nanos.wrapping_mul(6_364_136_223_846_793_005) >> 17) % n.max(1)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure(row: &Row, trials: usize) -> Vec<f64> {
    let mut times = Vec::new();
    while times.len() < trials {
        let endpoints = format!("{}={}", row.kind, 2 * GROUPS);
        let v = tokio::task::spawn_blocking(move || RealValidator::start(&endpoints))
            .await
            .unwrap()
            .expect("lifeline-validator");
        let authority = v.funded_key(100).await;
        let mut keepers = Vec::new();
        for _ in 0..4 {
            keepers.push(v.funded_key(10).await);
        }
        let network = apply_spec(&v.rpc_url, &spec(&v, row.kind, &keepers), &authority)
            .await
            .expect("apply");
        let (stop, _) = tokio::sync::watch::channel(false);
        let (stats, tasks) =
            start_keepers(&v.rpc_url, &v.ws_url, &network, &keepers, 1_000, &stop).await;
        let rpc = RpcClient::new(v.rpc_url.clone());
        let read = || ChainState::read(&rpc, &network, CommitmentConfig::confirmed());
        // every keeper has voted every endpoint healthy
        let settled = Instant::now();
        loop {
            if let Ok(s) = read().await {
                let n = s.topology.endpoints().len();
                let healthy = (0..n).all(|j| {
                    s.ballot.reports[..4]
                        .iter()
                        .all(|r| r.votes[j].votes_healthy())
                });
                if healthy {
                    break;
                }
            }
            assert!(
                settled.elapsed() < Duration::from_secs(120),
                "never settled"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let prefix = if row.kind == "rpc" { "ep" } else { "ws" };
        let standby_url = |g: usize| v.proxy(&format!("{prefix}{}", 2 * g + 1)).url.clone();
        for g in 0..GROUPS.min(trials - times.len()) {
            tokio::time::sleep(Duration::from_millis(rand_below(1_000))).await;
            v.fault(&format!("{prefix}{}", 2 * g), row.fault).await;
            let onset = Instant::now();
            let want = standby_url(g);
            loop {
                if let Ok(s) = read().await {
                    if s.topology.primary_of(g as u8).map(|e| e.url().to_string())
                        == Some(want.clone())
                    {
                        break;
                    }
                }
                assert!(
                    onset.elapsed() < Duration::from_secs(60),
                    "{}: no migration in 60 s",
                    row.name
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            times.push(onset.elapsed().as_secs_f64());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let failed: u64 = stats
            .iter()
            .map(|s| lifeline_keeper::KeeperStats::get(&s.failed_transactions))
            .sum();
        eprintln!(
            "  ({} trials so far; keeper transactions failed on chain: {failed})",
            times.len()
        );
        let _ = stop.send(true);
        for t in tasks {
            t.abort();
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times
}

/// Keepers attesting by script on the validator (16 of them: the limit).
struct Scripted {
    rpc: RpcClient,
    network: anchor_lang::prelude::Pubkey,
    keepers: Vec<Keypair>,
    seq: Vec<u64>,
}

impl Scripted {
    /// Keeper `k` attests `views` (endpoint id → what it saw): its compute units.
    async fn attest(&mut self, k: usize, views: &[(u32, Seen)]) -> u64 {
        let state = ChainState::read(&self.rpc, &self.network, CommitmentConfig::processed())
            .await
            .expect("the network");
        self.seq[k] += 1;
        let slot = self
            .rpc
            .get_slot_with_commitment(CommitmentConfig::processed())
            .await
            .expect("slot");
        let args = lifeline::instructions::SubmitAttestationArgs {
            seq: self.seq[k],
            topology_epoch: state.topology.epoch,
            reference_slot: slot.saturating_sub(1),
            observations: views
                .iter()
                .map(|(id, s)| s.observation(&state.network.policy, *id))
                .collect(),
        };
        let ix =
            lifeline_client::ix::submit_attestation(&self.network, &self.keepers[k].pubkey(), args);
        send_metered(&self.rpc, &self.keepers[k], &[ix])
            .await
            .expect("attestation lands")
            .1
    }
}

/// The worst decisions at the program's limits on the validator: compute units as its
/// banking stage metered them.
async fn compute() {
    let v = tokio::task::spawn_blocking(|| RealValidator::start("0"))
        .await
        .unwrap()
        .expect("lifeline-validator");
    let authority = v.funded_key(100).await;
    let mut keepers = Vec::new();
    for _ in 0..16 {
        keepers.push(v.funded_key(2).await);
    }
    let network_of = |name: &str, groups: &[usize]| {
        let mut out = format!("[network]\nname = \"{name}\"\n\n[policy]\ncooldown_slots = 20\n");
        for (i, k) in keepers.iter().enumerate() {
            out += &format!(
                "\n[[keeper]]\npubkey = \"{}\"\nregion = \"k{i}\"\nprovider = \"kp{i}\"\n",
                k.pubkey()
            );
        }
        let mut id = 0;
        for (g, &n) in groups.iter().enumerate() {
            for i in 0..n {
                let role = if i == 0 { "primary" } else { "standby" };
                out += &format!("\n[[endpoint]]\ngroup = {g}\nkind = \"rpc\"\nrole = \"{role}\"\nurl = \"https://ep{id}.{name}.example\"\nregion = \"r{id}\"\nprovider = \"p{id}\"\npriority = 0\n");
                id += 1;
            }
        }
        out
    };
    let healthy = |n: u32| -> Vec<(u32, Seen)> {
        (0..n)
            .map(|id| {
                (
                    id,
                    Seen {
                        latency_ms: 30 + (id * 7) % 50,
                        ..Seen::healthy()
                    },
                )
            })
            .collect()
    };
    let down = |mut views: Vec<(u32, Seen)>, ids: &[u32]| {
        for (id, s) in views.iter_mut() {
            if ids.contains(id) {
                *s = Seen::down();
            }
        }
        views
    };
    let mut rows: Vec<(&str, u64, u32)> = Vec::new();
    use lifeline_client::budget;

    // one group of 32: the attestation completing the quorum migrates it
    let net = apply_spec(&v.rpc_url, &network_of("cu32", &[32]), &authority)
        .await
        .expect("apply");
    let mut s = Scripted {
        rpc: RpcClient::new_with_commitment(v.rpc_url.clone(), CommitmentConfig::confirmed()),
        network: net,
        keepers: keepers.iter().map(|k| k.insecure_clone()).collect(),
        seq: vec![0; 16],
    };
    let mut quiet = 0;
    for k in 0..16 {
        quiet = quiet.max(s.attest(k, &healthy(32)).await);
    }
    rows.push(("quiet attestation", quiet, budget::QUIET_ATTESTATION));
    let views = down(healthy(32), &[0]);
    for k in 0..10 {
        s.attest(k, &views).await;
    }
    let units = s.attest(10, &views).await;
    rows.push((
        "attestation migrating a group of 32",
        units,
        budget::ATTESTATION,
    ));
    // its new primary voted down by all during the cooldown; triggered after it
    let state = ChainState::read(&s.rpc, &net, CommitmentConfig::confirmed())
        .await
        .expect("state");
    let now_primary = state
        .topology
        .primary_of(0)
        .map(|e| e.id)
        .expect("a primary");
    let views = down(healthy(32), &[0, now_primary]);
    for k in 0..16 {
        s.attest(k, &views).await;
    }
    let until = state.topology.last_migration_slot[0] + 20;
    while s
        .rpc
        .get_slot_with_commitment(CommitmentConfig::processed())
        .await
        .unwrap_or(0)
        <= until
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let caller = v.funded_key(1).await;
    let epoch = ChainState::read(&s.rpc, &net, CommitmentConfig::processed())
        .await
        .expect("state")
        .topology
        .group_epoch(0);
    let ix = lifeline_client::ix::trigger_migration(
        &net,
        &caller.pubkey(),
        lifeline::instructions::TriggerMigrationArgs {
            group: 0,
            expected_group_epoch: epoch,
        },
    );
    let (_, units) = send_metered(&s.rpc, &caller, &[ix])
        .await
        .expect("trigger lands");
    rows.push((
        "trigger_migration, a group of 32 after the cooldown",
        units,
        budget::DECISION,
    ));

    // eight groups of four, all failing at once
    let net = apply_spec(&v.rpc_url, &network_of("cu8", &[4; 8]), &authority)
        .await
        .expect("apply");
    s.network = net;
    s.seq = vec![0; 16];
    for k in 0..16 {
        s.attest(k, &healthy(32)).await;
    }
    let primaries: Vec<u32> = (0..8).map(|g| g * 4).collect();
    let views = down(healthy(32), &primaries);
    for k in 0..10 {
        s.attest(k, &views).await;
    }
    let units = s.attest(10, &views).await;
    rows.push((
        "attestation migrating all 8 groups",
        units,
        budget::ATTESTATION,
    ));

    println!(
        "compute units on agave's test validator (real banking stage), 16 keepers x 32 endpoints:"
    );
    for (name, units, asks) in rows {
        println!(
            "  {name:<56} {units:>9} CU  asks {asks:>7}  ({:.2}x)",
            asks as f64 / units.max(1) as f64
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    if let Some(why) = unavailable() {
        eprintln!("validator bench: cannot run: {why}");
        std::process::exit(2);
    }
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let trials: usize = std::env::var("LIFELINE_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    println!("failover on agave's test validator: fault onset -> migration confirmed; default policy, 4 keepers (quorum 3), 1 s probes, {trials} trials per row");
    println!(
        "  {:<36} {:>7} {:>7} {:>7} {:>7}",
        "fault", "p50 s", "p99 s", "min s", "max s"
    );
    if wanted("compute") {
        compute().await;
    }
    for row in rows().iter().filter(|r| wanted(r.name)) {
        let t = measure(row, trials).await;
        println!(
            "  {:<36} {:>7.2} {:>7.2} {:>7.2} {:>7.2}",
            row.name,
            pct(&t, 0.5),
            pct(&t, 0.99),
            t[0],
            t[t.len() - 1]
        );
    }
}
