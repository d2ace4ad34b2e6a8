//! A simulated Yellowstone gRPC (Geyser) endpoint, plaintext HTTP/2 at `http://HOST:PORT`.
//! `Subscribe` streams slot updates to a request with a `slots` filter: on each slot the
//! cluster ends, SLOT_PROCESSED for the new slot (with its parent), then SLOT_CONFIRMED and
//! SLOT_FINALIZED for the new root, each naming the filters it matches (`filter_by_commitment`
//! honoured; other filters accepted and ignored). As the reference server does, a request
//! carrying `ping` is answered with a Pong of the same id and leaves the filters as they
//! were, a later request without `ping` replaces them, a half-closed request stream keeps
//! the updates coming, and the server sends a Ping update at once and every 10 s.
//! `Ping`, `GetVersion`, `GetSlot`, `GetBlockHeight`, `GetLatestBlockhash` and
//! `IsBlockhashValid` are answered (default commitment: processed) from the slot view an
//! RPC endpoint with the same fault has; the other methods are unimplemented.
//!
//! Faults: `frozen`: the stream stays open, pongs and pings still come, slot updates stop
//! (for new streams too); `lagging K`: slots K behind; `slow MS`: every outgoing message
//! (updates, pongs, pings) is held MS, and every unary answer; `errors P`: P % of
//! `Subscribe` calls fail with UNAVAILABLE "injected", on an open stream P % of pings end
//! it with INTERNAL "injected" instead of a pong, and P % of unary calls fail with
//! UNAVAILABLE; `down`: the port closes and open streams end at once with UNAVAILABLE
//! "endpoint down"; `flapping MS`: down half the time. `forked`: the stream is served
//! healthy (slot updates carry no blockhash); GetLatestBlockhash reports the other fork's
//! hash, as an RPC endpoint does.
//!
//! (Over 400 lines: the Geyser service's ten methods, most of them short, and the
//! stream's fault handling.)
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use futures_util::Stream;
use lifeline_faults::SlotInfo;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tonic::{Request, Response, Status, Streaming};
use yellowstone_grpc_proto::geyser::geyser_server::{Geyser, GeyserServer};
use yellowstone_grpc_proto::geyser::subscribe_update::UpdateOneof;
use yellowstone_grpc_proto::geyser::{
    CommitmentLevel, GetBlockHeightRequest, GetBlockHeightResponse, GetLatestBlockhashRequest,
    GetLatestBlockhashResponse, GetSlotRequest, GetSlotResponse, GetVersionRequest,
    GetVersionResponse, IsBlockhashValidRequest, IsBlockhashValidResponse, PingRequest,
    PongResponse, SlotStatus, SubscribeDeshredRequest, SubscribeGossipRequest,
    SubscribeReplayInfoRequest, SubscribeReplayInfoResponse, SubscribeRequest,
    SubscribeRequestFilterSlots, SubscribeUpdate, SubscribeUpdateDeshred, SubscribeUpdateGossip,
    SubscribeUpdatePing, SubscribeUpdatePong, SubscribeUpdateSlot,
};
use yellowstone_grpc_proto::prost_types::Timestamp;

use super::endpoint::FaultEndpoint;
use crate::cluster::ClusterEvent;
use crate::rpc::RpcError;

/// Messages queued for one stream.
const OUTBOX: usize = 1_024;

/// How often the server pings an open stream (the reference server's interval).
const SERVER_PING: Duration = Duration::from_secs(10);

type Item = Result<SubscribeUpdate, Status>;
type Outgoing<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The endpoint as a Geyser service.
struct Front(Arc<FaultEndpoint>);

pub(super) fn router(ep: Arc<FaultEndpoint>) -> Router {
    tonic::service::Routes::new(GeyserServer::new(Front(ep))).into_axum_router()
}

impl Front {
    /// The transport faults of a unary call: waits out `slow`, then fails under `errors`.
    async fn transport(&self) -> Result<(), Status> {
        let fault = self.0.fault();
        let delay = fault.delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match self.0.should_fail(fault.failure_percent()) {
            Some(_) => Err(Status::unavailable("injected")),
            None => Ok(()),
        }
    }

    /// A JSON-RPC method's result as an RPC endpoint with this fault answers it.
    async fn rpc(&self, method: &str, params: Value) -> Result<Value, Status> {
        self.transport().await?;
        let (_, view) = self.0.view();
        self.0
            .rpc()
            .dispatch_in(method, params, view)
            .await
            .map_err(status)
    }
}

fn status(e: RpcError) -> Status {
    match e.code {
        -32602 => Status::invalid_argument(e.message),
        _ => Status::internal(e.message),
    }
}

/// A Geyser commitment as JSON-RPC's config (the reference server's default: processed).
fn commitment(level: Option<i32>) -> Result<Value, Status> {
    let level = level.unwrap_or(CommitmentLevel::Processed as i32);
    let level = CommitmentLevel::try_from(level)
        .map_err(|_| Status::unknown(format!("failed to create CommitmentLevel from {level}")))?;
    let name = match level {
        CommitmentLevel::Processed => "processed",
        CommitmentLevel::Confirmed => "confirmed",
        CommitmentLevel::Finalized => "finalized",
    };
    Ok(json!({ "commitment": name }))
}

fn u64_at(v: &Value, pointer: &str) -> Result<u64, Status> {
    v.pointer(pointer)
        .and_then(Value::as_u64)
        .ok_or_else(|| Status::internal(format!("no {pointer} in {v}")))
}

#[tonic::async_trait]
impl Geyser for Front {
    type SubscribeStream = Outgoing<SubscribeUpdate>;
    type SubscribeDeshredStream = Outgoing<SubscribeUpdateDeshred>;
    type SubscribeGossipStream = Outgoing<SubscribeUpdateGossip>;

    async fn subscribe(
        &self,
        request: Request<Streaming<SubscribeRequest>>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let ep = self.0.clone();
        // The stream ends with the port's session: down drops it.
        let (dropped, dropped_too) = (ep.session(), ep.session());
        if ep.should_fail(ep.fault().failure_percent()).is_some() {
            return Err(Status::unavailable("injected"));
        }
        let (queue, queued) = mpsc::channel(OUTBOX);
        tokio::spawn(session(ep.clone(), request.into_inner(), queue, dropped));
        Ok(Response::new(outgoing(ep, queued, dropped_too)))
    }

    async fn subscribe_deshred(
        &self,
        _: Request<Streaming<SubscribeDeshredRequest>>,
    ) -> Result<Response<Self::SubscribeDeshredStream>, Status> {
        Err(Status::unimplemented("SubscribeDeshred is not simulated"))
    }

    async fn subscribe_gossip(
        &self,
        _: Request<SubscribeGossipRequest>,
    ) -> Result<Response<Self::SubscribeGossipStream>, Status> {
        Err(Status::unimplemented("SubscribeGossip is not simulated"))
    }

    async fn subscribe_replay_info(
        &self,
        _: Request<SubscribeReplayInfoRequest>,
    ) -> Result<Response<SubscribeReplayInfoResponse>, Status> {
        Err(Status::unimplemented(
            "SubscribeReplayInfo is not simulated",
        ))
    }

    async fn ping(&self, request: Request<PingRequest>) -> Result<Response<PongResponse>, Status> {
        self.transport().await?;
        Ok(Response::new(PongResponse {
            count: request.get_ref().count,
        }))
    }

    async fn get_latest_blockhash(
        &self,
        request: Request<GetLatestBlockhashRequest>,
    ) -> Result<Response<GetLatestBlockhashResponse>, Status> {
        let config = commitment(request.get_ref().commitment)?;
        let v = self.rpc("getLatestBlockhash", json!([config])).await?;
        Ok(Response::new(GetLatestBlockhashResponse {
            slot: u64_at(&v, "/context/slot")?,
            blockhash: v["value"]["blockhash"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            last_valid_block_height: u64_at(&v, "/value/lastValidBlockHeight")?,
        }))
    }

    async fn get_block_height(
        &self,
        request: Request<GetBlockHeightRequest>,
    ) -> Result<Response<GetBlockHeightResponse>, Status> {
        let config = commitment(request.get_ref().commitment)?;
        let v = self.rpc("getBlockHeight", json!([config])).await?;
        Ok(Response::new(GetBlockHeightResponse {
            block_height: u64_at(&v, "")?,
        }))
    }

    async fn get_slot(
        &self,
        request: Request<GetSlotRequest>,
    ) -> Result<Response<GetSlotResponse>, Status> {
        let config = commitment(request.get_ref().commitment)?;
        let v = self.rpc("getSlot", json!([config])).await?;
        Ok(Response::new(GetSlotResponse {
            slot: u64_at(&v, "")?,
        }))
    }

    async fn is_blockhash_valid(
        &self,
        request: Request<IsBlockhashValidRequest>,
    ) -> Result<Response<IsBlockhashValidResponse>, Status> {
        let r = request.get_ref();
        let config = commitment(r.commitment)?;
        let v = self
            .rpc("isBlockhashValid", json!([r.blockhash, config]))
            .await?;
        Ok(Response::new(IsBlockhashValidResponse {
            slot: u64_at(&v, "/context/slot")?,
            valid: v["value"].as_bool().unwrap_or(false),
        }))
    }

    async fn get_version(
        &self,
        _: Request<GetVersionRequest>,
    ) -> Result<Response<GetVersionResponse>, Status> {
        let v = self.rpc("getVersion", json!([])).await?;
        // The reference server's shape: JSON in a string.
        let version = json!({
            "version": {
                "package": env!("CARGO_PKG_NAME"),
                "version": env!("CARGO_PKG_VERSION"),
                "solana": v["solana-core"],
            },
            "extra": { "hostname": self.0.name },
        });
        Ok(Response::new(GetVersionResponse {
            version: version.to_string(),
        }))
    }
}

/// What a stream's requests asked for: its slot filters by name, and the commitment.
#[derive(Default)]
struct Filters {
    slots: HashMap<String, SubscribeRequestFilterSlots>,
    commitment: Option<i32>,
}

impl Filters {
    /// The update for slot status `status`, naming the filters that take it (None: none).
    fn slot(&self, slot: u64, parent: Option<u64>, status: SlotStatus) -> Option<Item> {
        let commitment = match self.commitment.map(CommitmentLevel::try_from) {
            Some(Ok(CommitmentLevel::Confirmed)) => SlotStatus::SlotConfirmed,
            Some(Ok(CommitmentLevel::Finalized)) => SlotStatus::SlotFinalized,
            _ => SlotStatus::SlotProcessed,
        };
        let mut names: Vec<String> = self
            .slots
            .iter()
            .filter(|(_, f)| !f.filter_by_commitment.unwrap_or(false) || status == commitment)
            .map(|(name, _)| name.clone())
            .collect();
        if names.is_empty() {
            return None;
        }
        names.sort();
        let update = UpdateOneof::Slot(SubscribeUpdateSlot {
            slot,
            parent,
            status: status as i32,
            dead_error: None,
            bank_id: None,
        });
        Some(Ok(message(names, update)))
    }

    /// The updates a slot the cluster ended gives, through the endpoint's fault.
    fn slot_updates(&self, info: Option<SlotInfo>) -> Vec<Item> {
        let Some(info) = info else { return vec![] };
        [
            self.slot(info.slot, Some(info.parent), SlotStatus::SlotProcessed),
            self.slot(info.root, None, SlotStatus::SlotConfirmed),
            self.slot(info.root, None, SlotStatus::SlotFinalized),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

fn message(filters: Vec<String>, update: UpdateOneof) -> SubscribeUpdate {
    SubscribeUpdate {
        filters,
        created_at: Some(Timestamp::from(SystemTime::now())),
        update_oneof: Some(update),
    }
}

/// What one client request gives: a pong (or, under `errors`, the error ending the
/// stream), or new filters and nothing to send.
fn answer(ep: &FaultEndpoint, filters: &mut Filters, req: SubscribeRequest) -> Vec<Item> {
    if let Some(ping) = req.ping {
        if ep.should_fail(ep.fault().failure_percent()).is_some() {
            return vec![Err(Status::internal("injected"))];
        }
        return vec![Ok(message(
            vec![],
            UpdateOneof::Pong(SubscribeUpdatePong { id: ping.id }),
        ))];
    }
    if req.from_slot.is_some() {
        return vec![Err(Status::internal("from_slot is not supported"))];
    }
    *filters = Filters {
        slots: req.slots,
        commitment: req.commitment,
    };
    vec![]
}

/// Reads one stream's requests and the cluster's slots, and queues what to send, each
/// with the moment it was made, until the client leaves, an error ends the stream, or
/// `dropped` resolves.
async fn session(
    ep: Arc<FaultEndpoint>,
    mut requests: Streaming<SubscribeRequest>,
    queue: mpsc::Sender<(Instant, Item)>,
    dropped: impl Future<Output = ()> + Send,
) {
    let mut events = ep.rpc().cluster().subscribe();
    let mut filters = Filters::default();
    let mut reading = true;
    let mut ping = tokio::time::interval(SERVER_PING);
    tokio::pin!(dropped);
    loop {
        let items = tokio::select! {
            _ = &mut dropped => return,
            _ = queue.closed() => return,
            req = requests.message(), if reading => match req {
                Ok(Some(req)) => answer(&ep, &mut filters, req),
                // Half-closed: the updates keep coming, as from the reference server.
                Ok(None) => {
                    reading = false;
                    continue;
                }
                Err(_) => return,
            },
            ev = events.recv() => match ev {
                Ok(ClusterEvent::Slot { slot, parent, root }) => {
                    let info = ep.fault().slot_notification(SlotInfo { slot, parent, root });
                    filters.slot_updates(info)
                }
                Ok(_) | Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return,
            },
            _ = ping.tick() => vec![Ok(message(vec![], UpdateOneof::Ping(SubscribeUpdatePing {})))],
        };
        let now = Instant::now();
        for item in items {
            let last = item.is_err();
            if queue.send((now, item)).await.is_err() || last {
                return;
            }
        }
    }
}

/// The response stream: queued messages, each held back by the fault's delay from the
/// moment it was made; ended at once with UNAVAILABLE when `dropped` resolves.
fn outgoing(
    ep: Arc<FaultEndpoint>,
    queued: mpsc::Receiver<(Instant, Item)>,
    dropped: impl Future<Output = ()> + Send + 'static,
) -> Outgoing<SubscribeUpdate> {
    struct State {
        ep: Arc<FaultEndpoint>,
        queued: mpsc::Receiver<(Instant, Item)>,
        dropped: Pin<Box<dyn Future<Output = ()> + Send>>,
        ended: bool,
    }
    let state = State {
        ep,
        queued,
        dropped: Box::pin(dropped),
        ended: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut s| async move {
        if s.ended {
            return None;
        }
        let (ep, queued) = (&s.ep, &mut s.queued);
        let next = async move {
            let (made, item) = queued.recv().await?;
            tokio::time::sleep_until(made + ep.fault().delay()).await;
            Some(item)
        };
        let item = tokio::select! {
            biased;
            _ = &mut s.dropped => Err(Status::unavailable("endpoint down")),
            item = next => item?,
        };
        s.ended = item.is_err();
        Some((item, s))
    }))
}
