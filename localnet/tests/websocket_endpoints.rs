//! Simulated WebSocket (Solana PubSub) endpoints: a real client subscribes to slots,
//! healthy and under each fault.
mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use lifeline_localnet::{EndpointKind, Fault};
use serde_json::json;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;

/// Reads what was already on its way (sent before a change took effect) until the socket
/// has been quiet for 4 slots.
async fn drain(ws: &mut Ws) {
    while slot_notification(ws, SLOT * 4).await.is_some() {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solana_pubsub_client_follows_slots_through_a_healthy_endpoint() {
    let net = start(0, 1, 0, 0).await;
    let url = url(&net, EndpointKind::WebSocket);
    assert!(url.starts_with("ws://127.0.0.1:"), "{url}");
    let pubsub = PubsubClient::new(&url).await.expect("connects");
    let (mut slots, unsubscribe) = pubsub.slot_subscribe().await.expect("subscribed");
    let mut last = 0;
    for _ in 0..5 {
        let info = tokio::time::timeout(Duration::from_secs(5), slots.next())
            .await
            .expect("a notification")
            .expect("stream open");
        assert!(
            info.slot > last,
            "slots move forward: {} after {last}",
            info.slot
        );
        assert_eq!(info.parent, info.slot - 1);
        assert!(info.slot <= net.cluster.working_bank().slot());
        last = info.slot;
    }
    unsubscribe().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slot_notifications_have_solanas_shape_and_unsubscribe_works() {
    let net = start(0, 1, 0, 0).await;
    let mut ws = ws_connect(&url(&net, EndpointKind::WebSocket))
        .await
        .unwrap();
    let sub = ws_call(&mut ws, 1, "slotSubscribe", json!([])).await;
    let id = sub["result"].as_u64().expect("a subscription id");
    let (got, info) = slot_notification(&mut ws, Duration::from_secs(5))
        .await
        .expect("notified");
    assert_eq!(got, id);
    let slot = info["slot"].as_u64().unwrap();
    assert_eq!(info["parent"].as_u64(), Some(slot - 1));
    assert!(info["root"].as_u64().is_some());
    let off = ws_call(&mut ws, 2, "slotUnsubscribe", json!([id])).await;
    assert_eq!(off["result"], true);
    drain(&mut ws).await;
    assert!(slot_notification(&mut ws, SLOT * 6).await.is_none());
}

/// Agave deduplicates identical subscriptions: a second `slotSubscribe` answers the first
/// one's id, on the same connection and on another; unsubscribing that id on one
/// connection ends it there only, and the id is new once nobody holds it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_subscriptions_share_one_id_as_on_agave() {
    let net = start(0, 1, 0, 0).await;
    let url = url(&net, EndpointKind::WebSocket);
    let mut a = ws_connect(&url).await.unwrap();
    let mut b = ws_connect(&url).await.unwrap();
    let first = ws_call(&mut a, 1, "slotSubscribe", json!([])).await["result"]
        .as_u64()
        .expect("an id");
    let again = ws_call(&mut a, 2, "slotSubscribe", json!([])).await["result"].as_u64();
    assert_eq!(again, Some(first), "the same connection, the same id");
    let other = ws_call(&mut b, 1, "slotSubscribe", json!([])).await["result"].as_u64();
    assert_eq!(other, Some(first), "another connection, the same id");
    // Unsubscribing the (only) id on `a` ends a's subscription: subscribing twice and
    // then dropping "the old one" leaves nothing (the keeper's probe once did this).
    let off = ws_call(&mut a, 3, "slotUnsubscribe", json!([first])).await;
    assert_eq!(off["result"], true);
    drain(&mut a).await;
    assert!(slot_notification(&mut a, SLOT * 6).await.is_none());
    let off = ws_call(&mut a, 4, "slotUnsubscribe", json!([first])).await;
    assert_eq!(off["error"]["message"], "Invalid subscription id.");
    // b still holds it and is still notified.
    let (id, _) = slot_notification(&mut b, Duration::from_secs(5))
        .await
        .expect("b is still notified");
    assert_eq!(id, first);
    // Once nobody holds it, the same subscription gets a new id.
    let off = ws_call(&mut b, 2, "slotUnsubscribe", json!([first])).await;
    assert_eq!(off["result"], true);
    let fresh = ws_call(&mut a, 5, "slotSubscribe", json!([])).await["result"].as_u64();
    assert!(fresh.is_some_and(|id| id != first), "{fresh:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_keeps_the_connection_but_stops_slot_notifications() {
    let net = start(0, 1, 0, 0).await;
    let url = url(&net, EndpointKind::WebSocket);
    let mut ws = ws_connect(&url).await.unwrap();
    let id = ws_call(&mut ws, 1, "slotSubscribe", json!([])).await["result"]
        .as_u64()
        .unwrap();
    slot_notification(&mut ws, Duration::from_secs(5))
        .await
        .expect("healthy: notified");
    net.faults.set("ws0", Fault::Frozen).unwrap();
    drain(&mut ws).await;
    let before = net.cluster.working_bank().slot();
    // then nothing, for 12 slots
    assert!(slot_notification(&mut ws, SLOT * 12).await.is_none());
    assert!(
        net.cluster.working_bank().slot() >= before + 5,
        "the cluster moved on meanwhile"
    );
    // a new subscriber is accepted and gets nothing either
    let mut late = ws_connect(&url).await.expect("still accepting");
    assert!(ws_call(&mut late, 1, "slotSubscribe", json!([])).await["result"].is_u64());
    assert!(slot_notification(&mut late, SLOT * 8).await.is_none());
    // the first connection is still open: it answers
    let off = ws_call(&mut ws, 2, "slotUnsubscribe", json!([id])).await;
    assert_eq!(off["result"], true);
    // healthy again: notifications resume
    net.faults.set("ws0", Fault::Healthy).unwrap();
    slot_notification(&mut late, Duration::from_secs(5))
        .await
        .expect("notified again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_notifies_slots_k_behind() {
    let net = start(0, 1, 0, 0).await;
    let url = url(&net, EndpointKind::WebSocket);
    let cluster = net.cluster.clone();
    eventually("30 slots", Duration::from_secs(10), || async {
        (cluster.working_bank().slot() > 30).then_some(())
    })
    .await;
    net.faults.set("ws0", Fault::Lagging { slots: 20 }).unwrap();
    // Every notification is for a slot the cluster reached no earlier than `before` (the
    // cluster moves to a slot before it sends that slot's event, so the event for `before`
    // itself may still come): bracketing makes the check exact however slowly the machine
    // runs.
    let before = net.cluster.working_bank().slot();
    let mut ws = ws_connect(&url).await.unwrap();
    ws_call(&mut ws, 1, "slotSubscribe", json!([])).await;
    for _ in 0..3 {
        let (_, info) = slot_notification(&mut ws, Duration::from_secs(5))
            .await
            .expect("notified");
        let after = net.cluster.working_bank().slot();
        let slot = info["slot"].as_u64().unwrap();
        assert!(
            before <= slot + 20 && slot + 20 <= after,
            "cluster {before}..={after}, notified {slot}"
        );
        assert_eq!(info["parent"].as_u64(), Some(slot - 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_holds_every_message() {
    let net = start(0, 1, 0, 0).await;
    net.faults.set("ws0", Fault::Slow { ms: 300 }).unwrap();
    let mut ws = ws_connect(&url(&net, EndpointKind::WebSocket))
        .await
        .unwrap();
    let t = Instant::now();
    let sub = ws_call(&mut ws, 1, "slotSubscribe", json!([])).await;
    assert!(sub["result"].is_u64());
    // a lower bound only: the hold guarantees it, whatever the machine load
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );
    // notifications still come, each held as long
    let before = net.cluster.working_bank().slot();
    let (_, info) = slot_notification(&mut ws, Duration::from_secs(5))
        .await
        .expect("notified");
    let slot = info["slot"].as_u64().unwrap();
    let now = net.cluster.working_bank().slot();
    assert!(
        slot + 3 <= now,
        "slot {slot} arrived when the cluster was at {now} (subscribed near {before})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_fail_the_given_share_of_subscribe_requests() {
    let net = start(0, 1, 0, 0).await;
    net.faults
        .set("ws0", Fault::Errors { percent: 50 })
        .unwrap();
    let mut ws = ws_connect(&url(&net, EndpointKind::WebSocket))
        .await
        .unwrap();
    let (mut ok, mut failed) = (Vec::new(), 0);
    for i in 0..10 {
        let r = ws_call(&mut ws, i, "slotSubscribe", json!([])).await;
        match r["result"].as_u64() {
            Some(id) => ok.push(id),
            None => {
                assert_eq!(r["error"]["code"], -32603, "{r}");
                failed += 1;
            }
        }
    }
    assert_eq!((ok.len(), failed), (5, 5), "exactly half fail");
    assert!(
        ok.iter().all(|id| *id == ok[0]),
        "one id, as on agave: {ok:?}"
    );
    // unsubscribing is not a subscribe request: it always works
    let r = ws_call(&mut ws, 100, "slotUnsubscribe", json!([ok[0]])).await;
    assert_eq!(r["result"], true, "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn down_drops_open_connections_and_closes_the_port() {
    let net = start(0, 1, 0, 0).await;
    let url = url(&net, EndpointKind::WebSocket);
    let mut ws = ws_connect(&url).await.unwrap();
    ws_call(&mut ws, 1, "slotSubscribe", json!([])).await;
    net.faults.set("ws0", Fault::Down).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match ws_next(&mut ws, Duration::from_secs(1)).await {
            Next::Closed => break,
            other => assert!(Instant::now() < deadline, "still open: {other:?}"),
        }
    }
    eventually("refused", Duration::from_secs(5), || async {
        (ws_connect(&url).await.err()? == "refused").then_some(())
    })
    .await;
    net.faults.set("ws0", Fault::Healthy).unwrap();
    let mut back = eventually("accepting again", Duration::from_secs(5), || async {
        ws_connect(&url).await.ok()
    })
    .await;
    ws_call(&mut back, 1, "slotSubscribe", json!([])).await;
    slot_notification(&mut back, Duration::from_secs(5))
        .await
        .expect("notified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flapping_alternates_between_serving_and_refusing() {
    let net = start(0, 1, 0, 0).await;
    let url = url(&net, EndpointKind::WebSocket);
    net.faults
        .set("ws0", Fault::Flapping { period_ms: 200 })
        .unwrap();
    let (mut served, mut refused) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(6);
    while (served < 2 || refused < 2) && Instant::now() < deadline {
        match ws_connect(&url).await {
            Ok(_) => served += 1,
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
