//! `lifeline localnet` as a user runs it: it starts, prints its URLs and serves; bad input
//! is a clear message and exit code 2.
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn lifeline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lifeline"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn localnet_starts_prints_its_urls_and_serves() {
    let (rpc, ws, admin, ep) = (free_port(), free_port(), free_port(), free_port());
    let mut child = lifeline()
        .args([
            "localnet",
            "--rpc-port",
            &rpc.to_string(),
            "--ws-port",
            &ws.to_string(),
            "--admin-port",
            &admin.to_string(),
        ])
        .args(["--endpoints", "1", "--endpoint-base-port", &ep.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("Ctrl-C");
        seen.push(line);
        if done {
            break;
        }
    }
    let out = seen.join("\n");
    assert!(out.contains(&format!("http://127.0.0.1:{rpc}")), "{out}");
    assert!(out.contains(&format!("ws://127.0.0.1:{ws}")), "{out}");
    assert!(out.contains(&lifeline::ID.to_string()), "{out}");
    assert!(out.contains(&format!("ep0 http://127.0.0.1:{ep}")), "{out}");
    eprintln!(
        "localnet ready after {:?} (process start to URLs printed)",
        started.elapsed()
    );
    let v: serde_json::Value = reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{rpc}"))
        .json(&serde_json::json!({"jsonrpc":"2.0","id":1,"method":"getHealth"}))
        .timeout(Duration::from_secs(5))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(v["result"], "ok");
    // SIGTERM stops it cleanly
    unsafe_kill(child.id());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

/// A port whose next `n - 1` ports are free too.
fn free_ports(n: u16) -> u16 {
    loop {
        let base = free_port();
        if base < 65_000
            && (1..n).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok())
        {
            return base;
        }
    }
}

#[test]
fn localnet_starts_endpoints_of_every_kind() {
    let (rpc, ws, admin, base) = (free_port(), free_port(), free_port(), free_ports(5));
    let mut child = lifeline()
        .args(["localnet", "--rpc-port", &rpc.to_string()])
        .args([
            "--ws-port",
            &ws.to_string(),
            "--admin-port",
            &admin.to_string(),
        ])
        .args(["--endpoints", "rpc=1,websocket=1,oracle=1,gateway=1,grpc=1"])
        .args(["--endpoint-base-port", &base.to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Ctrl-C");
        seen.push(line);
        if done {
            break;
        }
    }
    let out = seen.join("\n");
    for expected in [
        format!("ep0 http://127.0.0.1:{base} (rpc)"),
        format!("ws0 ws://127.0.0.1:{} (websocket)", base + 1),
        format!(
            "or0 http://127.0.0.1:{}/price#/price/publish_time (oracle)",
            base + 2
        ),
        format!("gw0 http://127.0.0.1:{}/health (gateway)", base + 3),
        format!("gr0 http://127.0.0.1:{} (grpc)", base + 4),
    ] {
        assert!(out.contains(&expected), "{expected} in\n{out}");
    }
    let http = reqwest::blocking::Client::new();
    let list: serde_json::Value = http
        .get(format!("http://127.0.0.1:{admin}/endpoints"))
        .timeout(Duration::from_secs(5))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["rpc", "websocket", "oracle", "gateway", "grpc"]);
    let health = http
        .get(format!("http://127.0.0.1:{}/health", base + 3))
        .timeout(Duration::from_secs(5))
        .send()
        .unwrap();
    assert_eq!(health.status(), 200);
    unsafe_kill(child.id());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
}

fn unsafe_kill(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status();
}

#[test]
fn bad_input_is_a_clear_error_and_exit_code_2() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["localnet", "--rpc-port", "notaport"], "invalid value"),
        (vec!["localnet", "--endpoints", "1000"], "1000"),
        (
            vec!["localnet", "--endpoints", "rpc=2,smtp=1"],
            "unknown endpoint kind `smtp`",
        ),
        (
            vec!["localnet", "--endpoints", "rpc=2,oracle=many"],
            "`many` is not a whole number",
        ),
        (
            vec!["localnet", "--endpoints", "gateway=65"],
            "more than 64",
        ),
        (vec!["localnet", "--slot-ms", "1"], "slot-ms"),
        (vec!["localnet", "--frobnicate"], "unexpected argument"),
        (vec!["teleport"], "unrecognized subcommand"),
        (
            vec![
                "localnet",
                "--rpc-port",
                &busy_port,
                "--ws-port",
                "0",
                "--admin-port",
                "0",
            ],
            "cannot listen",
        ),
    ];
    for (args, needle) in cases {
        let out = lifeline().args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    drop(busy);
}
