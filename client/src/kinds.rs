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
