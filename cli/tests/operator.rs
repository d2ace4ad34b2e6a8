//! The operator commands against a running localnet: apply (idempotent), status, failover,
//! pause/resume, and bad input.
use std::process::Command;
use std::time::Duration;

use lifeline_localnet::{Localnet, LocalnetConfig};
use solana_signer::Signer;

fn lifeline() -> Command {
    Command::new(env!("CARGO_BIN_EXE_lifeline"))
}

fn temp(name: &str, contents: &str) -> std::path::PathBuf {
    let p = std::env::temp_dir().join(format!("lifeline-cli-{}-{name}", std::process::id()));
    std::fs::write(&p, contents).unwrap();
    p
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_is_idempotent_and_status_shows_the_result() {
    let net = Localnet::start(LocalnetConfig {
        slot_duration: Duration::from_millis(100),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let me = net
        .funded_keypairs(1, 10_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let keeper = solana_keypair::Keypair::new();
    let key = temp("authority.json", "");
    solana_keypair::write_keypair_file(&me, &key).unwrap();
    let topology = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../migrations/topology.toml"
    ))
    .unwrap()
    .replace(
        "# [[keeper]]\n# pubkey = \"<keeper pubkey>\"",
        &format!("[[keeper]]\npubkey = \"{}\"", keeper.pubkey()),
    );
    let file = temp("topology.toml", &topology);
    let apply = |extra: &[&str]| {
        let mut c = lifeline();
        c.args(["apply", "-f"])
            .arg(&file)
            .args(["-u", &net.rpc_url, "-k"])
            .arg(&key)
            .args(extra);
        run(&mut c)
    };

    let (code, out, err) = apply(&["--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("create network") && out.contains("dry run: nothing sent"),
        "{out}"
    );
    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("applied"), "{out}");
    assert_eq!(
        out.matches('✓').count(),
        5,
        "create, 1 keeper, 3 endpoints: {out}"
    );
    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("nothing to change"),
        "the second apply is a no-op: {out}"
    );

    // status, as text and as JSON
    let network = lifeline_client::pda::network(&me.pubkey(), "example-dex")
        .0
        .to_string();
    let (code, out, err) =
        run(lifeline().args(["status", "-u", &net.rpc_url, "--network", &network]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("example-dex")
            && out.contains("https://rpc-eu.example.com")
            && out.contains("Primary"),
        "{out}"
    );
    let (code, out, _) = run(lifeline().args([
        "status",
        "-u",
        &net.rpc_url,
        "--network",
        &network,
        "--json",
    ]));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["endpoints"].as_array().unwrap().len(), 3);
    assert_eq!(v["keepers"][0]["keeper"], keeper.pubkey().to_string());

    // a changed file: the declared primary moves to the standby (a manual failover)
    let moved = topology
        .replacen(
            "role = \"primary\"\nurl = \"https://rpc-eu",
            "role = \"standby\"\nurl = \"https://rpc-eu",
            1,
        )
        .replacen(
            "role = \"standby\"\nurl = \"https://rpc-us",
            "role = \"primary\"\nurl = \"https://rpc-us",
            1,
        );
    std::fs::write(&file, moved).unwrap();
    let (code, out, err) = apply(&[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("promote https://rpc-us.example.com"), "{out}");
    let (_, out, _) = apply(&[]);
    assert!(out.contains("nothing to change"), "{out}");

    // pause and resume
    let (code, out, err) = run(lifeline()
        .args(["pause", "-u", &net.rpc_url, "--network", &network, "-k"])
        .arg(&key));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("paused"));
    let (code, _, err) = run(lifeline()
        .args(["pause", "-u", &net.rpc_url, "--network", &network, "-k"])
        .arg(&key));
    assert_eq!(code, 1, "pausing twice is refused by the program");
    assert!(
        err.contains("NoChange"),
        "the program error is named: {err}"
    );
    let (code, _, err) = run(lifeline()
        .args(["resume", "-u", &net.rpc_url, "--network", &network, "-k"])
        .arg(&key));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn bad_input_is_exit_code_2_with_a_clear_message() {
    let bad_file = temp("bad.toml", "[network]\nname = \"x\"\nbogus = 1\n");
    let key = temp("k.json", "");
    solana_keypair::write_keypair_file(&solana_keypair::Keypair::new(), &key).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["apply".into(), "-f".into(), "/nonexistent.toml".into()],
            "cannot read /nonexistent.toml",
        ),
        (
            vec![
                "apply".into(),
                "-f".into(),
                bad_file.display().to_string(),
                "-k".into(),
                key.display().to_string(),
            ],
            "bogus",
        ),
        (
            vec![
                "apply".into(),
                "-f".into(),
                concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/topology.toml").into(),
                "-k".into(),
                "/nonexistent/id.json".into(),
            ],
            "cannot read keypair",
        ),
        (
            vec!["status".into(), "--network".into(), "nope".into()],
            "not a valid address",
        ),
        (
            vec!["failover".into(), "--network".into(), "x".into()],
            "--to",
        ),
        (
            vec![
                "guardian".into(),
                "set".into(),
                "--network".into(),
                "11111111111111111111111111111111".into(),
                "-k".into(),
                key.display().to_string(),
                "zzz".into(),
            ],
            "not a valid address",
        ),
    ];
    for (args, needle) in cases {
        let (code, _, err) = run(lifeline().args(&args));
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn an_unreachable_rpc_is_exit_code_2_naming_the_url() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (code, _, err) = run(lifeline().args([
        "status",
        "-u",
        &format!("http://127.0.0.1:{dead}"),
        "--network",
        "11111111111111111111111111111111",
    ]));
    assert_eq!(code, 2, "a wrong URL is bad input: {err}");
    assert!(err.contains(&dead.to_string()), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_management_subcommand_changes_the_chain() {
    let net = Localnet::start(LocalnetConfig {
        slot_duration: Duration::from_millis(100),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let me = net
        .funded_keypairs(1, 10_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let heir = net
        .funded_keypairs(1, 1_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let key = temp("mgmt.json", "");
    solana_keypair::write_keypair_file(&me, &key).unwrap();
    let heir_key = temp("heir.json", "");
    solana_keypair::write_keypair_file(&heir, &heir_key).unwrap();
    let url = net.rpc_url.clone();
    let network = lifeline_client::pda::network(&me.pubkey(), "mgmt")
        .0
        .to_string();
    let k = key.display().to_string();
    let ok = |args: &[&str]| {
        let (code, out, err) = run(lifeline().args(args));
        assert_eq!(code, 0, "{args:?}: {out}{err}");
        out
    };
    let common = |cmd: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = cmd.iter().map(|s| s.to_string()).collect();
        v.extend([
            "-u".into(),
            url.clone(),
            "-k".into(),
            k.clone(),
            "--network".into(),
            network.clone(),
        ]);
        v
    };
    let ok_c = |cmd: &[&str], extra: &[&str]| {
        let mut args = common(cmd);
        args.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        ok(&refs)
    };
    ok(&["network", "create", "-u", &url, "-k", &k, "--name", "mgmt"]);
    ok_c(
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
    ok_c(
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
    ok_c(
        &["endpoint", "add"],
        &["--endpoint-url", "https://x.example"],
    );
    let keeper = solana_keypair::Keypair::new().pubkey().to_string();
    ok_c(
        &["keeper", "add", &keeper],
        &["--region", "ap", "--provider", "c"],
    );
    ok_c(
        &["policy", "set"],
        &["--cooldown-slots", "77", "--lag-down-slots", "40"],
    );
    ok_c(
        &["endpoint", "update"],
        &["--id", "2", "--role", "retired", "--priority", "9"],
    );
    ok_c(&["failover"], &["--group", "0", "--to", "1"]);
    ok_c(&["endpoint", "remove"], &["--id", "2"]);
    ok_c(&["guardian", "set", &heir.pubkey().to_string()], &[]);
    ok_c(&["authority", "propose", &heir.pubkey().to_string()], &[]);

    let status = |net_url: &str| {
        let (code, out, err) =
            run(lifeline().args(["status", "-u", net_url, "--network", &network, "--json"]));
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let v = status(&url);
    let endpoints = v["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 2, "{v}");
    assert_eq!(
        endpoints.iter().find(|e| e["id"] == 1).unwrap()["role"],
        "Primary"
    );
    assert_eq!(
        endpoints.iter().find(|e| e["id"] == 0).unwrap()["role"],
        "Standby"
    );
    assert_eq!(v["keepers"][0]["keeper"], keeper);
    let n = lifeline_client::accounts::network(
        net.cluster
            .working_bank()
            .get_account(&network.parse().unwrap())
            .unwrap()
            .data(),
    )
    .unwrap();
    assert_eq!((n.policy.cooldown_slots, n.policy.lag_down_slots), (77, 40));
    assert_eq!(
        (n.guardian, n.pending_authority),
        (heir.pubkey(), heir.pubkey())
    );

    // the heir accepts; then the old key is no longer the authority
    let hk = heir_key.display().to_string();
    ok(&[
        "authority",
        "accept",
        "-u",
        &url,
        "-k",
        &hk,
        "--network",
        &network,
    ]);
    let (code, _, err) = run(lifeline().args(
        common(&["keeper", "remove", &keeper])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    ));
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("Unauthorized"), "{err}");
    ok(&[
        "keeper",
        "remove",
        &keeper,
        "-u",
        &url,
        "-k",
        &hk,
        "--network",
        &network,
    ]);
    assert!(status(&url)["keepers"].as_array().unwrap().is_empty());
}

use solana_account::ReadableAccount;

#[test]
fn every_subcommand_has_help() {
    for path in [
        vec!["--help"],
        vec!["localnet", "--help"],
        vec!["status", "--help"],
        vec!["apply", "--help"],
        vec!["network", "create", "--help"],
        vec!["policy", "set", "--help"],
        vec!["endpoint", "add", "--help"],
        vec!["endpoint", "update", "--help"],
        vec!["endpoint", "remove", "--help"],
        vec!["keeper", "add", "--help"],
        vec!["keeper", "remove", "--help"],
        vec!["failover", "--help"],
        vec!["pause", "--help"],
        vec!["resume", "--help"],
        vec!["authority", "propose", "--help"],
        vec!["authority", "accept", "--help"],
        vec!["guardian", "set", "--help"],
    ] {
        let (code, out, err) = run(lifeline().args(&path));
        assert_eq!(code, 0, "{path:?}: {err}");
        assert!(out.contains("Usage:"), "{path:?}: {out}");
    }
}
