//! The operator's single levers and `status`, against `lifeline localnet`: every
//! management subcommand changes the chain; status tells the truth during an incident;
//! exit codes tell input, unreachable and refused apart; every subcommand explains itself.
//!
//! (Over 400 lines: one test walks every management subcommand against a live
//! localnet, another every bad input; splitting them would start more localnets.)
mod common;

use common::*;
use serde_json::Value;

fn status(url: &str, network: &str) -> Value {
    let out = ok(&["status", "-u", url, "--network", network, "--json"]);
    serde_json::from_str(&out).unwrap()
}

#[test]
fn every_management_subcommand_changes_the_chain() {
    let net = LocalnetProcess::start(0);
    let dir = Scratch::new("manage");
    let (k, me) = dir.funded_key("me.json", &net.rpc);
    let (heir_key, heir) = dir.funded_key("heir.json", &net.rpc);
    let url = net.rpc.as_str();
    let out = ok(&["network", "create", "-u", url, "-k", &k, "--name", "mgmt"]);
    let network = out
        .split(" at ")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_string();
    let with = |cmd: &[&str], extra: &[&str]| {
        let mut args: Vec<&str> = cmd.to_vec();
        args.extend(["-u", url, "-k", &k, "--network", &network]);
        args.extend_from_slice(extra);
        ok(&args)
    };
    with(
        &["endpoint", "add"],
        &[
            "--endpoint-url",
            "https://p.example",
            "--role",
            "primary",
            "--region",
            "eu",
            "--provider",
            "a",
        ],
    );
    with(
        &["endpoint", "add"],
        &[
            "--endpoint-url",
            "https://s.example",
            "--region",
            "us",
            "--provider",
            "b",
        ],
    );
    with(
        &["endpoint", "add"],
        &[
            "--endpoint-url",
            "wss://ws.example",
            "--kind",
            "websocket",
            "--group",
            "1",
        ],
    );
    let keeper = ok(&["keygen", "-o", dir.path("keeper.json").to_str().unwrap()]);
    let keeper = keeper.trim();
    with(
        &["keeper", "add", keeper],
        &["--region", "ap", "--provider", "c"],
    );
    with(
        &["keeper", "update", keeper],
        &["--region", "eu", "--provider", "d"],
    );
    let out = with(
        &["policy", "set"],
        &["--cooldown-slots", "77", "--lag-down-slots", "40"],
    );
    assert!(
        out.contains("cooldown_slots 150 → 77") && out.contains("lag_down_slots 50 → 40"),
        "{out}"
    );
    with(
        &["endpoint", "update"],
        &["--id", "2", "--role", "retired", "--priority", "9"],
    );
    with(&["failover"], &["--group", "0", "--to", "1"]);
    with(&["endpoint", "remove"], &["--id", "2"]);
    with(&["guardian", "set", &heir], &[]);
    with(&["authority", "propose", &heir], &[]);
    with(&["pause"], &[]);

    let v = status(url, &network);
    let endpoints = v["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 2, "{v}");
    let role = |id: u64| endpoints.iter().find(|e| e["id"] == id).unwrap()["role"].clone();
    assert_eq!((role(1), role(0)), ("primary".into(), "standby".into()));
    assert_eq!(v["keepers"][0]["keeper"], keeper);
    assert_eq!(v["keepers"][0]["provider"], "d");
    assert_eq!(v["policy"]["cooldown_slots"], 77);
    assert_eq!(v["policy"]["lag_down_slots"], 40);
    assert_eq!(
        v["policy"].as_object().unwrap().len(),
        16,
        "the whole policy"
    );
    assert_eq!(
        (v["guardian"].as_str(), v["pending_authority"].as_str()),
        (Some(heir.as_str()), Some(heir.as_str()))
    );
    assert_eq!(
        (v["paused"].as_bool(), v["paused_by"].as_str()),
        (Some(true), Some(me.as_str()))
    );
    let text = ok(&["status", "-u", url, "--network", &network]);
    assert!(text.contains("PAUSED by the authority"), "{text}");
    assert!(
        text.contains(&format!("(proposed: {heir}, not yet accepted)")),
        "{text}"
    );
    assert!(text.contains("not judged yet"), "{text}");
    assert!(
        !text.contains("medians"),
        "no medians without observations: {text}"
    );
    assert!(
        text.contains("manual failover"),
        "the migration in words: {text}"
    );

    // the heir accepts; the guardian (also the heir) stays; the old key has no power left
    ok(&[
        "authority",
        "accept",
        "-u",
        url,
        "-k",
        &heir_key,
        "--network",
        &network,
    ]);
    let err = fails(
        2,
        &[
            "keeper",
            "remove",
            keeper,
            "-u",
            url,
            "-k",
            &k,
            "--network",
            &network,
        ],
    );
    assert!(err.contains("is not the authority"), "{err}");
    ok(&["resume", "-u", url, "-k", &heir_key, "--network", &network]);
    ok(&[
        "keeper",
        "remove",
        keeper,
        "-u",
        url,
        "-k",
        &heir_key,
        "--network",
        &network,
    ]);
    ok(&[
        "guardian",
        "remove",
        "-u",
        url,
        "-k",
        &heir_key,
        "--network",
        &network,
    ]);
    let v = status(url, &network);
    assert!(v["keepers"].as_array().unwrap().is_empty());
    assert_eq!(v["guardian"], Value::Null);

    // close: refused while endpoints remain, then the rent comes back
    let err = fails(
        2,
        &[
            "network",
            "close",
            "-u",
            url,
            "-k",
            &heir_key,
            "--network",
            &network,
        ],
    );
    assert!(err.contains("still has 0 keepers and 2 endpoints"), "{err}");
    for id in ["0", "1"] {
        ok(&[
            "endpoint",
            "remove",
            "--id",
            id,
            "-u",
            url,
            "-k",
            &heir_key,
            "--network",
            &network,
        ]);
    }
    let before = balance(url, &heir);
    ok(&[
        "network",
        "close",
        "-u",
        url,
        "-k",
        &heir_key,
        "--network",
        &network,
    ]);
    assert!(balance(url, &heir) > before, "rent refunded");
    let err = fails(2, &["status", "-u", url, "--network", &network]);
    assert!(err.contains("not a Lifeline network"), "{err}");
}

#[test]
fn exit_codes_tell_input_unreachable_and_refused_apart() {
    let net = LocalnetProcess::start(0);
    let dir = Scratch::new("codes");
    let (k, _) = dir.funded_key("me.json", &net.rpc);
    let out = ok(&[
        "network", "create", "-u", &net.rpc, "-k", &k, "--name", "codes",
    ]);
    let network = out
        .split(" at ")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .to_string();
    // refused by the program, named: 4
    ok(&["pause", "-u", &net.rpc, "-k", &k, "--network", &network]);
    let err = fails(
        4,
        &["pause", "-u", &net.rpc, "-k", &k, "--network", &network],
    );
    assert!(err.contains("NoChange: Nothing to change"), "{err}");
    let err = fails(
        4,
        &[
            "failover",
            "--to",
            "7",
            "-u",
            &net.rpc,
            "-k",
            &k,
            "--network",
            &network,
        ],
    );
    assert!(err.contains("EndpointNotFound"), "{err}");
    // unreachable: 3, naming the URL
    let dead = format!("http://127.0.0.1:{}", free_port());
    let err = fails(3, &["status", "-u", &dead, "--network", &network]);
    assert!(err.contains(&dead), "{err}");
    let err = fails(3, &["pause", "-u", &dead, "-k", &k, "--network", &network]);
    assert!(err.contains("cannot reach"), "{err}");
    // LIFELINE_URL is `-u`'s default
    let (code, out, _) =
        run(lifeline()
            .env("LIFELINE_URL", &net.rpc)
            .args(["status", "--network", &network]));
    assert_eq!(code, 0);
    assert!(out.contains("codes"), "{out}");
}

#[test]
fn bad_input_is_exit_code_2_with_a_clear_message() {
    let dir = Scratch::new("input");
    let bad_file = dir.file("bad.toml", "[network]\nname = \"x\"\nbogus = 1\n");
    let key = dir.path("k.json");
    ok(&["keygen", "-o", key.to_str().unwrap()]);
    let err = fails(2, &["keygen", "-o", key.to_str().unwrap()]);
    assert!(err.contains("refusing to overwrite"), "{err}");
    let k = key.to_str().unwrap();
    let example = repo("migrations/topology.toml");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["apply", "-f", "/nonexistent.toml"],
            "cannot read /nonexistent.toml",
        ),
        (
            vec!["apply", "-f", bad_file.to_str().unwrap(), "-k", k],
            "bogus",
        ),
        (
            vec![
                "apply",
                "-f",
                example.to_str().unwrap(),
                "-k",
                "/nonexistent/id.json",
            ],
            "cannot read keypair",
        ),
        (vec!["status", "--network", "nope"], "not a valid address"),
        (vec!["failover", "--network", "x"], "--to"),
        (
            vec![
                "guardian",
                "set",
                "--network",
                "11111111111111111111111111111111",
                "-k",
                k,
                "zzz",
            ],
            "not a valid address",
        ),
        (
            vec![
                "endpoint",
                "add",
                "--network",
                "11111111111111111111111111111111",
                "-k",
                k,
                "--endpoint-url",
                "https://o.example",
                "--kind",
                "oracle",
            ],
            "endpoint https://o.example: an oracle URL names the timestamp",
        ),
        (
            vec![
                "endpoint",
                "add",
                "--network",
                "11111111111111111111111111111111",
                "-k",
                k,
                "--endpoint-url",
                "https://w.example",
                "--kind",
                "websocket",
            ],
            "ws:// or wss://",
        ),
        (
            vec![
                "endpoint",
                "add",
                "--network",
                "11111111111111111111111111111111",
                "-k",
                k,
                "--endpoint-url",
                "https://k.example",
                "--kind",
                "smtp",
            ],
            "unknown endpoint kind",
        ),
        (
            vec![
                "policy",
                "set",
                "--network",
                "11111111111111111111111111111111",
                "-k",
                k,
                "--quorum",
                "300",
            ],
            "300",
        ),
        (
            vec![
                "keeper",
                "add",
                "11111111111111111111111111111111",
                "--network",
                "11111111111111111111111111111111",
                "-k",
                k,
                "--region",
                "a-region-label-that-is-too-long",
            ],
            "at most 16 bytes",
        ),
        (vec!["airdrop", "nope"], "not a valid address"),
    ];
    for (args, needle) in cases {
        let err = fails(2, &args);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn every_subcommand_has_help_and_the_exit_codes_are_documented() {
    let top = ok(&["--help"]);
    assert!(
        top.contains("Exit codes:") && top.contains("3  the cluster could not be reached"),
        "{top}"
    );
    for path in [
        vec!["localnet", "--help"],
        vec!["demo", "--help"],
        vec!["status", "--help"],
        vec!["apply", "--help"],
        vec!["network", "create", "--help"],
        vec!["network", "close", "--help"],
        vec!["policy", "set", "--help"],
        vec!["endpoint", "add", "--help"],
        vec!["endpoint", "update", "--help"],
        vec!["endpoint", "remove", "--help"],
        vec!["keeper", "add", "--help"],
        vec!["keeper", "update", "--help"],
        vec!["keeper", "remove", "--help"],
        vec!["failover", "--help"],
        vec!["pause", "--help"],
        vec!["resume", "--help"],
        vec!["authority", "propose", "--help"],
        vec!["authority", "accept", "--help"],
        vec!["authority", "cancel", "--help"],
        vec!["guardian", "set", "--help"],
        vec!["guardian", "remove", "--help"],
        vec!["keygen", "--help"],
        vec!["airdrop", "--help"],
    ] {
        let out = ok(&path);
        assert!(out.contains("Usage:"), "{path:?}: {out}");
    }
    // every policy field is a flag of `policy set`
    let help = ok(&["policy", "set", "--help"]);
    for field in [
        "--staleness-slots",
        "--liveness-slots",
        "--stall-slots",
        "--recovery-windows",
    ] {
        assert!(help.contains(field), "{field}: {help}");
    }
}

/// An oracle is checked against its real answer before it is registered: a pointer that
/// finds no timestamp is refused (exit 2, naming the endpoint) before anything is paid.
#[test]
fn endpoint_add_checks_what_an_oracle_answers() {
    let net = LocalnetProcess::start_with("rpc=0,oracle=1");
    let dir = Scratch::new("oracle");
    let (key, _) = dir.funded_key("authority.json", &net.rpc);
    let oracle = net.url_of("or0").split('#').next().unwrap().to_string();
    for (pointer, needle) in [
        ("/price/nothing", "/price/nothing finds nothing"),
        ("/price", "not a Unix timestamp"),
    ] {
        let url = format!("{oracle}#{pointer}");
        let err = fails(
            2,
            &[
                "endpoint",
                "add",
                "--network",
                "11111111111111111111111111111111",
                "-u",
                &net.rpc,
                "-k",
                &key,
                "--kind",
                "oracle",
                "--endpoint-url",
                &url,
            ],
        );
        assert!(err.contains(&format!("endpoint {url}: ")), "{err}");
        assert!(err.contains(needle), "{err}");
    }
}
