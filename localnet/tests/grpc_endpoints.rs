//! Simulated Yellowstone gRPC (Geyser) endpoints: a real tonic client subscribes to slots
//! and pings on the open stream, healthy and under each fault.
//!
//! (Over 400 lines: a stream client and one test per fault.)
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::*;
use lifeline_localnet::{EndpointKind, Fault, Localnet};
use tokio::sync::mpsc;
use tonic::transport::Channel;
use tonic::{Code, Status, Streaming};
use yellowstone_grpc_proto::geyser::geyser_client::GeyserClient;
use yellowstone_grpc_proto::geyser::subscribe_update::UpdateOneof;
use yellowstone_grpc_proto::geyser::{
    CommitmentLevel, GetLatestBlockhashRequest, GetSlotRequest, GetVersionRequest,
    IsBlockhashValidRequest, PingRequest, SlotStatus, SubscribeGossipRequest, SubscribeRequest,
    SubscribeRequestFilterSlots, SubscribeRequestPing, SubscribeUpdate, SubscribeUpdateSlot,
};

type Client = GeyserClient<Channel>;

/// Connects, or Err("refused") / Err(description).
async fn connect(url: &str) -> Result<Client, String> {
    let endpoint = Channel::from_shared(url.to_string())
        .unwrap()
        .connect_timeout(Duration::from_secs(5));
    match tokio::time::timeout(Duration::from_secs(5), endpoint.connect()).await {
        Err(_) => Err("timed out".into()),
        Ok(Ok(channel)) => Ok(GeyserClient::new(channel)),
        Ok(Err(e)) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
            while let Some(s) = source {
                if let Some(io) = s.downcast_ref::<std::io::Error>() {
                    if io.kind() == std::io::ErrorKind::ConnectionRefused {
                        return Err("refused".into());
                    }
                }
                source = s.source();
            }
            Err(e.to_string())
        }
    }
}

/// An open Subscribe stream: what the client sends on it, and what it receives.
struct Sub {
    requests: mpsc::Sender<SubscribeRequest>,
    updates: Streaming<SubscribeUpdate>,
}

/// A request for slot updates, under the filter name `slots`.
fn slots_request() -> SubscribeRequest {
    SubscribeRequest {
        slots: HashMap::from([("slots".into(), SubscribeRequestFilterSlots::default())]),
        ..Default::default()
    }
}

/// Opens a Subscribe stream on `client` and sends `first` on it.
async fn subscribe_with(client: &mut Client, first: SubscribeRequest) -> Result<Sub, Status> {
    let (requests, rx) = mpsc::channel(16);
    requests.send(first).await.unwrap();
    let outbound =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|r| (r, rx)) });
    let updates = tokio::time::timeout(Duration::from_secs(5), client.subscribe(outbound))
        .await
        .expect("an answer to Subscribe")?
        .into_inner();
    Ok(Sub { requests, updates })
}

/// Connects to `url` and subscribes to slots.
async fn subscribe(url: &str) -> Sub {
    let mut client = connect(url).await.expect("connects");
    subscribe_with(&mut client, slots_request())
        .await
        .expect("subscribed")
}

/// What the stream delivered next.
#[derive(Debug)]
enum Next {
    Slot(SubscribeUpdateSlot, Vec<String>),
    Pong(i32),
    Ping,
    Nothing,
    Ended(Option<Status>),
}

async fn next(sub: &mut Sub, limit: Duration) -> Next {
    match tokio::time::timeout(limit, sub.updates.message()).await {
        Err(_) => Next::Nothing,
        Ok(Err(status)) => Next::Ended(Some(status)),
        Ok(Ok(None)) => Next::Ended(None),
        Ok(Ok(Some(u))) => {
            assert!(u.created_at.is_some(), "{u:?}");
            match u.update_oneof {
                Some(UpdateOneof::Slot(s)) => Next::Slot(s, u.filters),
                Some(UpdateOneof::Pong(p)) => Next::Pong(p.id),
                Some(UpdateOneof::Ping(_)) => Next::Ping,
                other => panic!("unexpected update {other:?}"),
            }
        }
    }
}

/// The next update of slot status `status` within `limit` (others skipped).
async fn slot_update(
    sub: &mut Sub,
    status: SlotStatus,
    limit: Duration,
) -> Option<SubscribeUpdateSlot> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next(sub, left).await {
            Next::Slot(s, _) if s.status == status as i32 => return Some(s),
            Next::Slot(..) | Next::Pong(_) | Next::Ping => continue,
            Next::Nothing => return None,
            Next::Ended(status) => panic!("the stream ended: {status:?}"),
        }
    }
}

/// The next processed slot within `limit`.
async fn processed(sub: &mut Sub, limit: Duration) -> Option<SubscribeUpdateSlot> {
    slot_update(sub, SlotStatus::SlotProcessed, limit).await
}

/// Sends a ping with `id` on the stream; returns what answered it (slots skipped).
async fn ping(sub: &mut Sub, id: i32) -> Next {
    let req = SubscribeRequest {
        ping: Some(SubscribeRequestPing { id }),
        ..Default::default()
    };
    sub.requests.send(req).await.expect("stream open");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match next(sub, left).await {
            Next::Slot(..) | Next::Ping => continue,
            other => return other,
        }
    }
}

/// Reads what was already on its way until no slot update has come for 4 slots.
async fn drain(sub: &mut Sub) {
    while processed(sub, SLOT * 4).await.is_some() {}
}

async fn grpc_net() -> (Localnet, String) {
    let net = start_all(0, 0, 0, 0, 1).await;
    let url = url(&net, EndpointKind::Grpc);
    (net, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_stream_delivers_advancing_slots_and_answers_pings() {
    let (net, url) = grpc_net().await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let mut sub = subscribe(&url).await;
    let mut last = 0;
    for _ in 0..5 {
        let s = processed(&mut sub, Duration::from_secs(5))
            .await
            .expect("a slot update");
        assert!(s.slot > last, "slots move forward: {} after {last}", s.slot);
        assert_eq!(s.parent, Some(s.slot - 1));
        assert!(s.slot <= net.cluster.working_bank().slot());
        last = s.slot;
    }
    // the filter's name comes with each update; the root is confirmed and finalized
    let deadline = Duration::from_secs(5);
    loop {
        match next(&mut sub, deadline).await {
            Next::Slot(s, filters) => {
                assert_eq!(filters, ["slots"]);
                if s.status == SlotStatus::SlotFinalized as i32 {
                    // the root: the parent of the slot just processed
                    assert!(s.slot + 1 >= last, "{} finalized after {last}", s.slot);
                    break;
                }
            }
            Next::Ping | Next::Pong(_) => {}
            other => panic!("{other:?}"),
        }
    }
    for id in [7, 8] {
        match ping(&mut sub, id).await {
            Next::Pong(got) => assert_eq!(got, id),
            other => panic!("ping {id}: {other:?}"),
        }
    }
    // a ping leaves the filters as they were
    processed(&mut sub, Duration::from_secs(5))
        .await
        .expect("slots still come");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_pings_at_once_and_filters_can_be_replaced() {
    let (_net, url) = grpc_net().await;
    let mut client = connect(&url).await.unwrap();
    // no filter yet: only the server's ping
    let mut sub = subscribe_with(&mut client, SubscribeRequest::default())
        .await
        .unwrap();
    assert!(matches!(
        next(&mut sub, Duration::from_secs(5)).await,
        Next::Ping
    ));
    assert!(matches!(next(&mut sub, SLOT * 6).await, Next::Nothing));
    // finalized only, by commitment
    let finalized = SubscribeRequest {
        slots: HashMap::from([(
            "final".into(),
            SubscribeRequestFilterSlots {
                filter_by_commitment: Some(true),
                ..Default::default()
            },
        )]),
        commitment: Some(CommitmentLevel::Finalized as i32),
        ..Default::default()
    };
    sub.requests.send(finalized).await.unwrap();
    for _ in 0..4 {
        match next(&mut sub, Duration::from_secs(5)).await {
            Next::Slot(s, filters) => {
                assert_eq!(s.status, SlotStatus::SlotFinalized as i32, "{s:?}");
                assert_eq!(filters, ["final"]);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unary_calls_answer_from_the_endpoints_view() {
    let (net, url) = grpc_net().await;
    let mut client = connect(&url).await.unwrap();
    let pong = client.ping(PingRequest { count: 3 }).await.unwrap();
    assert_eq!(pong.into_inner().count, 3);
    let slot = client
        .get_slot(GetSlotRequest::default())
        .await
        .unwrap()
        .into_inner()
        .slot;
    assert!(slot > 0 && slot <= net.cluster.working_bank().slot());
    let latest = client
        .get_latest_blockhash(GetLatestBlockhashRequest {
            commitment: Some(CommitmentLevel::Finalized as i32),
        })
        .await
        .unwrap()
        .into_inner();
    let valid = client
        .is_blockhash_valid(IsBlockhashValidRequest {
            blockhash: latest.blockhash.clone(),
            commitment: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(valid.valid, "{latest:?}");
    let version = client
        .get_version(GetVersionRequest {})
        .await
        .unwrap()
        .into_inner()
        .version;
    let version: serde_json::Value = serde_json::from_str(&version).unwrap();
    assert!(version["version"]["solana"].is_string(), "{version}");
    let gossip = client
        .subscribe_gossip(SubscribeGossipRequest::default())
        .await
        .unwrap_err();
    assert_eq!(gossip.code(), Code::Unimplemented);
    // lagging: the slot reported trails the cluster
    let cluster = net.cluster.clone();
    eventually("10 slots", Duration::from_secs(10), || async {
        (cluster.working_bank().slot() > 10).then_some(())
    })
    .await;
    net.faults.set("gr0", Fault::Lagging { slots: 5 }).unwrap();
    let slot = client
        .get_slot(GetSlotRequest::default())
        .await
        .unwrap()
        .into_inner()
        .slot;
    let after = net.cluster.working_bank().slot();
    assert!(slot + 5 <= after, "{slot}, cluster at {after}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_keeps_the_stream_and_its_pongs_but_stops_slot_updates() {
    let (net, url) = grpc_net().await;
    let mut sub = subscribe(&url).await;
    processed(&mut sub, Duration::from_secs(5))
        .await
        .expect("healthy: a slot");
    net.faults.set("gr0", Fault::Frozen).unwrap();
    drain(&mut sub).await;
    let before = net.cluster.working_bank().slot();
    // then no slot, for 12 slots
    assert!(slot_update(&mut sub, SlotStatus::SlotProcessed, SLOT * 12)
        .await
        .is_none());
    assert!(
        net.cluster.working_bank().slot() >= before + 5,
        "the cluster moved on meanwhile"
    );
    // the stream is open: pings are answered
    assert!(matches!(ping(&mut sub, 42).await, Next::Pong(42)));
    // a new subscriber is accepted and gets no slot either
    let mut late = subscribe(&url).await;
    assert!(processed(&mut late, SLOT * 8).await.is_none());
    assert!(matches!(ping(&mut late, 1).await, Next::Pong(1)));
    // healthy again: slots resume
    net.faults.set("gr0", Fault::Healthy).unwrap();
    processed(&mut late, Duration::from_secs(5))
        .await
        .expect("slots again");
    processed(&mut sub, Duration::from_secs(5))
        .await
        .expect("slots again on the first stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_streams_slots_k_behind() {
    let (net, url) = grpc_net().await;
    let cluster = net.cluster.clone();
    eventually("30 slots", Duration::from_secs(10), || async {
        (cluster.working_bank().slot() > 30).then_some(())
    })
    .await;
    net.faults.set("gr0", Fault::Lagging { slots: 20 }).unwrap();
    // Every update is for a slot the cluster reached no earlier than `before` (its event
    // may still have been on its way): bracketing makes the check exact however slowly the
    // machine runs.
    let before = net.cluster.working_bank().slot();
    let mut sub = subscribe(&url).await;
    for _ in 0..3 {
        let s = processed(&mut sub, Duration::from_secs(5))
            .await
            .expect("a slot");
        let after = net.cluster.working_bank().slot();
        assert!(
            before <= s.slot + 20 && s.slot + 20 <= after,
            "cluster {before}..={after}, streamed {}",
            s.slot
        );
        assert_eq!(s.parent, Some(s.slot - 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_holds_every_message_pongs_too() {
    let (net, url) = grpc_net().await;
    let mut sub = subscribe(&url).await;
    processed(&mut sub, Duration::from_secs(5))
        .await
        .expect("healthy: a slot");
    net.faults.set("gr0", Fault::Slow { ms: 300 }).unwrap();
    drain(&mut sub).await;
    let t = Instant::now();
    assert!(matches!(ping(&mut sub, 5).await, Next::Pong(5)));
    // a lower bound only: the hold guarantees it, whatever the machine load
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    // slots still come, each held as long
    let s = processed(&mut sub, Duration::from_secs(5))
        .await
        .expect("a slot");
    let now = net.cluster.working_bank().slot();
    assert!(
        s.slot + 3 <= now,
        "slot {} arrived when the cluster was at {now}",
        s.slot
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_fail_subscribes_and_end_streams_on_ping() {
    let (net, url) = grpc_net().await;
    let mut client = connect(&url).await.unwrap();
    // a stream opened while healthy
    let mut open = subscribe_with(&mut client, slots_request()).await.unwrap();
    processed(&mut open, Duration::from_secs(5))
        .await
        .expect("healthy: a slot");
    net.faults
        .set("gr0", Fault::Errors { percent: 100 })
        .unwrap();
    for _ in 0..3 {
        let e = subscribe_with(&mut client, slots_request())
            .await
            .err()
            .expect("refused");
        assert_eq!(e.code(), Code::Unavailable, "{e:?}");
    }
    match ping(&mut open, 9).await {
        Next::Ended(Some(e)) => {
            assert_eq!(e.code(), Code::Internal, "{e:?}");
            assert_eq!(e.message(), "injected");
        }
        other => panic!("the stream should end: {other:?}"),
    }
    let e = client.ping(PingRequest { count: 1 }).await.unwrap_err();
    assert_eq!(e.code(), Code::Unavailable);
    // half of them, spread evenly
    net.faults
        .set("gr0", Fault::Errors { percent: 50 })
        .unwrap();
    let mut failed = 0;
    for _ in 0..10 {
        if subscribe_with(&mut client, slots_request()).await.is_err() {
            failed += 1;
        }
    }
    assert_eq!(failed, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_drops_open_streams_and_closes_the_port() {
    let (net, url) = grpc_net().await;
    let mut sub = subscribe(&url).await;
    processed(&mut sub, Duration::from_secs(5))
        .await
        .expect("healthy: a slot");
    net.faults.set("gr0", Fault::Down).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match next(&mut sub, Duration::from_secs(1)).await {
            Next::Ended(Some(e)) => {
                assert_eq!(e.code(), Code::Unavailable, "{e:?}");
                break;
            }
            Next::Ended(None) => panic!("ended without an error"),
            other => assert!(Instant::now() < deadline, "still open: {other:?}"),
        }
    }
    eventually("refused", Duration::from_secs(5), || async {
        (connect(&url).await.err()? == "refused").then_some(())
    })
    .await;
    net.faults.set("gr0", Fault::Healthy).unwrap();
    let mut client = eventually("accepting again", Duration::from_secs(5), || async {
        connect(&url).await.ok()
    })
    .await;
    let mut back = subscribe_with(&mut client, slots_request()).await.unwrap();
    processed(&mut back, Duration::from_secs(5))
        .await
        .expect("slots again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flapping_alternates_between_serving_and_refusing() {
    let (net, url) = grpc_net().await;
    net.faults
        .set("gr0", Fault::Flapping { period_ms: 200 })
        .unwrap();
    let (mut served, mut refused) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(6);
    while (served < 2 || refused < 2) && Instant::now() < deadline {
        match connect(&url).await {
            Ok(mut c) => {
                if c.ping(PingRequest { count: 1 }).await.is_ok() {
                    served += 1;
                }
            }
            Err(e) if e == "refused" => refused += 1,
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(
        served >= 2 && refused >= 2,
        "served {served}, refused {refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forked_streams_slots_like_a_healthy_endpoint() {
    let (net, url) = grpc_net().await;
    net.faults.set("gr0", Fault::Forked).unwrap();
    let mut sub = subscribe(&url).await;
    let s = processed(&mut sub, Duration::from_secs(5))
        .await
        .expect("a slot");
    assert!(s.slot + 2 >= net.cluster.working_bank().slot());
}
