//! What the endpoint-kind tests share: a localnet with endpoints of every kind, plain
//! HTTP and WebSocket clients that report refusals as such, and polling with deadlines.
#![allow(dead_code)]
use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use lifeline_localnet::{EndpointKind, Localnet, LocalnetConfig};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

pub const SLOT: Duration = Duration::from_millis(50);

/// A localnet with `rpc`, `ws`, `oracle` and `gateway` simulated endpoints.
pub async fn start(rpc: usize, ws: usize, oracle: usize, gateway: usize) -> Localnet {
    start_all(rpc, ws, oracle, gateway, 0).await
}

/// A localnet with simulated endpoints of every kind, `grpc` (Yellowstone) ones too.
pub async fn start_all(
    rpc: usize,
    ws: usize,
    oracle: usize,
    gateway: usize,
    grpc: usize,
) -> Localnet {
    Localnet::start(LocalnetConfig {
        endpoints: rpc,
        websocket_endpoints: ws,
        oracle_endpoints: oracle,
        gateway_endpoints: gateway,
        grpc_endpoints: grpc,
        slot_duration: SLOT,
        ..LocalnetConfig::ephemeral()
    })
    .await
    .expect("localnet starts")
}

/// The URL of the first simulated endpoint of `kind`.
pub fn url(net: &Localnet, kind: EndpointKind) -> String {
    net.simulated()
        .into_iter()
        .find(|e| e.kind == kind)
        .expect("an endpoint of that kind")
        .url
}

/// GET `url` (its fragment stripped, as a client does): (status, body as JSON or Null),
/// or Err("refused") / Err(description).
pub async fn get(url: &str) -> Result<(u16, Value), String> {
    let url = url.split('#').next().unwrap();
    let resp = reqwest::Client::new()
        .get(url)
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
    let status = resp.status().as_u16();
    let body = resp.text().await.map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
}

/// Polls `probe` until it returns Some, or panics with `what` after `limit`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(
    what: &str,
    limit: Duration,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects, or Err("refused") / Err(description).
pub async fn ws_connect(url: &str) -> Result<Ws, String> {
    match tokio::time::timeout(
        Duration::from_secs(5),
        tokio_tungstenite::connect_async(url),
    )
    .await
    {
        Err(_) => Err("timed out".into()),
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(tokio_tungstenite::tungstenite::Error::Io(e)))
            if e.kind() == std::io::ErrorKind::ConnectionRefused =>
        {
            Err("refused".into())
        }
        Ok(Err(e)) => Err(e.to_string()),
    }
}

/// What the socket delivered next.
#[derive(Debug)]
pub enum Next {
    Message(Value),
    Nothing,
    Closed,
}

/// The next JSON message within `limit`.
pub async fn ws_next(ws: &mut Ws, limit: Duration) -> Next {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Next::Nothing,
            Ok(None | Some(Err(_))) => return Next::Closed,
            Ok(Some(Ok(Message::Text(t)))) => {
                return Next::Message(serde_json::from_str(t.as_str()).expect("JSON"))
            }
            Ok(Some(Ok(Message::Close(_)))) => return Next::Closed,
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Sends a request and returns its answer (notifications before it are skipped).
pub async fn ws_call(ws: &mut Ws, id: u64, method: &str, params: Value) -> Value {
    let req = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
    ws.send(Message::text(req.to_string())).await.expect("send");
    loop {
        match ws_next(ws, Duration::from_secs(5)).await {
            Next::Message(v) if v["id"] == json!(id) => return v,
            Next::Message(_) => continue,
            other => panic!("no answer to {method}: {other:?}"),
        }
    }
}

/// The next slot notification within `limit`: (subscription, slot info).
pub async fn slot_notification(ws: &mut Ws, limit: Duration) -> Option<(u64, Value)> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match ws_next(ws, left).await {
            Next::Message(v) if v["method"] == "slotNotification" => {
                let p = &v["params"];
                return Some((p["subscription"].as_u64().unwrap(), p["result"].clone()));
            }
            Next::Message(_) => continue,
            Next::Nothing => return None,
            Next::Closed => panic!("the connection closed"),
        }
    }
}
