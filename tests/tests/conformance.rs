//! The localnet against agave: one script of the JSON-RPC and PubSub calls Lifeline makes
//! (the keeper's probes and sends, the clients' reads and watchers, the dashboard's
//! subscriptions), run against `lifeline localnet` and against agave's own test validator
//! (`lifeline-validator`), answer by answer. Each answer is reduced to its shape (which
//! fields, of which types) plus what Lifeline relies on (error codes, "ok", subscription
//! ids). Every difference must be fixed in the localnet or listed in `KNOWN` with the
//! reason it does not matter (docs/architecture.md repeats the list); a listed difference
//! that disappears fails too, so the list stays true.
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use lifeline_localnet::{Localnet, LocalnetConfig};
use lifeline_tests::validator::{call, say_skipped, unavailable, RealValidator};
use serde_json::{json, Value};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio_tungstenite::tungstenite::Message;

/// Differences between the localnet's answers and agave's, each with why Lifeline does not
/// depend on it.
const KNOWN: &[(&str, &str)] = &[(
    "finalized trails confirmed",
    "agave roots a slot once 32 votes lock it (finalized ≈ 13 s behind); the localnet roots \
     each slot as the next one starts. Lifeline reads at confirmed (keepers, clients, \
     dashboard); nothing it does waits for finalized.",
)];

/// A JSON value's shape: the fields and their types, the first element of arrays.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(a) => match a.first() {
            Some(first) => json!([shape(first)]),
            None => json!([]),
        },
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
    }
}

/// A transfer of `lamports` from `from` to a fresh key, signed, base64.
fn transfer(from: &Keypair, lamports: u64, blockhash: &str) -> (String, String) {
    use base64::Engine;
    let to = Keypair::new().pubkey();
    let ix = solana_system_interface::instruction::transfer(&from.pubkey(), &to, lamports);
    let hash: solana_hash::Hash = blockhash.parse().expect("a blockhash");
    let tx = solana_transaction::Transaction::new_signed_with_payer(
        &[ix],
        Some(&from.pubkey()),
        &[from],
        hash,
    );
    let wire = bincode::serialize(&tx).expect("serialize");
    (
        base64::engine::general_purpose::STANDARD.encode(wire),
        tx.signatures[0].to_string(),
    )
}

/// The message of a transfer, base64 (getFeeForMessage).
fn message_of(from: &Keypair, blockhash: &str) -> String {
    use base64::Engine;
    let ix = solana_system_interface::instruction::transfer(&from.pubkey(), &from.pubkey(), 1);
    let hash: solana_hash::Hash = blockhash.parse().expect("a blockhash");
    let msg = solana_message::Message::new_with_blockhash(&[ix], Some(&from.pubkey()), &hash);
    base64::engine::general_purpose::STANDARD.encode(msg.serialize())
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn ws_call(ws: &mut Ws, id: u64, method: &str, params: Value) -> Value {
    let req = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    ws.send(Message::text(req.to_string())).await.expect("send");
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .unwrap_or_else(|_| panic!("no answer to {method}"));
        if let Some(Ok(Message::Text(t))) = m {
            let v: Value = serde_json::from_str(&t).expect("json");
            if v["id"] == json!(id) {
                return v;
            }
        }
    }
}

async fn notification(ws: &mut Ws, method: &str) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .unwrap_or_else(|_| panic!("no {method}"));
        if let Some(Ok(Message::Text(t))) = m {
            let v: Value = serde_json::from_str(&t).expect("json");
            if v["method"] == method {
                return v;
            }
        }
    }
}

/// The script: (step, what Lifeline sees of the answer).
async fn script(rpc: &str, ws_url: &str, payer: &Keypair) -> Vec<(&'static str, Value)> {
    let http = reqwest::Client::new();
    let c = |method: &'static str, params: Value| {
        let http = http.clone();
        let rpc = rpc.to_string();
        async move { call(&http, &rpc, method, params).await }
    };
    let mut out: Vec<(&'static str, Value)> = Vec::new();
    let program = lifeline::ID.to_string();
    let missing = Keypair::new().pubkey().to_string();
    let me = payer.pubkey().to_string();

    let health = c("getHealth", json!([])).await;
    out.push(("getHealth", json!({"result": health["result"]})));
    out.push(("getVersion", shape(&c("getVersion", json!([])).await)));
    for commitment in ["processed", "confirmed", "finalized"] {
        let v = c("getSlot", json!([{"commitment": commitment}])).await;
        out.push(("getSlot", shape(&v)));
    }
    out.push((
        "getBlockHeight",
        shape(&c("getBlockHeight", json!([{"commitment": "processed"}])).await),
    ));
    let latest = c("getLatestBlockhash", json!([{"commitment": "confirmed"}])).await;
    out.push(("getLatestBlockhash", shape(&latest)));
    let blockhash = latest["result"]["value"]["blockhash"]
        .as_str()
        .expect("a blockhash")
        .to_string();
    out.push((
        "getBalance",
        shape(&c("getBalance", json!([me, {"commitment": "confirmed"}])).await),
    ));
    out.push((
        "getMultipleAccounts",
        shape(
            &c(
                "getMultipleAccounts",
                json!([[program, missing], {"encoding": "base64", "commitment": "confirmed"}]),
            )
            .await,
        ),
    ));
    out.push((
        "getAccountInfo (missing)",
        shape(&c("getAccountInfo", json!([missing, {"encoding": "base64"}])).await),
    ));
    let unknown_sig = solana_signature::Signature::from([7u8; 64]).to_string();
    out.push((
        "getSignatureStatuses (unknown)",
        shape(&c("getSignatureStatuses", json!([[unknown_sig]])).await),
    ));
    out.push((
        "getRecentPrioritizationFees",
        shape(&c("getRecentPrioritizationFees", json!([[me]])).await),
    ));
    out.push((
        "getFeeForMessage",
        shape(
            &c(
                "getFeeForMessage",
                json!([message_of(payer, &blockhash), {"commitment": "processed"}]),
            )
            .await,
        ),
    ));

    // A PubSub connection before the send: slots, the payer's account, the signature.
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.expect("ws");
    let first = ws_call(&mut ws, 1, "slotSubscribe", json!([])).await;
    let again = ws_call(&mut ws, 2, "slotSubscribe", json!([])).await;
    out.push((
        "slotSubscribe twice: the same id",
        json!(first["result"].is_u64() && first["result"] == again["result"]),
    ));
    let slot_note = notification(&mut ws, "slotNotification").await;
    out.push(("slotNotification", shape(&slot_note)));
    let off = ws_call(&mut ws, 3, "slotUnsubscribe", json!([first["result"]])).await;
    out.push(("slotUnsubscribe", json!({"result": off["result"]})));
    let bogus = ws_call(&mut ws, 4, "slotUnsubscribe", json!([987_654_321u64])).await;
    out.push((
        "slotUnsubscribe (unknown id)",
        json!({"code": bogus["error"]["code"], "message": bogus["error"]["message"]}),
    ));
    let account = ws_call(
        &mut ws,
        5,
        "accountSubscribe",
        json!([me, {"encoding": "base64", "commitment": "confirmed"}]),
    )
    .await;
    out.push(("accountSubscribe", shape(&account)));

    let (tx, sig) = transfer(payer, 1_000_000, &blockhash);
    let signature = ws_call(
        &mut ws,
        6,
        "signatureSubscribe",
        json!([sig, {"commitment": "confirmed"}]),
    )
    .await;
    out.push(("signatureSubscribe", shape(&signature)));
    let sent = c(
        "sendTransaction",
        json!([tx, {"encoding": "base64", "preflightCommitment": "processed"}]),
    )
    .await;
    out.push((
        "sendTransaction",
        json!({"result is the signature": sent["result"] == json!(sig)}),
    ));
    let mut notes = Vec::new();
    while notes.len() < 2 {
        let m = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("notifications after the transfer");
        if let Some(Ok(Message::Text(t))) = m {
            let v: Value = serde_json::from_str(&t).unwrap();
            if v["method"] == "accountNotification" || v["method"] == "signatureNotification" {
                notes.push(v);
            }
        }
    }
    notes.sort_by_key(|v| v["method"].as_str().unwrap_or("").to_string());
    out.push(("accountNotification", shape(&notes[0])));
    out.push(("signatureNotification", shape(&notes[1])));

    let status = c(
        "getSignatureStatuses",
        json!([[sig], {"searchTransactionHistory": true}]),
    )
    .await;
    out.push(("getSignatureStatuses (landed)", shape(&status)));
    out.push((
        "getSignaturesForAddress (confirmed)",
        shape(
            &c(
                "getSignaturesForAddress",
                json!([me, {"limit": 5, "commitment": "confirmed"}]),
            )
            .await,
        ),
    ));
    let slot_at = |commitment: &'static str| {
        let c = &c;
        async move {
            c("getSlot", json!([{"commitment": commitment}])).await["result"]
                .as_u64()
                .unwrap_or(0)
        }
    };
    let (confirmed, finalized) = (slot_at("confirmed").await, slot_at("finalized").await);
    out.push(("finalized trails confirmed", json!(finalized < confirmed)));

    // A send that preflight refuses: the payer is a fresh key with nothing.
    let broke = Keypair::new();
    let (bad, _) = transfer(&broke, 1, &blockhash);
    let refused = c(
        "sendTransaction",
        json!([bad, {"encoding": "base64", "preflightCommitment": "processed"}]),
    )
    .await;
    out.push((
        "sendTransaction (preflight refuses)",
        json!({"code": refused["error"]["code"], "err": refused["error"]["data"]["err"]}),
    ));
    let slot = c("getSlot", json!([{"commitment": "processed"}])).await["result"]
        .as_u64()
        .unwrap_or(0);
    let ahead = c(
        "getBalance",
        json!([me, {"commitment": "processed", "minContextSlot": slot + 1_000_000}]),
    )
    .await;
    out.push((
        "minContextSlot not reached",
        json!({"code": ahead["error"]["code"]}),
    ));
    let nope = c("getNothing", json!([])).await;
    out.push(("unknown method", json!({"code": nope["error"]["code"]})));
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_localnet_answers_what_lifeline_asks_as_agave_does() {
    if let Some(why) = unavailable() {
        say_skipped(
            "the_localnet_answers_what_lifeline_asks_as_agave_does",
            &why,
        );
        return;
    }
    let v = tokio::task::spawn_blocking(|| RealValidator::start("0"))
        .await
        .unwrap()
        .expect("lifeline-validator starts");
    let payer = v.funded_key(10).await;
    let real = script(&v.rpc_url, &v.ws_url, &payer).await;

    let net = Localnet::start(LocalnetConfig {
        slot_duration: Duration::from_millis(400),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .expect("localnet");
    let payer = net
        .funded_keypairs(1, 10_000_000_000)
        .expect("funded")
        .pop()
        .unwrap();
    let ours = script(&net.rpc_url, &net.ws_url, &payer).await;

    assert_eq!(real.len(), ours.len());
    let mut differences = Vec::new();
    for ((step, agave), (_, localnet)) in real.iter().zip(&ours) {
        if agave != localnet {
            differences.push(*step);
            eprintln!("{step}:\n  agave    {agave}\n  localnet {localnet}");
        }
    }
    let known: Vec<&str> = KNOWN.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        differences, known,
        "every difference from agave is fixed in the localnet or listed in KNOWN with its reason"
    );
}
