//! `lifeline localnet`: a local cluster with the program loaded, and fault endpoints.
use std::path::PathBuf;
use std::time::{Duration, Instant};

use lifeline_keeper::signals::Shutdown;
use lifeline_localnet::faults::{kind_name, kind_names, parse_kind};
use lifeline_localnet::{EndpointKind, Localnet, LocalnetConfig};

use crate::chain::Failure;
use lifeline_localnet::say;

#[derive(clap::Args)]
pub struct LocalnetArgs {
    /// JSON-RPC port.
    #[arg(long, default_value_t = 8899)]
    pub rpc_port: u16,
    /// PubSub (WebSocket) port.
    #[arg(long, default_value_t = 8900)]
    pub ws_port: u16,
    /// Admin API port for changing endpoint faults (GET /endpoints,
    /// POST /endpoints/NAME/fault with e.g. `frozen` or `lagging 20`).
    #[arg(long, default_value_t = 8890)]
    pub admin_port: u16,
    /// Simulated endpoints to start in front of the cluster: N RPC endpoints (ep0, ep1, …),
    /// or by kind, e.g. `rpc=3,websocket=2,oracle=1,gateway=1,grpc=1` (ws0…, or0…, gw0…,
    /// and gr0… for Yellowstone gRPC; at most 64 of each).
    #[arg(long, default_value = "0", value_name = "N|KIND=N,…", value_parser = parse_endpoints)]
    pub endpoints: EndpointCounts,
    /// Port of the first simulated endpoint; the others follow (RPC, then WebSocket,
    /// oracle, gateway and gRPC endpoints).
    #[arg(long, default_value_t = 8901)]
    pub endpoint_base_port: u16,
    /// Slot duration in milliseconds.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(50..=10_000))]
    pub slot_ms: u64,
    /// Persist accounts in DIR, so a restart keeps the network state. Without it,
    /// state lives in memory only.
    #[arg(long, value_name = "DIR")]
    pub ledger: Option<PathBuf>,
}

/// How many simulated endpoints of each kind `--endpoints` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointCounts {
    pub rpc: usize,
    pub websocket: usize,
    pub oracle: usize,
    pub gateway: usize,
    pub grpc: usize,
}

const MAX_PER_KIND: usize = 64;

impl EndpointCounts {
    fn count_mut(&mut self, kind: EndpointKind) -> &mut usize {
        match kind {
            EndpointKind::WebSocket => &mut self.websocket,
            EndpointKind::Oracle => &mut self.oracle,
            EndpointKind::Gateway => &mut self.gateway,
            EndpointKind::Grpc => &mut self.grpc,
            _ => &mut self.rpc,
        }
    }
}

/// `N` (that many RPC endpoints) or `KIND=N,…` with kinds rpc, websocket (or ws),
/// oracle, gateway and grpc, each at most once.
fn parse_endpoints(s: &str) -> Result<EndpointCounts, String> {
    let number = |n: &str, what: &str| -> Result<usize, String> {
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("{what}: `{n}` is not a whole number"))?;
        if n > MAX_PER_KIND {
            return Err(format!("{what}: {n} is more than {MAX_PER_KIND}"));
        }
        Ok(n)
    };
    let mut counts = EndpointCounts::default();
    if !s.contains('=') {
        counts.rpc = number(s, "rpc endpoints")?;
        return Ok(counts);
    }
    let mut seen = Vec::new();
    for part in s.split(',') {
        let (kind, n) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}`: expected KIND=N, e.g. websocket=2"))?;
        let kind = parse_kind(kind.trim()).ok_or_else(|| {
            let known: Vec<&str> = kind_names().collect();
            format!(
                "unknown endpoint kind `{}` (kinds: {})",
                kind.trim(),
                known.join(", ")
            )
        })?;
        if seen.contains(&kind) {
            return Err(format!("{} is given twice", kind_name(kind)));
        }
        seen.push(kind);
        *counts.count_mut(kind) = number(n, kind_name(kind))?;
    }
    Ok(counts)
}

pub async fn run(args: LocalnetArgs) -> Result<(), Failure> {
    // Handlers first: a Ctrl-C during start-up must stop us cleanly.
    let mut shutdown =
        Shutdown::install().map_err(|e| Failure::world(format!("signal handlers: {e}")))?;
    lifeline_localnet::console::divert()
        .map_err(|e| Failure::world(format!("cannot set up the console: {e}")))?;
    let started = Instant::now();
    let config = LocalnetConfig {
        rpc_port: args.rpc_port,
        ws_port: args.ws_port,
        admin_port: Some(args.admin_port),
        endpoints: args.endpoints.rpc,
        websocket_endpoints: args.endpoints.websocket,
        oracle_endpoints: args.endpoints.oracle,
        gateway_endpoints: args.endpoints.gateway,
        grpc_endpoints: args.endpoints.grpc,
        endpoint_base_port: args.endpoint_base_port,
        slot_duration: Duration::from_millis(args.slot_ms),
        ledger: args.ledger.clone(),
        ..LocalnetConfig::default()
    };
    let net = Localnet::start(config)
        .await
        .map_err(|e| Failure::input(e.to_string()))?;
    say!(
        "Lifeline localnet ready in {} ms",
        started.elapsed().as_millis()
    );
    say!("  program id   {}", lifeline::ID);
    say!("  JSON-RPC     {}", net.rpc_url);
    say!("  WebSocket    {}", net.ws_url);
    if let Some(admin) = &net.admin_url {
        say!("  admin API    {admin}");
    }
    for ep in net.simulated() {
        say!(
            "  endpoint     {} {} ({})",
            ep.name,
            ep.url,
            kind_name(ep.kind)
        );
    }
    match &args.ledger {
        Some(dir) => say!("  ledger       {}", dir.display()),
        None => say!("  ledger       (in memory; use --ledger DIR to keep state)"),
    }
    if args.rpc_port != 8899 {
        say!(
            "  tip          export LIFELINE_URL={} so `-u` defaults to it",
            net.rpc_url
        );
    }
    say!("Ctrl-C to stop.");
    shutdown.wait().await;
    say!("stopping…");
    net.shutdown();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_takes_a_number_or_counts_by_kind() {
        let rpc = |n| EndpointCounts {
            rpc: n,
            ..Default::default()
        };
        assert_eq!(parse_endpoints("0"), Ok(rpc(0)));
        assert_eq!(parse_endpoints("4"), Ok(rpc(4)));
        assert_eq!(
            parse_endpoints("rpc=3,websocket=2,oracle=1,gateway=1,grpc=2"),
            Ok(EndpointCounts {
                rpc: 3,
                websocket: 2,
                oracle: 1,
                gateway: 1,
                grpc: 2,
            })
        );
        assert_eq!(
            parse_endpoints("ws=2"),
            Ok(EndpointCounts {
                websocket: 2,
                ..Default::default()
            })
        );
        for (bad, says) in [
            ("1000", "more than 64"),
            ("x", "not a whole number"),
            ("smtp=1", "unknown endpoint kind `smtp`"),
            ("rpc=x", "not a whole number"),
            ("rpc=-1", "not a whole number"),
            ("rpc=65", "more than 64"),
            ("rpc=1,rpc=2", "twice"),
            ("grpc=1,grpc=1", "grpc is given twice"),
            ("grpc=65", "grpc: 65 is more than 64"),
            ("rpc=1,oracle", "expected KIND=N"),
        ] {
            let e = parse_endpoints(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
