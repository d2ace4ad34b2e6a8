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
