//! Each fault mode observably does what it says, over real sockets.
use std::time::{Duration, Instant};

use lifeline_localnet::{Fault, Localnet, LocalnetConfig};
use serde_json::{json, Value};

async fn start(endpoints: usize) -> Localnet {
    Localnet::start(LocalnetConfig {
        endpoints,
        slot_duration: Duration::from_millis(50),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .expect("localnet starts")
}

/// One JSON-RPC call; Err(description) on transport or HTTP failure.
async fn call(
    http: &reqwest::Client,
    url: &str,
    method: &str,
    params: Value,
) -> Result<Value, String> {
    let resp = http
        .post(url)
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| {
            if e.is_connect() {
                "refused".to_string()
            } else {
                e.to_string()
            }
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(format!("http {}", status.as_u16()));
    }
    resp.json().await.map_err(|e| e.to_string())
}

async fn slot(http: &reqwest::Client, url: &str) -> u64 {
    call(http, url, "getSlot", json!([])).await.unwrap()["result"]
        .as_u64()
        .unwrap()
}

async fn wait_slots(http: &reqwest::Client, url: &str, n: u64) {
    let target = slot(http, url).await + n;
    let deadline = Instant::now() + Duration::from_secs(10);
    while slot(http, url).await < target {
        assert!(Instant::now() < deadline, "cluster stopped advancing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_endpoint_answers_ok_but_its_slot_stops() {
    let net = start(1).await;
    let http = reqwest::Client::new();
    let ep = &net.endpoint_urls()[0];
    net.faults.set("ep0", Fault::Frozen).unwrap();
    let frozen = slot(&http, ep).await;
    wait_slots(&http, &net.rpc_url, 10).await;
    assert_eq!(
        slot(&http, ep).await,
        frozen,
        "the frozen endpoint's slot stays put"
    );
    assert!(slot(&http, &net.rpc_url).await >= frozen + 10);
    let health = call(&http, ep, "getHealth", json!([])).await.unwrap();
    assert_eq!(health["result"], "ok", "and it still claims to be healthy");
    let info = call(&http, ep, "getLatestBlockhash", json!([]))
        .await
        .unwrap();
    assert_eq!(info["result"]["context"]["slot"].as_u64().unwrap(), frozen);
    // back to healthy: it catches up
    net.faults.set("ep0", Fault::Healthy).unwrap();
    assert!(slot(&http, ep).await >= frozen + 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_endpoint_drops_transactions() {
    use solana_signer::Signer;
    let net = start(1).await;
    let http = reqwest::Client::new();
    let payer = net
        .funded_keypairs(1, 1_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    net.faults.set("ep0", Fault::Frozen).unwrap();
    let blockhash = net.cluster.working_bank().last_blockhash();
    let to = solana_pubkey::Pubkey::new_unique();
    let tx = solana_system_transaction::transfer(&payer, &to, 5, blockhash);
    let wire = base64::Engine::encode(
        &base64::prelude::BASE64_STANDARD,
        bincode::serialize(&tx).unwrap(),
    );
    let ack = call(
        &http,
        &net.endpoint_urls()[0],
        "sendTransaction",
        json!([wire, { "encoding": "base64" }]),
    )
    .await
    .unwrap();
    assert_eq!(ack["result"], tx.signatures[0].to_string(), "acknowledged");
    wait_slots(&http, &net.rpc_url, 3).await;
    assert_eq!(
        net.cluster.working_bank().get_balance(&to),
        0,
        "but never landed"
    );
    assert!(net.cluster.transaction(&tx.signatures[0]).is_none());
    let _ = payer.pubkey();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_endpoint_trails_by_k_slots() {
    let net = start(1).await;
    let http = reqwest::Client::new();
    wait_slots(&http, &net.rpc_url, 30).await;
    net.faults.set("ep0", Fault::Lagging { slots: 20 }).unwrap();
    // getSlot answers the rooted slot (working − 1); a node 20 behind answers working − 20.
    // Bracketing the endpoint's answer between two cluster reads makes this exact,
    // however slowly the machine runs.
    let before = slot(&http, &net.rpc_url).await;
    let lagging = slot(&http, &net.endpoint_urls()[0]).await;
    let after = slot(&http, &net.rpc_url).await;
    assert!(
        before <= lagging + 19 && lagging + 19 <= after,
        "cluster {before}..={after}, endpoint {lagging}"
    );
    let acc = call(
        &http,
        &net.endpoint_urls()[0],
        "getBalance",
        json!([lifeline::ID.to_string()]),
    )
    .await
    .unwrap();
    assert!(acc["result"]["context"]["slot"].as_u64().unwrap() <= lagging + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_endpoint_adds_latency() {
    let net = start(2).await;
    let http = reqwest::Client::new();
    net.faults.set("ep1", Fault::Slow { ms: 300 }).unwrap();
    let t = Instant::now();
    call(&http, &net.endpoint_urls()[1], "getSlot", json!([]))
        .await
        .unwrap();
    // a lower bound only: the sleep guarantees it, whatever the machine load
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_endpoint_fails_the_given_share_of_requests() {
    let net = start(1).await;
    let http = reqwest::Client::new();
    net.faults
        .set("ep0", Fault::Errors { percent: 50 })
        .unwrap();
    let mut http_500 = 0;
    let mut http_429 = 0;
    let mut rpc_errors = 0;
    let mut ok = 0;
    for _ in 0..30 {
        match call(&http, &net.endpoint_urls()[0], "getSlot", json!([])).await {
            Err(e) if e == "http 500" => http_500 += 1,
            Err(e) if e == "http 429" => http_429 += 1,
            Err(e) => panic!("unexpected {e}"),
            Ok(v) if v.get("error").is_some() => rpc_errors += 1,
            Ok(_) => ok += 1,
        }
    }
    assert_eq!(ok, 15, "exactly half fail");
    assert_eq!(
        (http_500, http_429, rpc_errors),
        (5, 5, 5),
        "every failure kind appears"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_endpoint_refuses_connections_and_comes_back() {
    let net = start(1).await;
    let http = reqwest::Client::new();
    let ep = net.endpoint_urls()[0].clone();
    call(&http, &ep, "getSlot", json!([]))
        .await
        .expect("serving");
    net.faults.set("ep0", Fault::Down).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // a fresh client per attempt: no pooled connection may survive the fault
        match call(&reqwest::Client::new(), &ep, "getSlot", json!([])).await {
            Err(e) if e == "refused" => break,
            other => assert!(Instant::now() < deadline, "still answering: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    net.faults.set("ep0", Fault::Healthy).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while call(&reqwest::Client::new(), &ep, "getSlot", json!([]))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "never came back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flapping_endpoint_alternates() {
    let net = start(1).await;
    let ep = net.endpoint_urls()[0].clone();
    net.faults
        .set("ep0", Fault::Flapping { period_ms: 200 })
        .unwrap();
    let (mut served, mut refused) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(6);
    while (served < 2 || refused < 2) && Instant::now() < deadline {
        match call(&reqwest::Client::new(), &ep, "getSlot", json!([])).await {
            Ok(_) => served += 1,
            Err(e) if e == "refused" => refused += 1,
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(
        served >= 2 && refused >= 2,
        "served {served}, refused {refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_sets_and_lists_faults() {
    let net = start(2).await;
    let http = reqwest::Client::new();
    let admin = net.admin_url.clone().unwrap();
    let r = http
        .post(format!("{admin}/endpoints/ep1/fault"))
        .body("lagging 7")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .post(format!("{admin}/endpoints/ep0/fault"))
        .body(r#"{"mode":"slow","ms":5}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list: Value = http
        .get(format!("{admin}/endpoints"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["fault"], json!({ "mode": "slow", "ms": 5 }));
    assert_eq!(list[1]["fault"], json!({ "mode": "lagging", "slots": 7 }));
    assert_eq!(
        net.faults.get("ep1").unwrap().fault(),
        Fault::Lagging { slots: 7 }
    );
    for (path, body, status) in [
        ("ep9", "down", 404),
        ("ep0", "sideways", 400),
        ("ep0", "errors 101", 400),
        ("ep0", "lagging", 400),
        ("ep0", "lagging x", 400),
        ("ep0", "flapping 0", 400),
        ("ep0", r#"{"mode":"errors","percent":300}"#, 400),
        ("ep0", "down now", 400),
    ] {
        let r = http
            .post(format!("{admin}/endpoints/{path}/fault"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{path} {body}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
}
