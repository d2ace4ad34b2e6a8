//! `lifeline-keeper` as an operator runs it.
//!
//! (Over 400 lines: each case runs the binary as an operator would, with its files.)
use std::process::Command;
use std::time::{Duration, Instant};

use solana_keypair::Keypair;
use solana_signer::Signer;

const NET: &str = "5fFtQJk9m4BH217PNfKfcQEhMHBPS7GVgDtvBp1zH6eJ";

fn keeper() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_lifeline-keeper"));
    // a clean environment: no LIFELINE_* from the caller
    for (k, _) in std::env::vars() {
        if k.starts_with("LIFELINE_") {
            c.env_remove(k);
        }
    }
    c
}

fn temp(name: &str, contents: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("lifeline-keeper-cli-{}-{name}", std::process::id()));
    std::fs::write(&p, contents).unwrap();
    p
}

#[test]
fn check_config_prints_the_effective_configuration() {
    let key = temp("check.json", "");
    solana_keypair::write_keypair_file(&Keypair::new(), &key).unwrap();
    let cfg = temp(
        "ok.toml",
        &format!(
            "network = \"{NET}\"\nprobe_interval_ms = 1500\nkeypair = \"{}\"\n",
            key.display()
        ),
    );
    let out = keeper()
        .args(["check-config", "--config"])
        .arg(&cfg)
        .args(["-u", "devnet"])
        .env("LIFELINE_JITTER_MS", "250")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("probe_interval_ms = 1500"), "{stdout}");
    assert!(stdout.contains("jitter_ms = 250"), "{stdout}");
    assert!(stdout.contains("url = \"devnet\""), "{stdout}");
    assert!(
        stdout.contains("# rpc urls (failover order): https://api.devnet.solana.com"),
        "derived values are printed: {stdout}"
    );
    assert!(
        stdout.contains("# ws url: wss://api.devnet.solana.com"),
        "{stdout}"
    );
    assert!(
        stdout.contains("# confirm interval (re-probe of a suspect endpoint): 375 ms"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("offline"), "{stderr}");

    // an unknown LIFELINE_* variable is a warning, not an error
    let out = keeper()
        .args(["check-config", "--config"])
        .arg(&cfg)
        .env("LIFELINE_PROBE_INTERVALL_MS", "500")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: LIFELINE_PROBE_INTERVALL_MS is not a keeper setting"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_config_online_checks_the_network_and_the_keeper_set() {
    let sb = lifeline_sandbox::Sandbox::start(lifeline_sandbox::SandboxConfig {
        endpoints: 1,
        keepers: 1,
        daemons: 0,
        ..lifeline_sandbox::SandboxConfig::default()
    })
    .await
    .unwrap();
    let member = temp("member.json", "");
    solana_keypair::write_keypair_file(&sb.keepers[0], &member).unwrap();
    let stranger = temp("stranger.json", "");
    solana_keypair::write_keypair_file(&Keypair::new(), &stranger).unwrap();
    let network = sb.network.to_string();
    let url = sb.net.rpc_url.clone();
    let check = move |key: std::path::PathBuf, network: String| {
        let url = url.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                keeper()
                    .args([
                        "check-config",
                        "--online",
                        "--network",
                        &network,
                        "-u",
                        &url,
                        "-k",
                    ])
                    .arg(&key)
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let out = check(member, network.clone()).await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    let policy = &sb.state().network.policy;
    assert!(
        stdout.contains(&format!(
            "# probe timeout: {} ms (the policy's latency_down_ms)",
            policy.latency_down_ms
        )),
        "{stdout}"
    );
    assert!(stdout.contains("# error window: "), "{stdout}");
    assert!(stderr.contains("is in its keeper set"), "{stderr}");

    let out = check(stranger, network).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("not in the network's keeper set"),
        "{stderr}"
    );

    let key = temp("member2.json", "");
    solana_keypair::write_keypair_file(&sb.keepers[0], &key).unwrap();
    let out = check(key, Keypair::new().pubkey().to_string()).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.to_lowercase().contains("network"), "{stderr}");
}

#[test]
fn bad_input_is_one_clear_line_and_exit_code_2() {
    let unknown = temp(
        "unknown.toml",
        &format!("network = \"{NET}\"\nprobe_intervall_ms = 5\n"),
    );
    let malformed = temp("malformed.toml", "network = [\n");
    // (arguments, environment, what stderr must mention)
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["check-config".into()], vec![], "network"),
        (
            vec![
                "check-config".into(),
                "--config".into(),
                unknown.display().to_string(),
            ],
            vec![],
            "probe_intervall_ms",
        ),
        (
            vec![
                "check-config".into(),
                "--config".into(),
                malformed.display().to_string(),
            ],
            vec![],
            "malformed.toml",
        ),
        (
            vec![
                "check-config".into(),
                "--config".into(),
                "/nonexistent.toml".into(),
            ],
            vec![],
            "/nonexistent.toml",
        ),
        (
            vec!["check-config".into(), "--network".into(), "xyz".into()],
            vec![],
            "network",
        ),
        (
            vec![
                "check-config".into(),
                "--network".into(),
                NET.into(),
                "-u".into(),
                "gopher://x".into(),
            ],
            vec![],
            "url",
        ),
        (
            vec!["check-config".into(), "--network".into(), NET.into()],
            vec![("LIFELINE_PROBE_INTERVAL_MS", "fast")],
            "probe_interval_ms",
        ),
        (
            vec![
                "run".into(),
                "--network".into(),
                NET.into(),
                "--keypair".into(),
                "/nonexistent/id.json".into(),
            ],
            vec![],
            "cannot read keypair /nonexistent/id.json",
        ),
        (
            vec![
                "check-config".into(),
                "--network".into(),
                NET.into(),
                "--keypair".into(),
                "/nonexistent/id.json".into(),
            ],
            vec![],
            "cannot read keypair /nonexistent/id.json",
        ),
        (vec!["frobnicate".into()], vec![], "unrecognized subcommand"),
    ];
    for (args, env, needle) in cases {
        let mut c = keeper();
        c.args(&args);
        for (k, v) in &env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn an_unreachable_rpc_is_a_clear_error() {
    let key = temp("id.json", "");
    solana_keypair::write_keypair_file(&Keypair::new(), &key).unwrap();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = keeper()
        .args(["run", "--network", NET, "--keypair"])
        .arg(&key)
        .args(["-u", &format!("http://127.0.0.1:{dead}")])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("RPC") && stderr.contains(&dead.to_string()),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_serves_metrics_and_stops_cleanly_on_sigterm() {
    let sb = lifeline_sandbox::Sandbox::start(lifeline_sandbox::SandboxConfig {
        endpoints: 1,
        keepers: 1,
        daemons: 0,
        ..lifeline_sandbox::SandboxConfig::default()
    })
    .await
    .unwrap();
    let (net, me, network) = (&sb.net, &sb.keepers[0], sb.network);
    let key = temp("keeper.json", "");
    solana_keypair::write_keypair_file(me, &key).unwrap();
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = keeper()
        .args(["run", "--network", &network.to_string(), "--keypair"])
        .arg(&key)
        .args([
            "-u",
            &net.rpc_url,
            "--probe-interval-ms",
            "300",
            "--metrics-addr",
            &format!("127.0.0.1:{metrics_port}"),
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{metrics_port}/healthz"))
            .send()
            .await
        {
            if r.status().is_success() {
                break;
            }
        }
        if Instant::now() >= deadline || child.try_wait().ok().flatten().is_some() {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "keeper never became healthy: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // per-endpoint gauges appear once a window has closed; the slot lag once the keeper
    // also has a reference slot to measure it against (the first probe may precede it)
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = http
            .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if metrics.contains("lifeline_keeper_endpoint_verdict{")
            && metrics.contains("lifeline_keeper_endpoint_slot_lag_slots{")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        metrics.contains("lifeline_keeper_rounds_total"),
        "{metrics}"
    );
    assert!(
        metrics.contains("# TYPE lifeline_keeper_attestations_sent_total counter"),
        "{metrics}"
    );
    assert!(
        metrics.contains("lifeline_keeper_probe_latency_ms_bucket{le=\"+Inf\"} "),
        "{metrics}"
    );
    assert!(
        metrics.contains("lifeline_keeper_endpoint_verdict{endpoint=\"0\",group=\"0\""),
        "per-endpoint gauges: {metrics}"
    );
    assert!(
        metrics.contains("lifeline_keeper_endpoint_slot_lag_slots{"),
        "{metrics}"
    );
    let probes: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("lifeline_keeper_probe_latency_ms_count "))
        .and_then(|v| v.parse().ok())
        .expect("histogram count");
    assert!(probes > 0, "every probe is recorded: {metrics}");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(status.status.success(), "{status:?}");
    let logs = String::from_utf8_lossy(&status.stderr);
    assert!(
        logs.lines()
            .any(|l| l.starts_with('{') && l.contains("keeper running")),
        "json logs: {logs}"
    );
}

#[test]
fn the_example_configuration_is_valid() {
    let example = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("keeper.example.toml");
    let example = example.to_str().expect("a UTF-8 path");
    let key = temp("example.json", "");
    solana_keypair::write_keypair_file(&Keypair::new(), &key).unwrap();
    let out = keeper()
        .args(["check-config", "--config", example, "--network", NET, "-k"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // and without a real network address it says what to fix
    let out = keeper()
        .args(["check-config", "--config", example])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("REPLACE_WITH_NETWORK_ADDRESS"));
}
