//! Simulated endpoints of every kind: names, kinds, ports and URLs, the admin API over
//! all of them, and the RPC endpoints' `forked` fault.
mod common;

use std::time::Duration;

use common::*;
use lifeline_localnet::{EndpointKind, Fault, FaultError, Localnet, LocalnetConfig};
use serde_json::{json, Value};

async fn rpc(url: &str, method: &str, params: Value) -> Value {
    reqwest::Client::new()
        .post(url)
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_is_listed_with_its_name_kind_and_url_and_starts_healthy() {
    let net = start_all(2, 2, 1, 1, 1).await;
    let listed: Vec<(String, EndpointKind)> = net
        .simulated()
        .into_iter()
        .map(|e| (e.name, e.kind))
        .collect();
    let expected = [
        ("ep0", EndpointKind::Rpc),
        ("ep1", EndpointKind::Rpc),
        ("ws0", EndpointKind::WebSocket),
        ("ws1", EndpointKind::WebSocket),
        ("or0", EndpointKind::Oracle),
        ("gw0", EndpointKind::Gateway),
        ("gr0", EndpointKind::Grpc),
    ];
    assert_eq!(listed, expected.map(|(n, k)| (n.to_string(), k)).to_vec());
    // endpoint_urls stays the RPC endpoints only
    let rpc_urls: Vec<String> = net.simulated()[..2].iter().map(|e| e.url.clone()).collect();
    assert_eq!(net.endpoint_urls(), rpc_urls);

    let admin = net.admin_url.clone().unwrap();
    let list: Vec<Value> = reqwest::get(format!("{admin}/endpoints"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.len(), 7);
    for (entry, sim) in list.iter().zip(net.simulated()) {
        assert_eq!(entry["name"], sim.name.as_str());
        assert_eq!(entry["url"], sim.url.as_str());
        assert_eq!(entry["fault"], json!({ "mode": "healthy" }), "{entry}");
    }
    let kinds: Vec<&str> = list.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "rpc",
            "rpc",
            "websocket",
            "websocket",
            "oracle",
            "gateway",
            "grpc"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ports_follow_the_base_port_rpc_first_then_websocket_oracle_gateway_grpc() {
    // A base whose 5 following ports are free; retried if another process takes one.
    for _ in 0..10 {
        let base = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if base > 65_000 {
            continue;
        }
        let started = Localnet::start(LocalnetConfig {
            endpoints: 1,
            websocket_endpoints: 1,
            oracle_endpoints: 1,
            gateway_endpoints: 1,
            grpc_endpoints: 1,
            endpoint_base_port: base,
            slot_duration: SLOT,
            ..LocalnetConfig::ephemeral()
        })
        .await;
        let Ok(net) = started else { continue };
        let urls: Vec<String> = net.simulated().into_iter().map(|e| e.url).collect();
        assert_eq!(
            urls,
            [
                format!("http://127.0.0.1:{base}"),
                format!("ws://127.0.0.1:{}", base + 1),
                format!("http://127.0.0.1:{}/price#/price/publish_time", base + 2),
                format!("http://127.0.0.1:{}/health", base + 3),
                format!("http://127.0.0.1:{}", base + 4),
            ]
        );
        return;
    }
    panic!("no free block of ports");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_sets_faults_on_every_kind_and_says_why_it_refuses() {
    let net = start_all(1, 1, 1, 1, 1).await;
    let http = reqwest::Client::new();
    let admin = net.admin_url.clone().unwrap();
    for (name, body, fault) in [
        ("ep0", "forked", Fault::Forked),
        ("ws0", "lagging 3", Fault::Lagging { slots: 3 }),
        ("or0", r#"{"mode":"frozen"}"#, Fault::Frozen),
        ("gw0", "errors 10", Fault::Errors { percent: 10 }),
        ("gr0", r#"{"mode":"slow","ms":20}"#, Fault::Slow { ms: 20 }),
    ] {
        let r = http
            .post(format!("{admin}/endpoints/{name}/fault"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name} {body}");
        assert_eq!(net.faults.get(name).unwrap().fault(), fault);
    }
    let list: Value = http
        .get(format!("{admin}/endpoints"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["fault"], json!({ "mode": "forked" }));
    assert_eq!(list[1]["fault"], json!({ "mode": "lagging", "slots": 3 }));
    assert_eq!(list[4]["kind"], "grpc");
    assert_eq!(list[4]["fault"], json!({ "mode": "slow", "ms": 20 }));
    // from Rust, the same typed errors the admin API maps to 404 and 400
    assert_eq!(
        net.faults.set("zz9", Fault::Down),
        Err(FaultError::UnknownEndpoint("zz9".into()))
    );
    assert!(matches!(
        net.faults.set("gw0", Fault::Errors { percent: 101 }),
        Err(FaultError::BadFault(_))
    ));
    for (name, body, status) in [("zz9", "down", 404), ("ws0", "sideways", 400)] {
        let r = http
            .post(format!("{admin}/endpoints/{name}/fault"))
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status, "{name} {body}");
        let v: Value = r.json().await.unwrap();
        assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()), "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_endpoint_reports_another_blockhash_for_the_same_slot() {
    // Slots long enough for two probes to land in the same one.
    let net = Localnet::start(LocalnetConfig {
        endpoints: 2,
        slot_duration: Duration::from_millis(400),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    net.faults.set("ep1", Fault::Forked).unwrap();
    let urls = net.endpoint_urls();
    let probe = |url: String| async move {
        let v = rpc(&url, "getLatestBlockhash", json!([])).await;
        let r = &v["result"];
        (
            r["context"]["slot"].as_u64().unwrap(),
            r["value"]["blockhash"].as_str().unwrap().to_string(),
        )
    };
    let (healthy, forked, control) =
        eventually("two probes in one slot", Duration::from_secs(20), || {
            let (a, b) = (urls[0].clone(), urls[1].clone());
            async move {
                let healthy = probe(a.clone()).await;
                let forked = probe(b).await;
                let control = probe(a).await;
                (healthy.0 == forked.0 && forked.0 == control.0)
                    .then_some((healthy, forked, control))
            }
        })
        .await;
    assert_eq!(healthy, control, "a healthy node agrees with itself");
    assert_ne!(
        healthy.1, forked.1,
        "the forked node's blockhash differs at slot {}",
        healthy.0
    );
    // the cluster does not know the forked hash; it knows its own
    let valid = |hash: String| {
        let url = urls[0].clone();
        async move { rpc(&url, "isBlockhashValid", json!([hash])).await["result"]["value"].clone() }
    };
    assert_eq!(valid(healthy.1.clone()).await, true);
    assert_eq!(valid(forked.1.clone()).await, false);
    // otherwise it answers like a healthy node
    let health = rpc(&urls[1], "getHealth", json!([])).await;
    assert_eq!(health["result"], "ok");
    let slot = rpc(&urls[1], "getSlot", json!([])).await["result"]
        .as_u64()
        .unwrap();
    assert!(slot + 2 >= net.cluster.root_bank().slot());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_back_endpoint_serves_the_blockhash_of_the_slot_it_reports() {
    let net = Localnet::start(LocalnetConfig {
        endpoints: 2,
        slot_duration: Duration::from_millis(50),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let urls = net.endpoint_urls();
    net.faults.set("ep0", Fault::Lagging { slots: 5 }).unwrap();
    net.faults.set("ep1", Fault::Frozen).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    for url in &urls {
        let v = rpc(
            url,
            "getLatestBlockhash",
            json!([{ "commitment": "confirmed" }]),
        )
        .await;
        let slot = v["result"]["context"]["slot"].as_u64().unwrap();
        let hash = v["result"]["value"]["blockhash"].as_str().unwrap();
        assert!(slot < net.cluster.root_bank().slot(), "{url} is held back");
        assert_eq!(
            Some(hash.to_string()),
            net.cluster.frozen_hash(slot).map(|h| h.to_string()),
            "{url} serves slot {slot}'s own hash, as a healthy node did at that slot"
        );
    }
}
