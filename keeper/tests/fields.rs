//! Every keeper setting changes what the keeper does: one test per field here (or the
//! test named for it in `COVERED`), and a check that no field is left without one.
//!
//! (Over 400 lines: one test per configuration field, and the recording proxy some need.)
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use lifeline::state::Verdict;
use lifeline_keeper::config::FIELDS;
use lifeline_keeper::KeeperStats;
use lifeline_localnet::Fault;
use lifeline_sandbox::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

/// Where each field's behaviour is shown: (field, test file, test function).
const COVERED: &[(&str, &str, &str)] = &[
    (
        "network",
        "cli.rs",
        "check_config_online_checks_the_network_and_the_keeper_set",
    ),
    (
        "keypair",
        "cli.rs",
        "check_config_online_checks_the_network_and_the_keeper_set",
    ),
    ("url", "cli.rs", "an_unreachable_rpc_is_a_clear_error"),
    (
        "rpc_urls",
        "fields.rs",
        "rpc_urls_are_failed_over_to_when_url_is_dead",
    ),
    (
        "ws_url",
        "fields.rs",
        "the_reference_follows_ws_url_and_reference_rpc_urls",
    ),
    (
        "commitment",
        "fields.rs",
        "commitment_is_what_the_keeper_reads_the_chain_at",
    ),
    (
        "probe_interval_ms",
        "fields.rs",
        "probe_interval_ms_sets_the_probe_rate",
    ),
    (
        "probe_timeout_ms",
        "fields.rs",
        "a_probe_timeout_below_latency_down_makes_slowness_an_error",
    ),
    (
        "window_probes",
        "fields.rs",
        "window_probes_is_how_long_an_error_is_remembered",
    ),
    (
        "reference_rpc_urls",
        "fields.rs",
        "the_reference_follows_ws_url_and_reference_rpc_urls",
    ),
    (
        "max_concurrency",
        "fields.rs",
        "max_concurrency_bounds_probes_in_flight",
    ),
    (
        "priority_fee_cap_microlamports",
        "fields.rs",
        "the_priority_fee_follows_the_market_up_to_the_cap",
    ),
    (
        "max_attestations_per_hour",
        "fields.rs",
        "max_attestations_per_hour_caps_what_a_flapping_endpoint_costs",
    ),
    (
        "jitter_ms",
        "../src/migrator.rs",
        "jitter_ms_spaces_the_keepers_turns_and_zero_sends_all_at_once",
    ),
    (
        "metrics_addr",
        "cli.rs",
        "run_serves_metrics_and_stops_cleanly_on_sigterm",
    ),
    (
        "log_format",
        "cli.rs",
        "run_serves_metrics_and_stops_cleanly_on_sigterm",
    ),
];

#[test]
fn every_field_has_a_test_that_shows_it_changes_behaviour() {
    let sources: BTreeMap<&str, &str> = BTreeMap::from([
        ("cli.rs", include_str!("cli.rs")),
        ("fields.rs", include_str!("fields.rs")),
        ("../src/migrator.rs", include_str!("../src/migrator.rs")),
    ]);
    for f in FIELDS {
        let (_, file, test) = COVERED
            .iter()
            .find(|(name, _, _)| *name == f.name)
            .unwrap_or_else(|| panic!("no test shows what `{}` changes", f.name));
        assert!(
            sources[file].contains(&format!("fn {test}(")),
            "`{}`: {file} has no test {test}",
            f.name
        );
    }
    assert_eq!(
        COVERED.len(),
        FIELDS.len(),
        "a test listed for a field that is gone"
    );
}

/// A sandbox whose keepers the test starts itself.
async fn sandbox(config: SandboxConfig) -> Sandbox {
    Sandbox::start(SandboxConfig {
        daemons: 0,
        ..config
    })
    .await
    .expect("sandbox")
}

async fn keeper(sb: &mut Sandbox, k: usize, extra: &[(&str, String)]) -> Arc<KeeperStats> {
    sb.start_keeper_with(k, extra).await.expect("keeper starts");
    sb.stats(k).expect("stats")
}

fn verdict_of(stats: &KeeperStats, endpoint_id: u32) -> Option<Verdict> {
    stats
        .endpoints
        .lock()
        .unwrap()
        .get(&endpoint_id)
        .map(|g| Verdict::from_u8(g.verdict))
}

/// Waits until `done` holds, for at most `limit`.
async fn until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    done()
}

fn dead_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An RPC in front of the localnet's that records every request and can make the fee
/// market look busy (every recent slot's prioritization fee = `busy_fee`).
struct Recorder {
    url: String,
    requests: Arc<Mutex<Vec<Value>>>,
}

async fn recorder(upstream: &str, busy_fee: u64) -> Recorder {
    #[derive(Clone)]
    struct S {
        upstream: String,
        http: reqwest::Client,
        requests: Arc<Mutex<Vec<Value>>>,
        busy_fee: u64,
    }
    async fn forward(State(s): State<S>, Json(body): Json<Value>) -> Json<Value> {
        s.requests.lock().unwrap().push(body.clone());
        let mut answer: Value = s
            .http
            .post(&s.upstream)
            .json(&body)
            .send()
            .await
            .expect("upstream")
            .json()
            .await
            .expect("json");
        if body["method"] == "getRecentPrioritizationFees" {
            for fee in answer["result"].as_array_mut().into_iter().flatten() {
                fee["prioritizationFee"] = json!(s.busy_fee);
            }
        }
        Json(answer)
    }
    let requests = Arc::new(Mutex::new(Vec::new()));
    let state = S {
        upstream: upstream.to_string(),
        http: reqwest::Client::new(),
        requests: requests.clone(),
        busy_fee,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new().route("/", post(forward)).with_state(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Recorder { url, requests }
}

impl Recorder {
    fn calls(&self, method: &str) -> Vec<Value> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r["method"] == method)
            .cloned()
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_urls_are_failed_over_to_when_url_is_dead() {
    let mut sb = sandbox(SandboxConfig::default()).await;
    let dead = format!("http://127.0.0.1:{}", dead_port());
    let alone = sb.keeper_config(&[("url", dead.clone())]).unwrap();
    let err = lifeline_keeper::Keeper::new(alone, sb.keepers[0].insecure_clone())
        .await
        .err()
        .expect("nothing to read the chain from");
    assert!(err.to_string().contains("RPC"), "{err}");
    let rpc = sb.net.rpc_url.clone();
    let stats = keeper(
        &mut sb,
        0,
        &[("url", dead), ("rpc_urls", format!("[\"{rpc}\"]"))],
    )
    .await;
    assert!(
        until(Duration::from_secs(20), || KeeperStats::get(
            &stats.attestations_sent
        ) > 0)
        .await,
        "attests through rpc_urls"
    );
}

/// Three keepers whose own RPC (`url`) is a node 20 slots behind: the one with nothing
/// else measures lag from 20 slots back; `ws_url` (a live PubSub) or `reference_rpc_urls`
/// (a live RPC) bring the reference up to the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_follows_ws_url_and_reference_rpc_urls() {
    let mut sb = sandbox(SandboxConfig {
        endpoints: 3,
        groups: vec![vec![0, 1]],
        ..SandboxConfig::default()
    })
    .await;
    assert!(sb.wait_for(Duration::from_secs(10), |s| s.slot > 40).await);
    sb.fault("ep2", Fault::Lagging { slots: 20 });
    let lagging = sb.endpoint_url(2);
    let no_ws = format!("ws://127.0.0.1:{}", dead_port());
    let (ws, rpc) = (sb.net.ws_url.clone(), sb.net.rpc_url.clone());
    let alone = keeper(
        &mut sb,
        0,
        &[("url", lagging.clone()), ("ws_url", no_ws.clone())],
    )
    .await;
    let with_ws = keeper(&mut sb, 1, &[("url", lagging.clone()), ("ws_url", ws)]).await;
    let with_rpc = keeper(
        &mut sb,
        2,
        &[
            ("url", lagging),
            ("ws_url", no_ws),
            ("reference_rpc_urls", format!("[\"{rpc}\"]")),
        ],
    )
    .await;
    let reference = |s: &KeeperStats| KeeperStats::get(&s.reference_slot);
    assert!(
        until(Duration::from_secs(10), || [&alone, &with_ws, &with_rpc]
            .iter()
            .all(|s| reference(s) > 0))
        .await
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let slot = sb.state().slot;
    let behind = |s: &KeeperStats| slot.saturating_sub(reference(s));
    assert!(
        behind(&alone) >= 15,
        "only the lagging RPC: {} behind",
        behind(&alone)
    );
    assert!(behind(&with_ws) <= 5, "ws_url: {} behind", behind(&with_ws));
    assert!(
        behind(&with_rpc) <= 5,
        "reference_rpc_urls: {} behind",
        behind(&with_rpc)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitment_is_what_the_keeper_reads_the_chain_at() {
    let mut sb = sandbox(SandboxConfig::default()).await;
    for (k, commitment) in [(0, "processed"), (1, "finalized")] {
        let rec = recorder(&sb.net.rpc_url.clone(), 0).await;
        keeper(
            &mut sb,
            k,
            &[("url", rec.url.clone()), ("commitment", commitment.into())],
        )
        .await;
        assert!(
            until(Duration::from_secs(10), || rec
                .calls("getMultipleAccounts")
                .len()
                >= 2)
            .await
        );
        for call in rec.calls("getMultipleAccounts") {
            assert_eq!(call["params"][1]["commitment"], commitment, "{call}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probe_interval_ms_sets_the_probe_rate() {
    let mut sb = sandbox(SandboxConfig::default()).await;
    let fast = keeper(&mut sb, 0, &[("probe_interval_ms", "150".into())]).await;
    let slow = keeper(&mut sb, 1, &[("probe_interval_ms", "1500".into())]).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (f, s) = (
        KeeperStats::get(&fast.probes),
        KeeperStats::get(&slow.probes),
    );
    assert!(f > 3 * s, "150 ms: {f} probes, 1500 ms: {s} probes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_timeout_below_latency_down_makes_slowness_an_error() {
    let mut sb = sandbox(SandboxConfig::default()).await;
    let policy = sb.network_state().policy;
    // slower than the short timeout, faster than the policy's degraded threshold
    let slow_ms = (policy.latency_degraded_ms / 2) as u64;
    sb.fault("ep1", Fault::Slow { ms: slow_ms });
    let id = sb.endpoint_id(1);
    let default = keeper(&mut sb, 0, &[]).await;
    let short = keeper(
        &mut sb,
        1,
        &[("probe_timeout_ms", (slow_ms / 4).to_string())],
    )
    .await;
    assert!(
        until(Duration::from_secs(15), || {
            verdict_of(&default, id) == Some(Verdict::Healthy)
                && verdict_of(&short, id) == Some(Verdict::Down)
        })
        .await,
        "default timeout: {:?}, short: {:?}",
        verdict_of(&default, id),
        verdict_of(&short, id)
    );
}

/// ep1 is down for a while, then answers again. With a window of one probe the next good
/// probe clears it; with fifty, the failures are remembered (degraded or worse) until
/// enough good probes have pushed them out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_probes_is_how_long_an_error_is_remembered() {
    let mut sb = sandbox(SandboxConfig::default()).await;
    let id = sb.endpoint_id(1);
    let short = keeper(&mut sb, 0, &[("window_probes", "1".into())]).await;
    let long = keeper(&mut sb, 1, &[("window_probes", "50".into())]).await;
    assert!(
        until(Duration::from_secs(10), || verdict_of(&long, id)
            == Some(Verdict::Healthy))
        .await
    );
    sb.fault("ep1", Fault::Down);
    assert!(
        until(Duration::from_secs(10), || {
            verdict_of(&short, id) == Some(Verdict::Down)
                && verdict_of(&long, id) == Some(Verdict::Down)
        })
        .await
    );
    // a suspect endpoint is probed every confirm interval: a couple of dozen failures
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    sb.fault("ep1", Fault::Healthy);
    assert!(
        until(Duration::from_secs(10), || verdict_of(&short, id)
            == Some(Verdict::Healthy))
        .await,
        "a window of one forgets at the next good probe"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_ne!(
        verdict_of(&long, id),
        Some(Verdict::Healthy),
        "a window of fifty still holds the failures"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_concurrency_bounds_probes_in_flight() {
    let mut sb = sandbox(SandboxConfig {
        endpoints: 6,
        ..SandboxConfig::default()
    })
    .await;
    for i in 0..6 {
        sb.fault(&format!("ep{i}"), Fault::Slow { ms: 300 });
    }
    let one = keeper(&mut sb, 0, &[("max_concurrency", "1".into())]).await;
    let many = keeper(&mut sb, 1, &[]).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (o, m) = (
        KeeperStats::get(&one.probes),
        KeeperStats::get(&many.probes),
    );
    assert!(m > 3 * o, "one at a time: {o} probes, 32: {m} probes");
}

/// The compute unit price of each transaction `rec` forwarded (None: no price instruction).
fn prices(rec: &Recorder) -> Vec<Option<u64>> {
    let budget = solana_compute_budget_interface::id();
    rec.calls("sendTransaction")
        .iter()
        .map(|call| {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(call["params"][0].as_str().expect("base64 transaction"))
                .expect("base64");
            let tx: solana_transaction::versioned::VersionedTransaction =
                bincode::deserialize(&raw).expect("a transaction");
            let keys = tx.message.static_account_keys();
            tx.message.instructions().iter().find_map(|ix| {
                let is_price =
                    keys[ix.program_id_index as usize] == budget && ix.data.first() == Some(&3);
                is_price.then(|| u64::from_le_bytes(ix.data[1..9].try_into().unwrap()))
            })
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_priority_fee_follows_the_market_up_to_the_cap() {
    let mut sb = sandbox(SandboxConfig::default()).await;
    for (k, cap, expected) in [
        (0, 100_000, Some(50_000)),
        (1, 1_000, Some(1_000)),
        (2, 0, None),
    ] {
        let rec = recorder(&sb.net.rpc_url.clone(), 50_000).await;
        keeper(
            &mut sb,
            k,
            &[
                ("url", rec.url.clone()),
                ("priority_fee_cap_microlamports", cap.to_string()),
            ],
        )
        .await;
        assert!(
            until(Duration::from_secs(15), || !rec
                .calls("sendTransaction")
                .is_empty())
            .await
        );
        assert!(
            prices(&rec).iter().all(|p| *p == expected),
            "cap {cap}: {:?}",
            prices(&rec)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_attestations_per_hour_caps_what_a_flapping_endpoint_costs() {
    // One endpoint refusing connections half the time, in 600 ms phases: the primary's
    // down vote comes and goes, and each change is one a failover waits on. Two keepers
    // watch it (no quorum: nothing migrates), one capped at 1 an hour, one not.
    let mut sb = sandbox(SandboxConfig {
        endpoints: 1,
        daemons: 0,
        ..SandboxConfig::default()
    })
    .await;
    let capped = keeper(&mut sb, 0, &[("max_attestations_per_hour", "1".into())]).await;
    let free = keeper(
        &mut sb,
        1,
        &[("max_attestations_per_hour", "100000".into())],
    )
    .await;
    sb.fault("ep0", Fault::Flapping { period_ms: 600 });
    tokio::time::sleep(Duration::from_secs(15)).await;
    let (c, f) = (
        KeeperStats::get(&capped.attestations_sent),
        KeeperStats::get(&free.attestations_sent),
    );
    assert!(
        c <= lifeline_keeper::cap::BURST as u64 + 1,
        "capped at 1 an hour: {c} attestations (the burst is {})",
        lifeline_keeper::cap::BURST
    );
    assert!(KeeperStats::get(&capped.attestations_capped) > 0);
    assert!(f > c, "uncapped: {f}, capped: {c}");
    assert_eq!(KeeperStats::get(&free.attestations_capped), 0);
}
