//! The floor cases both clients must judge alike (client/tests/floors_cases.json; the
//! TypeScript transport's test reads the same file).
use std::time::{Duration, Instant};

use lifeline_client::floors::Floors;
use serde_json::Value;

fn level(name: &str) -> usize {
    match name {
        "processed" => 0,
        "confirmed" => 1,
        _ => 2,
    }
}

fn slot(v: &Value) -> u64 {
    v.as_str()
        .expect("slots are strings")
        .parse()
        .expect("a slot")
}

#[test]
fn every_shared_floor_case_is_judged_as_written() {
    let cases: Value =
        serde_json::from_str(include_str!("floors_cases.json")).expect("the cases parse");
    let t0 = Instant::now();
    let at = |step: &Value| t0 + Duration::from_millis(step["at_ms"].as_u64().unwrap_or(0));
    for case in cases["cases"].as_array().expect("cases") {
        let name = case["name"].as_str().unwrap_or("?");
        let mut f = Floors::default();
        for (i, step) in case["steps"].as_array().expect("steps").iter().enumerate() {
            if let Some(t) = step.get("topology") {
                f.topology(t["epoch"].as_u64().unwrap(), slot(&t["slot"]), at(t));
            } else if let Some(a) = step.get("answer") {
                let got = match f.judge(
                    a["url"].as_str().unwrap(),
                    level(a["level"].as_str().unwrap()),
                    slot(&a["slot"]),
                    at(a),
                ) {
                    Ok(()) => "ok",
                    Err(why) if why.contains("future") => "future",
                    Err(_) => "stale",
                };
                assert_eq!(got, step["expect"], "{name}, step {i}");
            } else if let Some(l) = step.get("floor") {
                let expect: u64 = step["expect"].as_str().unwrap().parse().unwrap();
                assert_eq!(
                    f.floor(level(l["level"].as_str().unwrap())),
                    expect,
                    "{name}, step {i}"
                );
            }
        }
    }
}
