//! The practice run in docs/operator-guide.md, exactly as written there: the block between
//! its `practice run` markers runs in bash with the built `lifeline` and `lifeline-keeper`
//! on PATH, and must end with group 0 failed over by the keepers.
mod common;

use std::process::Command;

use common::*;

/// The bash block of the guide's practice run.
fn practice_block() -> String {
    let guide = std::fs::read_to_string(repo("docs/operator-guide.md")).unwrap();
    let begin = guide
        .find("<!-- practice run: begin -->")
        .expect("the guide marks its practice run");
    let end = guide
        .find("<!-- practice run: end -->")
        .expect("the guide marks the end of its practice run");
    let block = &guide[begin..end];
    let start = block.find("```bash\n").expect("a bash block") + "```bash\n".len();
    let stop = block.rfind("```").expect("the block's end");
    block[start..stop].to_string()
}

#[test]
fn the_operator_guides_practice_run_works_as_written() {
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_lifeline"))
        .parent()
        .unwrap()
        .to_path_buf();
    if !bin.join("lifeline-keeper").exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let built = Command::new(cargo)
            .args(["build", "-p", "lifeline-keeper"])
            .status()
            .unwrap();
        assert!(built.success(), "cannot build lifeline-keeper");
    }
    for port in [18890, 18899, 18900, 18901, 18905, 19461, 19464] {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is busy: the practice run uses 18890-18905 and 19461-19464"
        );
    }
    let dir = Scratch::new("practice");
    let script = dir.file("practice.sh", &practice_block());
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("timeout");
    cmd.args(["300", "bash", "-euo", "pipefail"])
        .arg(&script)
        .current_dir(&dir.0)
        .env("PATH", path);
    // an operator's shell: no LIFELINE_* settings, and not the RUST_LOG=error that
    // .cargo/config.toml gives the tests
    for (k, _) in std::env::vars() {
        if k.starts_with("LIFELINE_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    let (code, out, err) = run(&mut cmd);
    assert_eq!(code, 0, "the practice run failed:\n{out}\n{err}");
    // the last status: ep1 serves group 0, ep0 is quarantined, one migration recorded
    let last = out.rsplit("network   practice").next().unwrap();
    assert!(
        last.lines()
            .any(|l| l.contains("PRIMARY") && l.contains("http://127.0.0.1:18902")),
        "group 0 did not fail over:\n{out}"
    );
    assert!(
        last.lines()
            .any(|l| l.contains("QUARANTINED") && l.contains("http://127.0.0.1:18901")),
        "{out}"
    );
    assert!(last.contains("recent migrations"), "{out}");
    assert!(
        out.contains("lifeline_keeper_attestations_sent_total"),
        "the keeper's metrics answered: {out}"
    );
    // each keeper says so in one readable line, with no colour codes in its log file
    let log = std::fs::read_to_string(dir.path("practice/keeper1.log")).unwrap();
    assert!(
        log.lines().any(|l| l.contains(
            "group 0 failed over from ep0 (http://127.0.0.1:18901) to ep1 (http://127.0.0.1:18902)"
        ) && l.contains("slot stalled; voters ")),
        "keeper1.log:\n{log}\nthe run:\n{out}"
    );
    assert!(!log.contains('\u{1b}'), "ANSI codes in a log file: {log}");
}
