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
        "lifeline apply: 9 steps",
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
    check(&demo("frozen"), "SlotLag");
}

#[test]
fn the_down_scenario_fails_over_on_unreachable() {
    check(&demo("down"), "Unreachable");
}
