//! The keeper configuration's tests: layers, sources named in errors, validation.
use super::*;

const NET: &str = "5fFtQJk9m4BH217PNfKfcQEhMHBPS7GVgDtvBp1zH6eJ";

struct TempFile(PathBuf);
impl TempFile {
    fn new(contents: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("lifeline-keeper-{}-{n}.toml", std::process::id()));
        std::fs::write(&p, contents).unwrap();
        Self(p)
    }
}
impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn defaults_then_file_then_env_then_flags() {
    let f = TempFile::new(&format!(
        "network = \"{NET}\"\nprobe_interval_ms = 2000\nurl = \"devnet\"\n"
    ));
    let c = load(Some(&f.0), vec![], &[]).unwrap();
    let policy: lifeline::state::Policy = lifeline::state::PolicyParams::default().into();
    assert_eq!(c.probe_interval_ms, 2_000);
    assert_eq!(
        (
            c.probe_timeout(&policy).as_millis(),
            c.error_window(&policy)
        ),
        (policy.latency_down_ms as u128, 10),
        "timeout and window follow the policy"
    );
    let set = load(
        Some(&f.0),
        vec![],
        &[
            ("probe_timeout_ms", "300".into()),
            ("window_probes", "4".into()),
        ],
    )
    .unwrap();
    assert_eq!(
        (
            set.probe_timeout(&policy).as_millis(),
            set.error_window(&policy)
        ),
        (300, 4)
    );
    assert_eq!(set.confirm_interval().as_millis(), 500);
    // a policy's latency_down_ms of 10 minutes does not let an endpoint hold a probe that
    // long: the timeout is capped
    let patient: lifeline::state::Policy = lifeline::state::PolicyParams {
        latency_degraded_ms: 1_000,
        latency_down_ms: 600_000,
        ..lifeline::state::PolicyParams::default()
    }
    .into();
    assert_eq!(
        c.probe_timeout(&patient).as_millis(),
        crate::config::MAX_PROBE_TIMEOUT_MS as u128
    );
    assert_eq!(
        c.rpc_urls(),
        vec!["https://api.devnet.solana.com".to_string()]
    );
    assert_eq!(c.ws_url(), "wss://api.devnet.solana.com");

    let env = vec![
        ("LIFELINE_PROBE_INTERVAL_MS".to_string(), "3000".to_string()),
        (
            "LIFELINE_RPC_URLS".to_string(),
            "http://a:1,http://b:2".to_string(),
        ),
    ];
    let c = load(Some(&f.0), env.clone(), &[]).unwrap();
    assert_eq!(c.probe_interval_ms, 3_000, "env beats file");
    assert_eq!(
        c.rpc_urls(),
        vec!["https://api.devnet.solana.com", "http://a:1", "http://b:2"]
    );
    let c = load(
        Some(&f.0),
        env,
        &[
            ("probe_interval_ms", "4000".into()),
            ("url", "localhost".into()),
        ],
    )
    .unwrap();
    assert_eq!(c.probe_interval_ms, 4_000, "flags beat env");
    assert_eq!(c.rpc_urls()[0], "http://127.0.0.1:8899");
    assert_eq!(c.ws_url(), "ws://127.0.0.1:8900");
    let given = load(
        Some(&f.0),
        vec![],
        &[("ws_url", "ws://10.0.0.1:7000".into())],
    )
    .unwrap();
    assert_eq!(
        given.ws_url(),
        "ws://10.0.0.1:7000",
        "a given ws_url is used as is"
    );
    assert!(c.to_toml().contains("probe_interval_ms = 4000"));
}

#[test]
fn everything_can_come_from_the_environment() {
    let c = load(None, vec![("LIFELINE_NETWORK".into(), NET.into())], &[]).unwrap();
    assert_eq!(c.network().unwrap().to_string(), NET);
    assert!(c.keypair_path().ends_with(".config/solana/id.json"));
}

#[test]
fn errors_name_the_layer_and_the_field() {
    let missing = load(None, vec![], &[]).unwrap_err();
    assert!(missing.to_string().contains("network"), "{missing}");

    let f = TempFile::new(&format!("network = \"{NET}\"\n\nprobe_intervall_ms = 5\n"));
    let unknown = load(Some(&f.0), vec![], &[]).unwrap_err().to_string();
    assert!(unknown.contains("line 3"), "{unknown}");
    assert!(
        unknown.contains("unknown field `probe_intervall_ms`"),
        "{unknown}"
    );

    let f = TempFile::new("network = \n");
    assert!(matches!(
        load(Some(&f.0), vec![], &[]).unwrap_err(),
        ConfigError::Parse { .. }
    ));
    let nofile = load(Some(Path::new("/nonexistent/keeper.toml")), vec![], &[]).unwrap_err();
    assert!(
        nofile.to_string().contains("/nonexistent/keeper.toml"),
        "{nofile}"
    );

    // a bad environment value is blamed on the variable, not the file
    let f = TempFile::new(&format!("network = \"{NET}\"\n"));
    let env = vec![(
        "LIFELINE_PROBE_INTERVAL_MS".to_string(),
        "\"soon\"".to_string(),
    )];
    let e = load(Some(&f.0), env, &[]).unwrap_err().to_string();
    assert!(
        e.starts_with("LIFELINE_PROBE_INTERVAL_MS: `probe_interval_ms`"),
        "{e}"
    );
    let e = load(Some(&f.0), vec![], &[("jitter_ms", "x".into())])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("--jitter-ms: `jitter_ms`"), "{e}");

    let base = vec![("LIFELINE_NETWORK".to_string(), NET.to_string())];
    let cases: Vec<(&str, &str, &str)> = vec![
        ("network", "not-a-key", "network"),
        ("url", "ftp://x", "url"),
        ("ws_url", "http://x", "ws_url"),
        ("commitment", "max", "commitment"),
        ("probe_interval_ms", "10", "probe_interval_ms"),
        ("probe_timeout_ms", "0", "probe_timeout_ms"),
        ("probe_timeout_ms", "10001", "probe_timeout_ms"),
        ("window_probes", "0", "window_probes"),
        ("metrics_addr", "everywhere", "metrics_addr"),
        ("log_format", "xml", "log_format"),
        ("max_concurrency", "-1", "max_concurrency"),
    ];
    for (field, value, needle) in cases {
        let err = load(None, base.clone(), &[(field, value.to_string())])
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{field}={value}: {err}");
    }
}

#[test]
fn an_unknown_lifeline_variable_is_a_warning_naming_the_known_ones() {
    let env = vec![
        ("LIFELINE_NETWORK".to_string(), NET.to_string()),
        ("LIFELINE_PROBE_INTERVALL_MS".to_string(), "500".to_string()),
        ("PATH".to_string(), "/bin".to_string()),
    ];
    let (_, w) = load_with_warnings(None, env, &[]).unwrap();
    assert_eq!(w.0.len(), 1, "{w:?}");
    assert!(w.0[0].starts_with("LIFELINE_PROBE_INTERVALL_MS is not a keeper setting"));
    assert!(w.0[0].contains("LIFELINE_PROBE_INTERVAL_MS"));
}

#[test]
fn every_field_has_a_flag_a_variable_and_a_documented_line_in_the_example() {
    let example = include_str!("../keeper.example.toml");
    for f in FIELDS {
        assert!(!f.doc.is_empty());
        assert!(
            example.contains(&format!("\n{} =", f.name))
                || example.contains(&format!("\n# {} =", f.name)),
            "{} is not in keeper.example.toml",
            f.name
        );
    }
}

#[test]
fn ws_urls_follow_the_solana_cli_convention() {
    assert_eq!(
        derive_ws_url("http://127.0.0.1:8899"),
        "ws://127.0.0.1:8900"
    );
    assert_eq!(
        derive_ws_url("https://rpc.example.com/abc"),
        "wss://rpc.example.com/abc"
    );
    assert_eq!(
        derive_ws_url("https://rpc.example.com:443/x"),
        "wss://rpc.example.com:444/x"
    );
}
