//! A simulated JSON-RPC endpoint: the localnet's own dispatcher, through the fault's slot
//! view (frozen, lagging, forked) and transport faults (slow, errors: HTTP 500, HTTP 429
//! and a JSON-RPC error in turn).
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, Response, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::endpoint::{http_error, FaultEndpoint};
use crate::rpc::{self, Handler, RpcError};

/// The endpoint as a JSON-RPC handler.
struct Front(Arc<FaultEndpoint>);

impl Handler for Front {
    async fn call(&self, method: String, params: Value) -> Result<Value, RpcError> {
        let (fault, view) = self.0.view();
        if fault.drops_transactions() && method == "sendTransaction" {
            // A frozen node acknowledges and drops: the signature is real, the transaction
            // never lands.
            return acknowledge(&params);
        }
        if fault.behind() && method == "requestAirdrop" {
            return Err(RpcError::new(-32005, "Node is behind"));
        }
        self.0.rpc().dispatch_in(&method, params, view).await
    }
}

/// sendTransaction's answer for a transaction that will not land: its signature.
fn acknowledge(params: &Value) -> Result<Value, RpcError> {
    let encoded = params.get(0).and_then(Value::as_str).unwrap_or_default();
    let encoding = params
        .get(1)
        .and_then(|c| c.get("encoding"))
        .and_then(|e| serde_json::from_value(e.clone()).ok());
    let tx = rpc::decode_transaction(encoded, encoding)?;
    Ok(json!(tx
        .signatures
        .first()
        .map(|s| s.to_string())
        .unwrap_or_default()))
}

fn rpc_error() -> Response<Body> {
    let err = json!({ "jsonrpc": "2.0", "error": { "code": -32603, "message": "Internal error (injected)" }, "id": Value::Null });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from(err.to_string()))
        .expect("valid response")
}

/// The failures `errors P` answers, in turn.
const FAILURES: [fn() -> Response<Body>; 3] = [
    || http_error(StatusCode::INTERNAL_SERVER_ERROR),
    || http_error(StatusCode::TOO_MANY_REQUESTS),
    rpc_error,
];

pub(super) fn router(ep: Arc<FaultEndpoint>) -> Router {
    async fn entry(State(front): State<Arc<Front>>, method: Method, body: Body) -> Response<Body> {
        let body = match rpc::limited_body(body).await {
            Ok(b) => b,
            Err(resp) => return resp,
        };
        if let Some(failure) = front.0.transport(&FAILURES).await {
            return failure;
        }
        rpc::http_entry(front.as_ref(), &method, body).await
    }
    Router::new()
        .route("/", post(entry).options(entry))
        .with_state(Arc::new(Front(ep)))
}
