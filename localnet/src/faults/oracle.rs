//! A simulated oracle: an HTTP price service. `GET /price` answers
//! `{"symbol":"SOL/USD","price":{"price":"150.0","publish_time":T}}` with T the wall clock
//! in Unix seconds, as the fault lets it be: `frozen` stops T where it was (still 200 OK),
//! `lagging K` makes it K slots old. `slow`, `errors` (HTTP 500 and 503 in turn), `down`
//! and `flapping` are the transport faults; `forked` means nothing here (served healthy).
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::endpoint::{http_error, unix_ms, FaultEndpoint};

/// The path served, and as the URL's fragment the JSON pointer of the timestamp.
pub(super) const PATH_AND_POINTER: &str = "/price#/price/publish_time";

/// The failures `errors P` answers, in turn.
const FAILURES: [fn() -> Response<Body>; 2] = [
    || http_error(StatusCode::INTERNAL_SERVER_ERROR),
    || http_error(StatusCode::SERVICE_UNAVAILABLE),
];

pub(super) fn router(ep: Arc<FaultEndpoint>) -> Router {
    async fn price(State(ep): State<Arc<FaultEndpoint>>) -> Response<Body> {
        if let Some(failure) = ep.transport(&FAILURES).await {
            return failure;
        }
        let slot = ep.rpc().cluster().slot_duration();
        let (fault, frozen_at) = ep.fault_and_frozen_at();
        let published = fault.publish_time_ms(unix_ms(), frozen_at, slot);
        Json(json!({
            "symbol": "SOL/USD",
            "price": { "price": "150.0", "publish_time": published / 1000 },
        }))
        .into_response()
    }
    let path = PATH_AND_POINTER.split('#').next().unwrap_or("/price");
    Router::new().route(path, get(price)).with_state(ep)
}
