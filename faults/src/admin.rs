//! The admin API every set of fault endpoints serves (loopback only): `GET /endpoints`
//! (name, kind, url and fault of each) and `POST /endpoints/{name}/fault` with a JSON body
//! such as `{"mode":"lagging","slots":20}` or a text body `lagging 20`. The localnet's
//! simulated endpoints and the real-validator runner's proxies answer the same way.
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::fault::Fault;

/// An endpoint as the admin API lists it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct EndpointInfo {
    pub name: String,
    /// `rpc`, `websocket`, `oracle`, `gateway` or `grpc`.
    pub kind: String,
    pub url: String,
    pub fault: Fault,
}

/// Why a fault could not be set; the admin API's status code follows from it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("no endpoint named {0:?}")]
    UnknownEndpoint(String),
    #[error("invalid fault: {0}")]
    BadFault(String),
}

impl FaultError {
    pub fn status(&self) -> StatusCode {
        match self {
            FaultError::UnknownEndpoint(_) => StatusCode::NOT_FOUND,
            FaultError::BadFault(_) => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for FaultError {
    fn into_response(self) -> axum::response::Response {
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// A set of endpoints whose faults can be listed and changed.
pub trait FaultSet: Send + Sync + 'static {
    fn list(&self) -> Vec<EndpointInfo>;
    fn set(&self, name: &str, fault: Fault) -> Result<(), FaultError>;
}

/// A fault from the admin API's body: JSON (`{"mode":"lagging","slots":20}`) or text
/// (`lagging 20`).
pub fn parse_body(body: &str) -> Result<Fault, FaultError> {
    if body.trim_start().starts_with('{') {
        serde_json::from_str(body).map_err(|e| FaultError::BadFault(e.to_string()))
    } else {
        body.trim().parse().map_err(FaultError::BadFault)
    }
}

/// The admin API over `set`.
pub fn router(set: Arc<dyn FaultSet>) -> Router {
    async fn list(State(set): State<Arc<dyn FaultSet>>) -> Json<Vec<EndpointInfo>> {
        Json(set.list())
    }
    async fn change(
        State(set): State<Arc<dyn FaultSet>>,
        Path(name): Path<String>,
        body: String,
    ) -> Result<Response<Body>, FaultError> {
        let fault = parse_body(&body)?;
        set.set(&name, fault)?;
        Ok(Json(json!({ "name": name, "fault": fault })).into_response())
    }
    Router::new()
        .route("/endpoints", get(list))
        .route("/endpoints/{name}/fault", post(change))
        .with_state(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_json_or_text_and_bad_ones_are_named() {
        assert_eq!(
            parse_body(r#"{"mode":"lagging","slots":20}"#),
            Ok(Fault::Lagging { slots: 20 })
        );
        assert_eq!(parse_body(" frozen\n"), Ok(Fault::Frozen));
        assert!(matches!(
            parse_body("sideways"),
            Err(FaultError::BadFault(_))
        ));
        assert!(matches!(
            parse_body(r#"{"mode":"errors","percent":300}"#),
            Err(FaultError::BadFault(_))
        ));
        assert_eq!(
            FaultError::UnknownEndpoint("x".into()).status(),
            StatusCode::NOT_FOUND
        );
    }
}
