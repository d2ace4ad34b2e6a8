//! Malformed requests get the right JSON-RPC error, never a panic or a dropped connection.
use std::time::Duration;

use lifeline_localnet::{Localnet, LocalnetConfig};
use serde_json::{json, Value};

async fn post(http: &reqwest::Client, url: &str, body: String) -> (u16, Value) {
    let r = http
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("answered");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn req(method: &str, params: Value) -> String {
    json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_the_right_error_codes() {
    let net = Localnet::start(LocalnetConfig {
        slot_duration: Duration::from_millis(100),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let key = lifeline::ID.to_string();
    let oversized_tx = base64::Engine::encode(&base64::prelude::BASE64_STANDARD, vec![1u8; 2_000]);
    let cases: Vec<(&str, String, i64)> = vec![
        ("not JSON", "{oops".into(), -32700),
        ("not an object", "42".into(), -32600),
        ("empty batch", "[]".into(), -32600),
        (
            "batch too large",
            serde_json::to_string(&vec![
                json!({"jsonrpc":"2.0","id":1,"method":"getSlot"});
                101
            ])
            .unwrap(),
            -32600,
        ),
        (
            "wrong jsonrpc version",
            json!({"jsonrpc":"1.0","id":1,"method":"getSlot"}).to_string(),
            -32600,
        ),
        (
            "missing method",
            json!({"jsonrpc":"2.0","id":1}).to_string(),
            -32600,
        ),
        (
            "method not a string",
            json!({"jsonrpc":"2.0","id":1,"method":5}).to_string(),
            -32600,
        ),
        (
            "bad id type",
            json!({"jsonrpc":"2.0","id":[1],"method":"getSlot"}).to_string(),
            -32600,
        ),
        (
            "params not a list",
            json!({"jsonrpc":"2.0","id":1,"method":"getSlot","params":5}).to_string(),
            -32602,
        ),
        ("unknown method", req("getEverything", json!([])), -32601),
        (
            "invalid pubkey",
            req("getAccountInfo", json!(["nope"])),
            -32602,
        ),
        ("missing pubkey", req("getBalance", json!([])), -32602),
        (
            "pubkey of wrong type",
            req("getBalance", json!([12])),
            -32602,
        ),
        (
            "bad config type",
            req("getAccountInfo", json!([key, {"encoding": "rot13"}])),
            -32602,
        ),
        (
            "too many accounts",
            req("getMultipleAccounts", json!([vec![key.clone(); 101]])),
            -32602,
        ),
        (
            "bad filter",
            req(
                "getProgramAccounts",
                json!([key, {"filters": [{"memcmp": {"offset": 0, "bytes": "!!!"}}]}]),
            ),
            -32602,
        ),
        (
            "garbage transaction",
            req("sendTransaction", json!(["$$$", {"encoding": "base64"}])),
            -32602,
        ),
        (
            "undecodable transaction",
            req("sendTransaction", json!(["AQID", {"encoding": "base64"}])),
            -32602,
        ),
        (
            "oversized transaction",
            req(
                "sendTransaction",
                json!([oversized_tx, {"encoding": "base64"}]),
            ),
            -32602,
        ),
        (
            "bad signature",
            req("getSignatureStatuses", json!([["xyz"]])),
            -32602,
        ),
        (
            "zero airdrop",
            req("requestAirdrop", json!([key, 0])),
            -32602,
        ),
        (
            "negative airdrop",
            req("requestAirdrop", json!([key, -5])),
            -32602,
        ),
        (
            "unreachable minContextSlot",
            req("getSlot", json!([{"minContextSlot": u64::MAX}])),
            -32016,
        ),
        (
            "bad blockhash",
            req("isBlockhashValid", json!(["zzz"])),
            -32602,
        ),
        (
            "base58 for large account",
            req(
                "getAccountInfo",
                json!([solana_sdk_ids_sysvar_clock(), {"encoding": "base58"}]),
            ),
            0,
        ),
    ];
    for (what, body, code) in cases {
        let (status, v) = post(&http, &net.rpc_url, body).await;
        if code == 0 {
            assert_eq!(status, 200, "{what}");
            continue;
        }
        assert_eq!(v["error"]["code"].as_i64(), Some(code), "{what}: {v}");
        assert!(
            v["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{what}"
        );
        assert_eq!(v["jsonrpc"], "2.0", "{what}");
    }
    // an oversized body is refused before parsing
    let (status, v) = post(&http, &net.rpc_url, format!("[{}]", " ".repeat(60 * 1024))).await;
    assert_eq!((status, v["error"]["code"].as_i64()), (413, Some(-32600)));
    // a batch mixes successes and failures, in order, with their ids
    let batch = json!([
        {"jsonrpc":"2.0","id":"a","method":"getHealth"},
        {"jsonrpc":"2.0","id":"b","method":"nope"},
        {"jsonrpc":"2.0","method":"getHealth"},
    ]);
    let (_, v) = post(&http, &net.rpc_url, batch.to_string()).await;
    assert_eq!(
        v.as_array().map(Vec::len),
        Some(2),
        "notifications get no answer"
    );
    assert_eq!(
        (v[0]["id"].clone(), v[0]["result"].clone()),
        (json!("a"), json!("ok"))
    );
    assert_eq!(
        (v[1]["id"].clone(), v[1]["error"]["code"].clone()),
        (json!("b"), json!(-32601))
    );
    // CORS preflight for browsers
    let r = http
        .request(reqwest::Method::OPTIONS, &net.rpc_url)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    // and the server is still healthy after all of that
    let (_, v) = post(&http, &net.rpc_url, req("getHealth", json!([]))).await;
    assert_eq!(v["result"], "ok");
}

fn solana_sdk_ids_sysvar_clock() -> String {
    "SysvarC1ock11111111111111111111111111111111".into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signature_failure_and_a_preflight_failure_have_their_codes() {
    use solana_signer::Signer;
    let net = Localnet::start(LocalnetConfig {
        slot_duration: Duration::from_millis(100),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let payer = net
        .funded_keypairs(1, 1_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let blockhash = net.cluster.working_bank().last_blockhash();
    let mut tx = solana_system_transaction::transfer(
        &payer,
        &solana_pubkey::Pubkey::new_unique(),
        5,
        blockhash,
    );
    tx.signatures[0] = solana_signature::Signature::from([7u8; 64]);
    let wire = |tx: &solana_transaction::Transaction| {
        base64::Engine::encode(
            &base64::prelude::BASE64_STANDARD,
            bincode::serialize(tx).unwrap(),
        )
    };
    let (_, v) = post(
        &http,
        &net.rpc_url,
        req(
            "sendTransaction",
            json!([wire(&tx), {"encoding": "base64"}]),
        ),
    )
    .await;
    assert_eq!(v["error"]["code"], -32003, "{v}");
    let poor = solana_keypair::Keypair::new();
    let tx = solana_system_transaction::transfer(&poor, &payer.pubkey(), 5, blockhash);
    let (_, v) = post(
        &http,
        &net.rpc_url,
        req(
            "sendTransaction",
            json!([wire(&tx), {"encoding": "base64"}]),
        ),
    )
    .await;
    assert_eq!(v["error"]["code"], -32002, "{v}");
    assert!(
        v["error"]["data"]["err"].is_string() || v["error"]["data"]["err"].is_object(),
        "{v}"
    );
}
