//! `lifeline apply` as an operator runs it, against `lifeline localnet`: idempotent,
//! field-level plans, never undoing a failover, managing a network after an authority
//! transfer, removing a serving primary, and bad input refused before anything is paid.
//!
//! (Over 400 lines: each test drives `lifeline apply` through a whole operator story.)
mod common;

use common::*;
use serde_json::Value;

const EXAMPLE: &str = "migrations/topology.toml";

fn example_with_keeper(keeper: &str) -> String {
    std::fs::read_to_string(repo(EXAMPLE)).unwrap().replace(
        "# [[keeper]]\n# pubkey = \"<keeper pubkey>\"",
        &format!("[[keeper]]\npubkey = \"{keeper}\""),
    )
}

fn status(url: &str, network: &str) -> Value {
    let out = ok(&["status", "-u", url, "--network", network, "--json"]);
    serde_json::from_str(&out).unwrap()
}

fn network_line(out: &str) -> String {
    out.lines()
        .find_map(|l| {
            l.rsplit(" at ")
                .next()
                .filter(|_| l.starts_with("network "))
        })
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn apply_is_idempotent_shows_every_change_and_never_undoes_a_failover() {
    let net = LocalnetProcess::start(0);
    let dir = Scratch::new("apply");
    let (key, _) = dir.funded_key("authority.json", &net.rpc);
    let keeper = ok(&["keygen", "-o", dir.path("keeper.json").to_str().unwrap()]);
    let file = dir.file("topology.toml", &example_with_keeper(keeper.trim()));
    let f = file.to_str().unwrap();
    let apply = |extra: &[&str]| {
        let mut args = vec!["apply", "-f", f, "-u", &net.rpc, "-k", &key];
        args.extend_from_slice(extra);
        ok(&args)
    };

    let out = apply(&["--dry-run"]);
    assert!(out.contains("1. create network \"example-dex\""), "{out}");
    assert!(out.contains("dry run: nothing sent"), "{out}");
    assert!(
        out.contains("cannot tolerate a single faulty keeper"),
        "one keeper: the plan warns: {out}"
    );
    let out = apply(&[]);
    assert!(out.contains("applied"), "{out}");
    assert_eq!(
        out.matches('✓').count(),
        7,
        "create, 1 keeper, 5 endpoints: {out}"
    );
    let network = network_line(&out);
    let out = apply(&[]);
    assert!(
        out.contains("nothing to change"),
        "the second apply is a no-op: {out}"
    );

    // every changed field is named with its old and new value
    let changed = std::fs::read_to_string(f)
        .unwrap()
        .replace("cooldown_slots = 150", "cooldown_slots = 300")
        .replace("priority = 1", "priority = 2");
    std::fs::write(f, changed).unwrap();
    let out = apply(&["--dry-run"]);
    assert!(
        out.contains("update policy: cooldown_slots 150 → 300"),
        "{out}"
    );
    assert!(
        out.contains("(https://rpc-us.example.com): priority 1 → 2"),
        "{out}"
    );
    apply(&[]);

    // the keepers fail group 0 over (here: the authority, as the automation would):
    // apply reports the drift and changes nothing, quarantined or back as a standby
    let v = status(&net.rpc, &network);
    let standby = v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["url"] == "https://rpc-us.example.com")
        .unwrap()["id"]
        .to_string();
    ok(&[
        "failover",
        "-u",
        &net.rpc,
        "-k",
        &key,
        "--network",
        &network,
        "--group",
        "0",
        "--to",
        &standby,
        "--quarantine",
    ]);
    for _ in 0..2 {
        let out = apply(&[]);
        assert!(!out.contains("plan ("), "apply must not fail back: {out}");
        assert!(
            out.contains("note: drift: group 0 is served by https://rpc-us.example.com"),
            "{out}"
        );
        assert!(out.contains("nothing to apply"), "{out}");
        assert!(
            !out.contains("the chain has what"),
            "it does not claim the chain matches: {out}"
        );
        // readmitted by hand: a standby again, still no fail-back
        let primary_id = v["endpoints"][0]["id"].to_string();
        ok(&[
            "endpoint",
            "update",
            "-u",
            &net.rpc,
            "-k",
            &key,
            "--network",
            &network,
            "--id",
            &primary_id,
            "--role",
            "standby",
        ]);
    }
    let v = status(&net.rpc, &network);
    let primary = v["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["role"] == "primary")
        .unwrap();
    assert_eq!(primary["url"], "https://rpc-us.example.com");
}

#[test]
fn apply_manages_a_network_after_its_authority_moved() {
    let net = LocalnetProcess::start(0);
    let dir = Scratch::new("transfer");
    let (old, old_pubkey) = dir.funded_key("old.json", &net.rpc);
    let (new, new_pubkey) = dir.funded_key("new.json", &net.rpc);
    let keeper = ok(&["keygen", "-o", dir.path("keeper.json").to_str().unwrap()]);
    let text = example_with_keeper(keeper.trim());
    let file = dir.file("topology.toml", &text);
    let f = file.to_str().unwrap();
    let out = ok(&["apply", "-f", f, "-u", &net.rpc, "-k", &old]);
    let network = network_line(&out);
    ok(&[
        "authority",
        "propose",
        &new_pubkey,
        "-u",
        &net.rpc,
        "-k",
        &old,
        "--network",
        &network,
    ]);
    ok(&[
        "authority",
        "accept",
        "-u",
        &net.rpc,
        "-k",
        &new,
        "--network",
        &network,
    ]);
    // the new authority names the creator: the same network, nothing to do
    let by_creator = dir.file(
        "creator.toml",
        &text.replace(
            "name = \"example-dex\"",
            &format!("name = \"example-dex\"\ncreator = \"{old_pubkey}\""),
        ),
    );
    let out = apply_ok(&by_creator, &net.rpc, &new);
    assert!(
        out.contains(&network) && out.contains("nothing to change"),
        "{out}"
    );
    // or its address
    let by_address = dir.file(
        "address.toml",
        &text.replace(
            "name = \"example-dex\"",
            &format!("name = \"example-dex\"\naddress = \"{network}\""),
        ),
    );
    let out = apply_ok(&by_address, &net.rpc, &new);
    assert!(out.contains("nothing to change"), "{out}");
    // the old key is refused up front, naming the authority
    let err = fails(
        2,
        &[
            "apply",
            "-f",
            by_address.to_str().unwrap(),
            "-u",
            &net.rpc,
            "-k",
            &old,
        ],
    );
    assert!(
        err.contains("is not the authority") && err.contains(&new_pubkey),
        "{err}"
    );
}

#[test]
fn removing_the_serving_primary_needs_a_successor() {
    let net = LocalnetProcess::start(0);
    let dir = Scratch::new("successor");
    let (key, _) = dir.funded_key("authority.json", &net.rpc);
    let keeper = ok(&["keygen", "-o", dir.path("keeper.json").to_str().unwrap()]);
    let text = example_with_keeper(keeper.trim());
    let file = dir.file("topology.toml", &text);
    let f = file.to_str().unwrap();
    let out = ok(&["apply", "-f", f, "-u", &net.rpc, "-k", &key]);
    let network = network_line(&out);
    // drop the primary of group 0 from the file: refused in the plan, with the reason
    let without = text.replacen(
        "[[endpoint]]\ngroup = 0\nkind = \"rpc\"\nrole = \"primary\"\nurl = \"https://rpc-eu.example.com\"\nregion = \"eu-west\"\nprovider = \"provider-a\"\n",
        "",
        1,
    );
    assert_ne!(without, text);
    std::fs::write(f, &without).unwrap();
    let err = fails(
        2,
        &["apply", "-f", f, "-u", &net.rpc, "-k", &key, "--dry-run"],
    );
    assert!(
        err.contains("https://rpc-eu.example.com serves group 0"),
        "{err}"
    );
    // declare the successor: promote, then remove — and it lands
    std::fs::write(
        f,
        without.replace(
            "role = \"standby\"\nurl = \"https://rpc-us",
            "role = \"primary\"\nurl = \"https://rpc-us",
        ),
    )
    .unwrap();
    let out = ok(&["apply", "-f", f, "-u", &net.rpc, "-k", &key]);
    assert!(
        out.contains("make https://rpc-us.example.com the primary of group 0"),
        "{out}"
    );
    assert!(
        out.contains("remove endpoint 0 (https://rpc-eu.example.com)"),
        "{out}"
    );
    let v = status(&net.rpc, &network);
    assert_eq!(
        v["endpoints"].as_array().unwrap().len(),
        4,
        "the example's five endpoints, one removed"
    );
}

#[test]
fn a_guardian_and_keeper_labels_are_managed_out_loud() {
    let net = LocalnetProcess::start(0);
    let dir = Scratch::new("labels");
    let (key, _) = dir.funded_key("authority.json", &net.rpc);
    let keeper = ok(&["keygen", "-o", dir.path("keeper.json").to_str().unwrap()]);
    let guardian = ok(&["keygen", "-o", dir.path("guardian.json").to_str().unwrap()]);
    let text = example_with_keeper(keeper.trim());
    let file = dir.file("topology.toml", &text);
    let f = file.to_str().unwrap();
    let out = ok(&["apply", "-f", f, "-u", &net.rpc, "-k", &key]);
    let network = network_line(&out);
    // a guardian set by hand, and a keeper relabelled in the file
    ok(&[
        "guardian",
        "set",
        guardian.trim(),
        "-u",
        &net.rpc,
        "-k",
        &key,
        "--network",
        &network,
    ]);
    std::fs::write(
        f,
        text.replace(
            &format!("pubkey = \"{}\"", keeper.trim()),
            &format!("pubkey = \"{}\"\nregion = \"ap-south\"", keeper.trim()),
        ),
    )
    .unwrap();
    let out = ok(&["apply", "-f", f, "-u", &net.rpc, "-k", &key]);
    assert!(
        out.contains(&format!(
            "remove guardian {} (the file names none",
            guardian.trim()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "update keeper {}: region (none) → ap-south",
            keeper.trim()
        )),
        "{out}"
    );
    let v = status(&net.rpc, &network);
    assert_eq!(v["guardian"], Value::Null);
    assert_eq!(v["keepers"][0]["region"], "ap-south");
}

#[test]
fn bad_input_is_refused_before_anything_is_paid() {
    let net = LocalnetProcess::start_with("rpc=0,oracle=1");
    let dir = Scratch::new("refused");
    let (key, pubkey) = dir.funded_key("authority.json", &net.rpc);
    let long = "n".repeat(33);
    let oracle = net.url_of("or0").split('#').next().unwrap().to_string();
    let (nowhere, not_a_time) = (
        format!("{oracle}#/price/nothing"),
        format!("{oracle}#/price"),
    );
    let before = balance(&net.rpc, &pubkey);
    let cases: Vec<(String, &str)> = vec![
        (format!("[network]\nname = \"{long}\"\n"), "network.name"),
        (
            "[network]\nname = \"x\"\n[[endpoint]]\nurl = \"ftp://a.example\"\nrole = \"primary\"\n".into(),
            "endpoint ftp://a.example (group 0)",
        ),
        (
            "[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a.example\"\nkind = \"oracle\"\n".into(),
            "JSON pointer",
        ),
        (
            "[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a.example\"\nkind = \"websocket\"\n".into(),
            "ws:// or wss://",
        ),
        ("[network]\nname = \"x\"\n[policy]\nlag_down_slots = 5\n".into(), "policy.lag_degraded_slots"),
        // the oracle answers, but its pointer finds no timestamp
        (
            format!("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"{nowhere}\"\nkind = \"oracle\"\nrole = \"primary\"\n"),
            "/price/nothing finds nothing",
        ),
        (
            format!("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"{not_a_time}\"\nkind = \"oracle\"\nrole = \"primary\"\n"),
            "not a Unix timestamp",
        ),
    ];
    for (text, needle) in cases {
        let file = dir.file("bad.toml", &text);
        for dry in [true, false] {
            let mut args = vec![
                "apply",
                "-f",
                file.to_str().unwrap(),
                "-u",
                &net.rpc,
                "-k",
                &key,
            ];
            if dry {
                args.push("--dry-run");
            }
            let err = fails(2, &args);
            assert!(err.contains(needle), "{needle:?} not in {err}");
        }
    }
    assert_eq!(
        balance(&net.rpc, &pubkey),
        before,
        "not a lamport was spent"
    );
    // nothing was created: the network of the last file does not exist
    let network = ok(&[
        "apply",
        "-f",
        dir.file("ok.toml", "[network]\nname = \"x\"\n")
            .to_str()
            .unwrap(),
        "-u",
        &net.rpc,
        "-k",
        &key,
        "--dry-run",
    ]);
    assert!(network.contains("create network \"x\""), "{network}");
    // `network create` refuses the long name too, before deriving anything
    let err = fails(
        2,
        &[
            "network", "create", "--name", &long, "-u", &net.rpc, "-k", &key,
        ],
    );
    assert!(err.contains("1 to 32 bytes"), "{err}");
}

/// `lifeline apply … | head -1`: the reader goes away early; apply still applies every
/// step and exits 0 (a line it cannot print is dropped, never a panic).
#[test]
fn apply_finishes_its_work_when_stdout_is_closed() {
    let net = LocalnetProcess::start(2);
    let dir = Scratch::new("closed-stdout");
    let (key, _) = dir.funded_key("authority.json", &net.rpc);
    let file = dir.file(
        "t.toml",
        &format!(
            "[network]\nname = \"piped\"\n[[endpoint]]\nrole = \"primary\"\nurl = \"{}\"\n[[endpoint]]\nurl = \"{}\"\n",
            net.url_of("ep0"),
            net.url_of("ep1")
        ),
    );
    let mut child = lifeline()
        .args([
            "apply",
            "-f",
            file.to_str().unwrap(),
            "-u",
            &net.rpc,
            "-k",
            &key,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader is gone before the first line
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let again = apply_ok(&file, &net.rpc, &key);
    assert!(
        again.contains("nothing to change"),
        "every step was applied: {again}"
    );
}

/// `lifeline apply -f file -u rpc -k key`, which must succeed; its stdout.
fn apply_ok(file: &std::path::Path, rpc: &str, key: &str) -> String {
    ok(&["apply", "-f", file.to_str().unwrap(), "-u", rpc, "-k", key])
}
