//! Simulated gateway and oracle endpoints: a plain HTTP client, healthy and under each
//! fault that applies.
mod common;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use lifeline_localnet::{EndpointKind, Fault};

fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The oracle's publish_time, found with the JSON pointer its URL carries.
async fn publish_time(url: &str) -> u64 {
    let (status, body) = get(url).await.expect("answers");
    assert_eq!(status, 200, "{body}");
    let pointer = url.split_once('#').expect("a fragment").1;
    body.pointer(pointer)
        .and_then(|v| v.as_u64())
        .unwrap_or_else(|| panic!("{pointer} in {body}"))
}

/// `n` requests: (successes, HTTP 500s, HTTP 503s); anything else fails the test.
async fn tally(url: &str, n: usize) -> (usize, usize, usize) {
    let mut counts = (0, 0, 0);
    for _ in 0..n {
        match get(url).await {
            Ok((200, _)) => counts.0 += 1,
            Ok((500, _)) => counts.1 += 1,
            Ok((503, _)) => counts.2 += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    counts
}

/// Down closes the port and healthy opens it again; flapping alternates.
async fn down_and_flapping(net: &lifeline_localnet::Localnet, name: &str, url: &str) {
    net.faults.set(name, Fault::Down).unwrap();
    eventually("refused", Duration::from_secs(5), || async {
        (get(url).await.err()? == "refused").then_some(())
    })
    .await;
    net.faults.set(name, Fault::Healthy).unwrap();
    eventually("serving again", Duration::from_secs(5), || async {
        (get(url).await.ok()?.0 == 200).then_some(())
    })
    .await;
    net.faults
        .set(name, Fault::Flapping { period_ms: 200 })
        .unwrap();
    let (mut served, mut refused) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(6);
    while (served < 2 || refused < 2) && Instant::now() < deadline {
        match get(url).await {
            Ok((200, _)) => served += 1,
            Err(e) if e == "refused" => refused += 1,
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert!(
        served >= 2 && refused >= 2,
        "served {served}, refused {refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_answers_health_and_suffers_the_transport_faults() {
    let net = start(0, 0, 0, 1).await;
    let url = url(&net, EndpointKind::Gateway);
    assert!(url.ends_with("/health"), "{url}");
    let (status, body) = get(&url).await.unwrap();
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("ok")),
        "{body}"
    );
    let root = url.trim_end_matches("/health");
    assert_eq!(get(root).await.unwrap().0, 200, "GET / answers too");

    // no slot, no timestamp: frozen, lagging and forked serve as healthy
    for fault in [Fault::Frozen, Fault::Lagging { slots: 20 }, Fault::Forked] {
        net.faults.set("gw0", fault).unwrap();
        assert_eq!(get(&url).await.unwrap().0, 200, "{fault}");
    }

    net.faults.set("gw0", Fault::Slow { ms: 300 }).unwrap();
    let t = Instant::now();
    assert_eq!(get(&url).await.unwrap().0, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );

    net.faults
        .set("gw0", Fault::Errors { percent: 50 })
        .unwrap();
    assert_eq!(
        tally(&url, 20).await,
        (10, 5, 5),
        "half fail, 500 and 503 in turn"
    );

    down_and_flapping(&net, "gw0", &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oracle_publishes_the_wall_clock_at_the_pointer_its_url_names() {
    let net = start(0, 0, 1, 0).await;
    let url = url(&net, EndpointKind::Oracle);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with("/price#/price/publish_time"), "{url}");
    let (status, body) = get(&url).await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(body["symbol"], "SOL/USD");
    assert_eq!(body["price"]["price"], "150.0");
    let t = publish_time(&url).await;
    assert!(
        now_s().abs_diff(t) <= 1,
        "publish_time {t}, now {}",
        now_s()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_oracle_answers_ok_with_a_publish_time_that_stops() {
    let net = start(0, 0, 1, 0).await;
    let url = url(&net, EndpointKind::Oracle);
    net.faults.set("or0", Fault::Frozen).unwrap();
    let frozen = publish_time(&url).await;
    tokio::time::sleep(Duration::from_millis(2_100)).await;
    assert_eq!(publish_time(&url).await, frozen, "200 OK, time stopped");
    assert!(now_s() >= frozen + 2);
    net.faults.set("or0", Fault::Healthy).unwrap();
    assert!(publish_time(&url).await >= frozen + 2, "and it catches up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_oracle_publishes_k_slots_late() {
    let net = start(0, 0, 1, 0).await;
    let url = url(&net, EndpointKind::Oracle);
    // 100 slots of 50 ms: 5 s behind the wall clock
    net.faults
        .set("or0", Fault::Lagging { slots: 100 })
        .unwrap();
    let before = now_s();
    let t = publish_time(&url).await;
    let after = now_s();
    assert!(
        before - 6 <= t && t <= after - 4,
        "publish_time {t}, wall clock {before}..={after}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oracle_suffers_the_transport_faults() {
    let net = start(0, 0, 1, 0).await;
    let url = url(&net, EndpointKind::Oracle);
    net.faults.set("or0", Fault::Slow { ms: 300 }).unwrap();
    let t = Instant::now();
    publish_time(&url).await;
    assert!(
        t.elapsed() >= Duration::from_millis(300),
        "{:?}",
        t.elapsed()
    );

    net.faults
        .set("or0", Fault::Errors { percent: 50 })
        .unwrap();
    assert_eq!(
        tally(&url, 20).await,
        (10, 5, 5),
        "half fail, 500 and 503 in turn"
    );

    net.faults.set("or0", Fault::Forked).unwrap();
    let t = publish_time(&url).await;
    assert!(
        now_s().abs_diff(t) <= 1,
        "forked means nothing to an oracle"
    );

    down_and_flapping(&net, "or0", &url).await;
}
