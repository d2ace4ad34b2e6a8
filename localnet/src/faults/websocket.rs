//! A simulated WebSocket (Solana PubSub) endpoint: the localnet's own PubSub connections
//! (every subscription it knows, slotSubscribe included), on the cluster's slots and
//! commits, through the endpoint's fault. `frozen`: the connection stays open but slot
//! (and commit) notifications stop, for new subscribers too; `lagging K`: notified slots
//! are K behind; `slow MS`: every message is held MS; `errors P`: P % of subscribe
//! requests are answered with a JSON-RPC error; `down`: the port closes and open
//! connections are dropped; `flapping MS`: down half the time. `forked` is served healthy
//! (slot notifications carry no blockhash).
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use solana_rpc_client_api::response::SlotInfo;

use super::endpoint::FaultEndpoint;
use crate::pubsub::{Distortion, PubSub};
use crate::rpc::RpcError;

/// The endpoint's fault, as a PubSub connection applies it.
struct Distort(Arc<FaultEndpoint>);

impl Distortion for Distort {
    fn fail(&self, method: &str) -> Option<RpcError> {
        if !method.ends_with("Subscribe") {
            return None;
        }
        let percent = self.0.fault().failure_percent();
        self.0
            .should_fail(percent)
            .map(|_| RpcError::internal("Internal error (injected)"))
    }

    fn slot(&self, info: SlotInfo) -> Option<SlotInfo> {
        let shown = self
            .0
            .fault()
            .slot_notification(lifeline_faults::SlotInfo {
                slot: info.slot,
                parent: info.parent,
                root: info.root,
            })?;
        Some(SlotInfo {
            slot: shown.slot,
            parent: shown.parent,
            root: shown.root,
        })
    }

    fn commits(&self) -> bool {
        self.0.fault().notifies_commits()
    }

    fn delay(&self) -> Duration {
        self.0.next_delay()
    }

    fn hostile(&self) -> Option<lifeline_faults::HostileBody> {
        self.0.fault().hostile_body()
    }
}

pub(super) fn router(ep: Arc<FaultEndpoint>) -> Router {
    async fn upgrade(
        State((ep, pubsub)): State<(Arc<FaultEndpoint>, PubSub)>,
        ws: WebSocketUpgrade,
    ) -> impl IntoResponse {
        // The connection ends with the port's session: down drops it.
        let dropped = ep.session();
        ws.on_upgrade(move |socket| pubsub.serve(socket, Arc::new(Distort(ep)), dropped))
    }
    let pubsub = PubSub::new(ep.rpc().cluster().clone());
    Router::new()
        .route("/", get(upgrade))
        .with_state((ep, pubsub))
}
