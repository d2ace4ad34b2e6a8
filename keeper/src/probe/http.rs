//! HTTP services: `gateway` (GET the URL; any 2xx within the timeout is healthy) and
//! `oracle` (GET the URL; its freshness is the age of the Unix timestamp the URL's
//! fragment points at, as a JSON pointer: `https://prices.example/latest#/price/publish_time`;
//! the fragment is never sent). An oracle's age becomes slots at 400 ms a slot and is
//! judged by the policy's lag thresholds.
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::read_capped;
use super::rpc::{probe_latency, transport_outcome};
use crate::window::{Freshness, Outcome, Probe};

/// The slot length an oracle's age is measured in (mainnet's target).
pub const SLOT_MS: u64 = 400;

fn finish(endpoint_id: u32, outcome: Outcome, started: Instant, timeout: Duration) -> Probe {
    Probe {
        endpoint_id,
        outcome,
        latency_ms: probe_latency(outcome, started, timeout),
        divergent: false,
    }
}

/// GETs `url` (without its fragment); the body when the answer is 2xx, at most
/// `MAX_ANSWER_BYTES` (a health page or a price document is small).
async fn get(http: &reqwest::Client, url: &str, timeout: Duration) -> Result<Vec<u8>, Outcome> {
    let url = url.split_once('#').map_or(url, |(u, _)| u);
    let resp = http
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| transport_outcome(&e))?;
    if !resp.status().is_success() {
        return Err(Outcome::Failed);
    }
    read_capped(resp).await
}

/// Probes an HTTP service: 2xx within the timeout.
pub async fn probe_gateway(http: &reqwest::Client, id: u32, url: &str, timeout: Duration) -> Probe {
    let started = Instant::now();
    let outcome = match get(http, url, timeout).await {
        Ok(_) => Outcome::Ok(Freshness::Untimed),
        Err(o) => o,
    };
    finish(id, outcome, started, timeout)
}

/// Probes an oracle: the age of the timestamp its URL's fragment points at.
pub async fn probe_oracle(http: &reqwest::Client, id: u32, url: &str, timeout: Duration) -> Probe {
    let started = Instant::now();
    let outcome = match get(http, url, timeout).await {
        Err(o) => o,
        Ok(body) => match oracle_age_ms(url, &body, unix_ms()) {
            Ok(Age::Past(age_ms)) => Outcome::Ok(Freshness::AgeSlots(age_ms / SLOT_MS)),
            Ok(Age::Future) => Outcome::Future,
            Err(e) => {
                tracing::debug!(endpoint = id, "oracle answer: {e}");
                Outcome::Failed
            }
        },
    };
    finish(id, outcome, started, timeout)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// How far an oracle's timestamp may be ahead of the keeper's clock (clocks differ a
/// little); further is an answer from the future — a feed cannot look fresh forever by
/// publishing a timestamp far ahead.
pub const FUTURE_TOLERANCE_MS: u64 = 5_000;

/// How old an oracle's data is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Age {
    /// This many ms old (0 for a timestamp slightly ahead: clocks differ).
    Past(u64),
    /// Stamped further ahead of the keeper's clock than `FUTURE_TOLERANCE_MS`.
    Future,
}

/// How old the oracle's data is: `now_ms` minus the timestamp the URL's pointer finds in
/// `body`.
pub fn oracle_age_ms(url: &str, body: &[u8], now_ms: u64) -> Result<Age, String> {
    let ts = lifeline_client::kinds::oracle_timestamp_ms(url, body)?;
    if ts > now_ms.saturating_add(FUTURE_TOLERANCE_MS) {
        return Ok(Age::Future);
    }
    Ok(Age::Past(now_ms.saturating_sub(ts)))
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any body an oracle answers, behind any pointer, is an age, the future, or a
        /// failed answer — never a panic.
        #[test]
        fn any_oracle_answer_is_judged_without_a_panic(
            pointer in "(/[a-z0-9~]{0,6}){0,6}",
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
            now in proptest::prelude::any::<u64>(),
        ) {
            let _ = oracle_age_ms(&format!("http://o/p#{pointer}"), &body, now);
        }

        /// A JSON document with an arbitrary timestamp where the pointer looks.
        #[test]
        fn any_timestamp_is_judged_without_a_panic(ts in proptest::prelude::any::<i128>(), now in proptest::prelude::any::<u64>()) {
            let body = format!(r#"{{"price":{{"publish_time":{ts}}}}}"#);
            let _ = oracle_age_ms("http://o/p#/price/publish_time", body.as_bytes(), now);
        }
    }

    #[test]
    fn an_oracle_age_comes_from_the_pointed_timestamp_in_any_unit() {
        let url = "http://o/latest?id=SOL#/parsed/0/price/publish_time";
        let now = 1_800_000_000_000;
        let doc = |t: &str| format!(r#"{{"parsed":[{{"price":{{"publish_time":{t}}}}}]}}"#);
        assert_eq!(
            oracle_age_ms(url, doc("1800000000").as_bytes(), now),
            Ok(Age::Past(0))
        );
        assert_eq!(
            oracle_age_ms(url, doc("1799999998").as_bytes(), now),
            Ok(Age::Past(2_000)),
            "seconds"
        );
        assert_eq!(
            oracle_age_ms(url, doc("1799999999600").as_bytes(), now),
            Ok(Age::Past(400)),
            "ms"
        );
        assert_eq!(
            oracle_age_ms(url, doc("1799999999000000").as_bytes(), now),
            Ok(Age::Past(1_000)),
            "µs"
        );
        assert_eq!(
            oracle_age_ms(url, doc("\"1799999990\"").as_bytes(), now),
            Ok(Age::Past(10_000))
        );
        assert_eq!(
            oracle_age_ms(url, doc("1800000005").as_bytes(), now),
            Ok(Age::Past(0)),
            "a little ahead: clocks differ"
        );
        // far ahead: a frozen feed cannot hide behind a timestamp in the future
        assert_eq!(
            oracle_age_ms(url, doc("1800000006").as_bytes(), now),
            Ok(Age::Future)
        );
        assert_eq!(
            oracle_age_ms(url, doc("99999999999999999").as_bytes(), now),
            Ok(Age::Future)
        );
    }

    #[test]
    fn an_oracle_answer_without_a_timestamp_is_an_error_that_says_why() {
        let now = 1_800_000_000_000;
        let e = oracle_age_ms("http://o#/a/b", br#"{"a":{"c":1}}"#, now).unwrap_err();
        assert!(e.contains("/a/b finds nothing"), "{e}");
        let e = oracle_age_ms("http://o#/a", br#"{"a":"soon"}"#, now).unwrap_err();
        assert!(e.contains("not a Unix timestamp"), "{e}");
        let e = oracle_age_ms("http://o#/a", b"<html>", now).unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        assert!(oracle_age_ms("http://o", br#"{"a":1}"#, now).is_err());
    }
}
