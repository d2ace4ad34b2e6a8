//! `lifeline demo` tells the whole story and exits 0 (fast mode: 100 ms slots).
use std::process::Command;

fn demo(scenario: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lifeline"))
        .args(["demo", "--fast", "--scenario", scenario])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "demo {scenario} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn check(out: &str, rule: &str) {
    for needle in [
        "lifeline apply: 11 steps",
        "MIGRATION after",
        &format!("rule {rule}"),
        "group 0 ep0 → ep1",
        "quarantined until slot",
        "READMITTED: ep0 is a standby again",
        "migrations / readmissions       1 / 1",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    assert!(
        out.contains(" 0 failed (routed by FailoverRpc)"),
        "the client lost requests:\n{out}"
    );
    assert!(!out.contains("DEBUG"), "runtime debug logs leaked:\n{out}");
    assert!(
        !out.contains("Instruction: "),
        "program logs leaked:\n{out}"
    );
}

#[test]
fn the_default_demo_freezes_the_primary_and_recovers() {
    check(&demo("frozen"), "Stalled");
}

#[test]
fn the_down_scenario_fails_over_on_unreachable() {
    check(&demo("down"), "Unreachable");
}

#[test]
fn keep_running_stays_up_on_the_default_ports_until_ctrl_c() {
    use std::io::{BufRead, BufReader};
    for port in [8899, 8900, 8890, 8901, 8902, 8903, 8904, 8905, 8906] {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is busy: stop whatever holds it (a running localnet?) before this test"
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_lifeline"))
        .args(["demo", "--fast", "--keep-running"])
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let done = line.starts_with("  network ")
            && seen.iter().any(|l: &String| l.contains("still running"));
        seen.push(line);
        if done {
            break;
        }
    }
    let out = seen.join("\n");
    assert!(out.contains("JSON-RPC   http://127.0.0.1:8899"), "{out}");
    let health: serde_json::Value = reqwest::blocking::Client::new()
        .post("http://127.0.0.1:8899")
        .json(&serde_json::json!({"jsonrpc":"2.0","id":1,"method":"getHealth"}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        health["result"], "ok",
        "the cluster is still up after the story"
    );
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "Ctrl-C stops it cleanly: {status:?}");
}
