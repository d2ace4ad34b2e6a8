//! A hostile endpoint cannot exhaust a keeper's memory: the keeper binary (a process of
//! its own, so its memory is its own) probes an RPC and a PubSub endpoint answering 64 MiB
//! bodies and messages, then endless ones, and stays small — and keeps attesting.
use std::time::{Duration, Instant};

use lifeline_localnet::{Fault, LocalnetConfig};
use lifeline_sandbox::{Sandbox, SandboxConfig};

/// (VmRSS, VmHWM) of `pid`, in kB.
fn memory_kb(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (kb("VmRSS:"), kb("VmHWM:"))
}

/// The most the keeper process may hold while endpoints answer giant and endless bodies.
const BOUND_MB: u64 = 64;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn giant_and_endless_answers_do_not_grow_the_keeper() {
    let sb = Sandbox::start(SandboxConfig {
        endpoints: 1,
        keepers: 1,
        daemons: 0,
        localnet: LocalnetConfig {
            websocket_endpoints: 1,
            ..LocalnetConfig::ephemeral()
        },
        groups: vec![vec![0], vec![1]],
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let key = std::env::temp_dir().join(format!("lifeline-memory-{}.json", std::process::id()));
    solana_keypair::write_keypair_file(&sb.keepers[0], &key).unwrap();
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
            "127.0.0.1:0",
            "--probe-interval-ms",
            "300",
        ])
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("lifeline-keeper");
    let pid = child.id();
    // attesting before anything hostile happens
    let deadline = Instant::now() + Duration::from_secs(30);
    while sb.report(0).seq == 0 {
        assert!(Instant::now() < deadline, "the keeper never attested");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (rss_before, _) = memory_kb(pid);
    let mut seqs = vec![sb.report(0).seq];
    for fault in [Fault::Giant { mib: 64 }, Fault::Endless, Fault::Trickle] {
        sb.fault("ep0", fault);
        sb.fault("ws0", fault);
        tokio::time::sleep(Duration::from_secs(8)).await;
        seqs.push(sb.report(0).seq);
    }
    let (rss, peak) = memory_kb(pid);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_file(&key);
    eprintln!(
        "keeper RSS {:.1} MB before, {:.1} MB after, peak {:.1} MB; attestation seqs {seqs:?}",
        rss_before as f64 / 1024.0,
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    assert!(peak < BOUND_MB * 1024, "peak {peak} kB over {BOUND_MB} MB");
    // the endpoints' verdicts changed (down), so the keeper attested through it all
    assert!(
        seqs.windows(2).any(|w| w[1] > w[0]),
        "it kept attesting: {seqs:?}"
    );
}
