//! Endpoint kinds by name, and what each kind's URL must look like: one place for the
//! topology file, the CLI and the keeper.
use lifeline::state::EndpointKind;

/// Every kind with its file name, in code order.
pub const KINDS: [(EndpointKind, &str); 6] = [
    (EndpointKind::Rpc, "rpc"),
    (EndpointKind::WebSocket, "websocket"),
    (EndpointKind::Oracle, "oracle"),
    (EndpointKind::Gateway, "gateway"),
    (EndpointKind::Other, "other"),
    (EndpointKind::Grpc, "grpc"),
];

pub fn name(kind: EndpointKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("other", |(_, n)| n)
}

/// The kind named `s` (`ws` is accepted for websocket).
pub fn parse(s: &str) -> Result<EndpointKind, String> {
    if s == "ws" {
        return Ok(EndpointKind::WebSocket);
    }
    KINDS
        .iter()
        .find(|(_, n)| *n == s)
        .map(|(k, _)| *k)
        .ok_or_else(|| {
            let names: Vec<&str> = KINDS.iter().map(|(_, n)| *n).collect();
            format!("unknown endpoint kind {s:?} ({})", names.join(", "))
        })
}

/// The JSON pointer an oracle URL carries in its fragment (`…#/price/publish_time`).
pub fn oracle_pointer(url: &str) -> Option<&str> {
    url.split_once('#')
        .map(|(_, p)| p)
        .filter(|p| p.starts_with('/') && p.len() > 1)
}

/// A Unix timestamp in milliseconds from seconds, milliseconds or microseconds, as a
/// number or a numeric string.
fn timestamp_ms(v: &serde_json::Value) -> Option<u64> {
    let n = match v {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    let ms = if n < 1e11 {
        n * 1e3
    } else if n < 1e14 {
        n
    } else {
        n / 1e3
    };
    Some(ms as u64)
}

/// The timestamp (Unix milliseconds) an oracle's answer `body` holds where its URL's
/// pointer says: what the keeper judges an oracle's freshness by, and what `apply` and
/// `endpoint add` check before an oracle is registered.
pub fn oracle_timestamp_ms(url: &str, body: &[u8]) -> Result<u64, String> {
    let pointer = oracle_pointer(url)
        .ok_or("the URL has no JSON pointer fragment (…#/price/publish_time)")?;
    let doc: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let found = doc
        .pointer(pointer)
        .ok_or_else(|| format!("{pointer} finds nothing in the answer"))?;
    timestamp_ms(found).ok_or_else(|| format!("{pointer} finds {found}, not a Unix timestamp"))
}

/// Why an oracle's answer could not be checked, or what is wrong with it.
#[derive(Debug, PartialEq, Eq)]
pub enum OracleCheck {
    /// No answer (down, or not reachable from here): nothing to judge yet.
    NoAnswer(String),
    /// It answered, and its pointer finds no timestamp: the keepers would judge it down.
    Bad(String),
}

/// GETs an oracle's URL (without the fragment) and checks its pointer finds a timestamp:
/// what `lifeline apply` and `lifeline endpoint add` run before registering an oracle.
pub async fn check_oracle(
    http: &reqwest::Client,
    url: &str,
    timeout: std::time::Duration,
) -> Result<u64, OracleCheck> {
    let fetch = url.split_once('#').map_or(url, |(u, _)| u);
    let resp = http
        .get(fetch)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| OracleCheck::NoAnswer(e.to_string()))?;
    if !resp.status().is_success() {
        return Err(OracleCheck::NoAnswer(format!("HTTP {}", resp.status())));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| OracleCheck::NoAnswer(e.to_string()))?;
    oracle_timestamp_ms(url, &body).map_err(OracleCheck::Bad)
}

/// What `kind` needs of its URL, beyond the program's generic rules.
pub fn check_url(kind: EndpointKind, url: &str) -> Result<(), String> {
    let http = url.starts_with("http://") || url.starts_with("https://");
    let ws = url.starts_with("ws://") || url.starts_with("wss://");
    match kind {
        EndpointKind::Rpc | EndpointKind::Gateway | EndpointKind::Grpc if !http => Err(format!(
            "a {} endpoint is reached over http(s)://",
            name(kind)
        )),
        EndpointKind::WebSocket if !ws => {
            Err("a websocket endpoint is a ws:// or wss:// URL (Solana PubSub)".into())
        }
        EndpointKind::Oracle if !http => Err("an oracle endpoint is reached over http(s)://".into()),
        EndpointKind::Oracle if oracle_pointer(url).is_none() => Err(
            "an oracle URL names the timestamp to judge with a JSON pointer as its fragment, e.g. https://prices.example/latest#/price/publish_time"
                .into(),
        ),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ws_is_an_alias() {
        for (k, n) in KINDS {
            assert_eq!(parse(n), Ok(k));
            assert_eq!(name(k), n);
            assert_eq!(
                EndpointKind::from_u8(k as u8),
                Some(k),
                "codes match the program"
            );
        }
        assert_eq!(parse("ws"), Ok(EndpointKind::WebSocket));
        assert!(parse("smtp").unwrap_err().contains("rpc, websocket"));
    }

    #[test]
    fn each_kind_checks_its_url() {
        assert!(check_url(EndpointKind::Rpc, "https://a").is_ok());
        assert!(check_url(EndpointKind::Rpc, "wss://a").is_err());
        assert!(check_url(EndpointKind::WebSocket, "wss://a").is_ok());
        assert!(check_url(EndpointKind::WebSocket, "https://a").is_err());
        assert!(check_url(EndpointKind::Oracle, "https://p/latest#/price/t").is_ok());
        assert!(check_url(EndpointKind::Oracle, "https://p/latest").is_err());
        assert!(check_url(EndpointKind::Oracle, "https://p/latest#").is_err());
        assert!(check_url(EndpointKind::Gateway, "http://api/health").is_ok());
        assert!(check_url(EndpointKind::Other, "ws://anything").is_ok());
        assert_eq!(oracle_pointer("https://p/x?id=1#/a/0/b"), Some("/a/0/b"));
    }
}
