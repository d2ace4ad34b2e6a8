//! JSON-RPC 2.0 over HTTP: framing (single and batch requests), CORS, body limits and
//! error objects. The methods themselves live in `methods.rs` and do not know about HTTP,
//! so the fault-injecting endpoints serve the very same dispatcher.
mod methods;
mod params;

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Response, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

pub use methods::{account_encoding, filter_allows, Rpc, SlotView};
pub use params::{parse_pubkey, parse_signature, transaction as decode_transaction};

/// Like a validator's: bigger requests are refused before parsing.
pub const MAX_REQUEST_BYTES: usize = 50 * 1024;
/// Requests in one batch.
pub const MAX_BATCH: usize = 100;

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
    pub fn parse(message: impl Into<String>) -> Self {
        Self::new(-32700, message)
    }
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(-32600, message)
    }
    pub fn method_not_found(method: &str) -> Self {
        Self::new(-32601, format!("Method not found: {method}"))
    }
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(-32602, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(-32603, message)
    }
    fn to_json(&self) -> Value {
        let mut e = json!({ "code": self.code, "message": self.message });
        if let Some(data) = &self.data {
            e["data"] = data.clone();
        }
        e
    }
}

/// Something that answers one JSON-RPC call (the cluster, or a fault-injecting front).
pub trait Handler: Send + Sync + 'static {
    fn call(
        &self,
        method: String,
        params: Value,
    ) -> impl std::future::Future<Output = Result<Value, RpcError>> + Send;
}

impl Handler for Rpc {
    async fn call(&self, method: String, params: Value) -> Result<Value, RpcError> {
        self.dispatch(&method, params).await
    }
}

fn response(id: Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "result": result, "id": id }),
        Err(e) => json!({ "jsonrpc": "2.0", "error": e.to_json(), "id": id }),
    }
}

/// Handles one request object; None for a notification (no id), which gets no answer.
async fn one<H: Handler>(handler: &H, req: Value) -> Option<Value> {
    let Value::Object(obj) = req else {
        return Some(response(
            Value::Null,
            Err(RpcError::invalid_request("Invalid request: not an object")),
        ));
    };
    let id = obj.get("id").cloned();
    let is_notification = id.is_none();
    let id = id.unwrap_or(Value::Null);
    if !matches!(&id, Value::Null | Value::Number(_) | Value::String(_)) {
        return Some(response(
            Value::Null,
            Err(RpcError::invalid_request("Invalid request: bad id")),
        ));
    }
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Some(response(
            id,
            Err(RpcError::invalid_request(
                "Invalid request: jsonrpc must be \"2.0\"",
            )),
        ));
    }
    let Some(method) = obj.get("method").and_then(Value::as_str) else {
        return Some(response(
            id,
            Err(RpcError::invalid_request("Invalid request: missing method")),
        ));
    };
    // Absent and null both mean "no parameters" (solana-rpc-client sends null).
    let params = match obj.get("params") {
        None | Some(Value::Null) => Value::Array(vec![]),
        Some(p) => p.clone(),
    };
    if !matches!(params, Value::Array(_) | Value::Object(_)) {
        return Some(response(
            id,
            Err(RpcError::invalid_params(
                "Invalid params: expected an array or an object",
            )),
        ));
    }
    let result = handler.call(method.to_string(), params).await;
    (!is_notification).then(|| response(id, result))
}

/// Parses and answers a request body (single or batch). Returns the JSON to send, or
/// None when nothing is to be sent (only notifications).
pub async fn handle_body<H: Handler>(handler: &H, body: &[u8]) -> Option<Value> {
    let req: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return Some(response(
                Value::Null,
                Err(RpcError::parse(format!("Parse error: {e}"))),
            ))
        }
    };
    match req {
        Value::Array(items) if items.is_empty() => Some(response(
            Value::Null,
            Err(RpcError::invalid_request("Invalid request: empty batch")),
        )),
        Value::Array(items) if items.len() > MAX_BATCH => Some(response(
            Value::Null,
            Err(RpcError::invalid_request(format!(
                "Invalid request: batch larger than {MAX_BATCH}"
            ))),
        )),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                if let Some(r) = one(handler, item).await {
                    out.push(r);
                }
            }
            (!out.is_empty()).then_some(Value::Array(out))
        }
        other => one(handler, other).await,
    }
}

fn with_cors(mut resp: Response<Body>) -> Response<Body> {
    let h = resp.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, solana-client"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    resp
}

fn json_response(status: StatusCode, body: Value) -> Response<Body> {
    with_cors(
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("valid response"),
    )
}

/// The HTTP front: POST / with a JSON-RPC body; OPTIONS for CORS preflight.
pub async fn http_entry<H: Handler>(handler: &H, method: &Method, body: Bytes) -> Response<Body> {
    if method == Method::OPTIONS {
        return with_cors(
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Body::empty())
                .expect("valid response"),
        );
    }
    if body.len() > MAX_REQUEST_BYTES {
        return json_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            response(
                Value::Null,
                Err(RpcError::invalid_request(format!(
                    "Request too large: {} bytes (limit {MAX_REQUEST_BYTES})",
                    body.len()
                ))),
            ),
        );
    }
    match handle_body(handler, &body).await {
        Some(v) => json_response(StatusCode::OK, v),
        None => with_cors(
            Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Body::empty())
                .expect("valid response"),
        ),
    }
}

/// Reads a body up to the limit (+1 byte, so oversize is detectable without buffering more).
pub async fn limited_body(body: Body) -> Result<Bytes, Response<Body>> {
    axum::body::to_bytes(body, MAX_REQUEST_BYTES + 1)
        .await
        .map_err(|_| {
            json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                response(
                    Value::Null,
                    Err(RpcError::invalid_request(format!(
                        "Request too large (limit {MAX_REQUEST_BYTES} bytes)"
                    ))),
                ),
            )
        })
}

/// Router serving `handler` on `/` (POST and OPTIONS).
pub fn router<H: Handler>(handler: Arc<H>) -> Router {
    async fn entry<H: Handler>(
        State(handler): State<Arc<H>>,
        method: Method,
        body: Body,
    ) -> Response<Body> {
        match limited_body(body).await {
            Ok(bytes) => http_entry(handler.as_ref(), &method, bytes).await,
            Err(resp) => resp,
        }
    }
    Router::new()
        .route("/", post(entry::<H>).options(entry::<H>))
        .with_state(handler)
}
