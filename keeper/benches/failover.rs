//! Failover time per fault and endpoint kind, steady-state transaction volume, and the
//! keeper's own footprint, with real keepers on the localnet:
//!   cargo bench -p lifeline-keeper --bench failover            # every row
//!   cargo bench -p lifeline-keeper --bench failover -- frozen  # rows whose name has "frozen"
//! The default policy, 400 ms slots, 4 keepers (quorum 3 of 4). A row's trials run on
//! sandboxes of 8 groups of 2 endpoints of the row's kind; each trial faults the next
//! group's primary at a random phase of the probe interval and measures fault onset →
//! migration confirmed (the root bank's topology names the standby). LIFELINE_TRIALS
//! overrides the 20 trials per row.
use std::time::{Duration, Instant};

use lifeline::state::PolicyParams;
use lifeline_localnet::{Fault, LocalnetConfig};
use lifeline_sandbox::{Sandbox, SandboxConfig};

const GROUPS: usize = 8;
const SLOT: Duration = Duration::from_millis(400);

#[derive(Clone, Copy)]
enum Kind {
    Rpc,
    WebSocket,
    Oracle,
    Gateway,
    Grpc,
}

impl Kind {
    /// The localnet with `n` endpoints of this kind, and their names' prefix.
    fn localnet(self, n: usize) -> (usize, LocalnetConfig, &'static str) {
        let base = LocalnetConfig::ephemeral();
        match self {
            Kind::Rpc => (n, base, "ep"),
            Kind::WebSocket => (
                0,
                LocalnetConfig {
                    websocket_endpoints: n,
                    ..base
                },
                "ws",
            ),
            Kind::Oracle => (
                0,
                LocalnetConfig {
                    oracle_endpoints: n,
                    ..base
                },
                "or",
            ),
            Kind::Gateway => (
                0,
                LocalnetConfig {
                    gateway_endpoints: n,
                    ..base
                },
                "gw",
            ),
            Kind::Grpc => (
                0,
                LocalnetConfig {
                    grpc_endpoints: n,
                    ..base
                },
                "gr",
            ),
        }
    }
}

struct Row {
    name: &'static str,
    kind: Kind,
    fault: Fault,
    probe_ms: u64,
}

fn rows() -> Vec<Row> {
    let slow = Fault::Slow { ms: 2_000 };
    let errors = Fault::Errors { percent: 100 };
    let row = |name, kind, fault, probe_ms| Row {
        name,
        kind,
        fault,
        probe_ms,
    };
    vec![
        row(
            "rpc frozen (200 OK, stale slot)",
            Kind::Rpc,
            Fault::Frozen,
            1_000,
        ),
        row(
            "rpc down (connections refused)",
            Kind::Rpc,
            Fault::Down,
            1_000,
        ),
        row("rpc slow (answers after 2 s)", Kind::Rpc, slow, 1_000),
        row(
            "rpc erroring (every answer an error)",
            Kind::Rpc,
            errors,
            1_000,
        ),
        row("rpc down, 250 ms probes", Kind::Rpc, Fault::Down, 250),
        row(
            "websocket frozen (open, silent)",
            Kind::WebSocket,
            Fault::Frozen,
            1_000,
        ),
        row("websocket down", Kind::WebSocket, Fault::Down, 1_000),
        row(
            "oracle frozen (timestamp stops)",
            Kind::Oracle,
            Fault::Frozen,
            1_000,
        ),
        row("oracle down", Kind::Oracle, Fault::Down, 1_000),
        row("gateway down", Kind::Gateway, Fault::Down, 1_000),
        row("gateway erroring (HTTP 5xx)", Kind::Gateway, errors, 1_000),
        row(
            "grpc frozen (open, silent)",
            Kind::Grpc,
            Fault::Frozen,
            1_000,
        ),
        row("grpc down", Kind::Grpc, Fault::Down, 1_000),
    ]
}

/// A sandbox of `groups` groups of two endpoints of `kind`, keepers attesting.
async fn bed(
    kind: Kind,
    probe_ms: u64,
    groups: usize,
    keepers: usize,
    daemons: usize,
) -> (Sandbox, &'static str) {
    let (rpc, localnet, prefix) = kind.localnet(2 * groups);
    let sb = Sandbox::start(SandboxConfig {
        name: "bench".into(),
        slot: SLOT,
        endpoints: rpc,
        groups: (0..groups).map(|g| vec![2 * g, 2 * g + 1]).collect(),
        policy: PolicyParams::default(),
        keepers,
        daemons,
        probe_interval: Duration::from_millis(probe_ms),
        keeper_options: vec![("jitter_ms".into(), "400".into())],
        localnet,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    sb.settle(Duration::from_secs(60))
        .await
        .expect("keepers attest");
    (sb, prefix)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure(row: &Row, trials: usize) -> Vec<f64> {
    let mut times = Vec::new();
    while times.len() < trials {
        let (sb, prefix) = bed(row.kind, row.probe_ms, GROUPS, 4, 4).await;
        for g in 0..GROUPS.min(trials - times.len()) {
            let standby = sb.endpoint_id(2 * g + 1);
            // a random phase of the probe interval
            let phase = rand_below(row.probe_ms);
            tokio::time::sleep(Duration::from_millis(phase)).await;
            sb.fault(&format!("{prefix}{}", 2 * g), row.fault);
            let onset = Instant::now();
            loop {
                let t = sb.confirmed_topology();
                if t.primary_of(g as u8).map(|e| e.id) == Some(standby) {
                    break;
                }
                assert!(
                    onset.elapsed() < Duration::from_secs(60),
                    "{}: no migration in 60 s",
                    row.name
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            times.push(onset.elapsed().as_secs_f64());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    times
}

/// A cheap pseudo-random number below `n` (phases only need to spread).
fn rand_below(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    (nanos.wrapping_mul(6_364_136_223_846_793_005) >> 17) % n.max(1)
}

/// Attestations per keeper-hour with nothing failing (one group: a primary and a
/// standby), over `window`, and what triggered them.
async fn steady(window: Duration) -> (f64, u64, Vec<(&'static str, u64)>) {
    let (sb, _) = bed(Kind::Rpc, 1_000, 1, 4, 4).await;
    tokio::time::sleep(Duration::from_secs(10)).await; // past the streak-building votes
    let triggers = |sb: &Sandbox| {
        let mut all = std::collections::BTreeMap::new();
        for k in 0..4 {
            for (t, n) in sb
                .stats(k)
                .unwrap()
                .attestations_by_trigger
                .lock()
                .unwrap()
                .iter()
            {
                *all.entry(*t).or_insert(0u64) += n;
            }
        }
        all
    };
    let (before, by_before) = (sb.total(|s| &s.attestations_sent), triggers(&sb));
    tokio::time::sleep(window).await;
    let sent = sb.total(|s| &s.attestations_sent) - before;
    let by: Vec<(&'static str, u64)> = triggers(&sb)
        .into_iter()
        .map(|(t, n)| (t, n - by_before.get(t).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    (sent as f64 / 4.0 * 3600.0 / window.as_secs_f64(), sent, by)
}

/// (CPU ticks used, VmRSS kB, VmHWM kB) of process `pid`.
fn usage(pid: u32) -> (u64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = fields
        .get(11)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (ticks, kb("VmRSS:"), kb("VmHWM:"))
}

/// The keeper binary (a process of its own) probing 32 endpoints of four kinds every
/// second: its CPU share and memory over `window`.
async fn footprint(window: Duration) -> (f64, u64, u64) {
    let localnet = LocalnetConfig {
        websocket_endpoints: 8,
        oracle_endpoints: 8,
        gateway_endpoints: 8,
        ..LocalnetConfig::ephemeral()
    };
    let sb = Sandbox::start(SandboxConfig {
        name: "footprint".into(),
        slot: SLOT,
        endpoints: 8,
        groups: (0..8).map(|g| (4 * g..4 * g + 4).collect()).collect(),
        policy: PolicyParams::default(),
        keepers: 4,
        daemons: 3,
        probe_interval: Duration::from_secs(1),
        localnet,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    let key =
        std::env::temp_dir().join(format!("lifeline-bench-keeper-{}.json", std::process::id()));
    solana_keypair::write_keypair_file(&sb.keepers[3], &key).unwrap();
    let metrics = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lifeline-keeper"))
        .args([
            "run",
            "--network",
            &sb.network.to_string(),
            "-u",
            &sb.net.rpc_url,
        ])
        .args(["--ws-url", &sb.net.ws_url, "-k"])
        .arg(&key)
        .args([
            "--metrics-addr",
            &metrics.to_string(),
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("lifeline-keeper");
    tokio::time::sleep(Duration::from_secs(20)).await; // connected, streaks built
    let (t0, _, _) = usage(child.id());
    let start = Instant::now();
    tokio::time::sleep(window).await;
    let (t1, rss, hwm) = usage(child.id());
    let hz = 100.0; // USER_HZ on Linux
    let cpu = (t1 - t0) as f64 / hz / start.elapsed().as_secs_f64() * 100.0;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&key);
    (cpu, rss, hwm)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let trials: usize = std::env::var("LIFELINE_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let wanted = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    println!("failover: fault onset -> migration confirmed; default policy, 4 keepers (quorum 3), 400 ms slots, {trials} trials per row");
    println!(
        "  {:<40} {:>6} {:>7} {:>7} {:>7} {:>7}",
        "fault", "probes", "p50 s", "p99 s", "min s", "max s"
    );
    for row in rows().iter().filter(|r| wanted(r.name)) {
        let t = measure(row, trials).await;
        println!(
            "  {:<40} {:>5}ms {:>7.2} {:>7.2} {:>7.2} {:>7.2}",
            row.name,
            row.probe_ms,
            pct(&t, 0.5),
            pct(&t, 0.99),
            t[0],
            t[t.len() - 1]
        );
    }
    if wanted("steady") {
        let window = Duration::from_secs(300);
        let (per_hour, sent, by) = steady(window).await;
        println!("steady state, 1 s probes, nothing failing, {} s window: {sent} attestations from 4 keepers {by:?}", window.as_secs());
        println!("  attestations per keeper-hour   {per_hour:>8.1}");
        println!(
            "  naive (one per probe)          {:>8.0}   ({:.0}x more)",
            3600.0,
            3600.0 / per_hour.max(0.1)
        );
    }
    if wanted("footprint") {
        let (cpu, rss, hwm) = footprint(Duration::from_secs(60)).await;
        println!("keeper process, 32 endpoints (8 rpc, 8 websocket, 8 oracle, 8 gateway) probed every 1 s, 60 s:");
        println!(
            "  CPU {cpu:.2} % of one core, RSS {:.1} MB (peak {:.1} MB)",
            rss as f64 / 1024.0,
            hwm as f64 / 1024.0
        );
    }
}
