//! Solana CLI URL conventions: monikers and the PubSub URL that goes with an RPC URL.

/// Resolves solana CLI monikers to URLs.
pub fn resolve_url(url: &str) -> String {
    match url {
        "mainnet-beta" | "m" => "https://api.mainnet-beta.solana.com".into(),
        "devnet" | "d" => "https://api.devnet.solana.com".into(),
        "testnet" | "t" => "https://api.testnet.solana.com".into(),
        "localhost" | "l" => "http://127.0.0.1:8899".into(),
        other => other.into(),
    }
}

/// The PubSub URL a solana CLI would use for `http_url`: ws(s) scheme, port + 1.
pub fn derive_ws_url(http_url: &str) -> String {
    let (scheme, rest) = match http_url.split_once("://") {
        Some(("https", rest)) => ("wss", rest),
        Some((_, rest)) => ("ws", rest),
        None => ("ws", http_url),
    };
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let authority = match authority.rsplit_once(':') {
        Some((host, port)) => match port.parse::<u16>() {
            Ok(p) => format!("{host}:{}", p.saturating_add(1)),
            Err(_) => authority.to_string(),
        },
        None => authority.to_string(),
    };
    if path.is_empty() {
        format!("{scheme}://{authority}")
    } else {
        format!("{scheme}://{authority}/{path}")
    }
}
