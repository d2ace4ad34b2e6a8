//! A simulated gateway: an HTTP service that answers `GET /health` (and `GET /`) with 200
//! and a small JSON body. Its faults are the transport ones: `slow`, `errors` (HTTP 500
//! and 503 in turn), `down` and `flapping`. A gateway has no slot and no timestamp, so
//! `frozen`, `lagging` and `forked` mean nothing to it: they are accepted and it serves as
//! a healthy one.
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::endpoint::{http_error, FaultEndpoint};

/// The failures `errors P` answers, in turn.
const FAILURES: [fn() -> Response<Body>; 2] = [
    || http_error(StatusCode::INTERNAL_SERVER_ERROR),
    || http_error(StatusCode::SERVICE_UNAVAILABLE),
];

pub(super) fn router(ep: Arc<FaultEndpoint>) -> Router {
    async fn health(State(ep): State<Arc<FaultEndpoint>>) -> Response<Body> {
        if let Some(failure) = ep.transport(&FAILURES).await {
            return failure;
        }
        Json(json!({ "status": "ok", "service": "gateway", "name": ep.name })).into_response()
    }
    Router::new()
        .route("/", get(health))
        .route("/health", get(health))
        .with_state(ep)
}
