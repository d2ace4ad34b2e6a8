//! Keeper configuration, layered: the TOML file, then `LIFELINE_<FIELD>` environment
//! variables, then command-line overrides. Every default is a named function; every error
//! names the field and says what is wrong.
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};

pub const ENV_PREFIX: &str = "LIFELINE_";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeeperConfig {
    /// The Network account this keeper attests for (required).
    pub network: String,
    /// The keeper's keypair file (solana CLI convention).
    #[serde(default = "default_keypair")]
    pub keypair: String,
    /// The keeper's own RPC: a URL or a moniker (mainnet-beta, devnet, testnet, localhost).
    #[serde(default = "default_url")]
    pub url: String,
    /// More RPCs to fail over to when `url` does not answer.
    #[serde(default)]
    pub rpc_urls: Vec<String>,
    /// PubSub URL; derived from `url` when absent (http→ws, port + 1).
    #[serde(default)]
    pub ws_url: Option<String>,
    #[serde(default = "default_commitment")]
    pub commitment: String,
    #[serde(default = "default_probe_interval_ms")]
    pub probe_interval_ms: u64,
    /// Per-probe timeout; default: the policy's `latency_down_ms`, so a slow endpoint is
    /// judged down by latency (a shorter timeout makes it at most degraded).
    #[serde(default)]
    pub probe_timeout_ms: Option<u64>,
    /// Recent probes the error rate is measured over; default: derived from the policy so
    /// that one failure crosses `error_degraded_bps` (10 % → 10 probes).
    #[serde(default)]
    pub window_probes: Option<u32>,
    /// Extra RPCs whose slot joins the lag reference (beyond the probed endpoints).
    #[serde(default)]
    pub reference_rpc_urls: Vec<String>,
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Cap on the priority fee, micro-lamports per compute unit.
    #[serde(default = "default_priority_fee_cap")]
    pub priority_fee_cap_microlamports: u64,
    /// The turn length for permissionless transactions: for each action the keepers take
    /// turns in an order derived from the action, each waiting its position × this before
    /// sending (and re-checking the chain first). About one slot keeps races rare.
    #[serde(default = "default_jitter_ms")]
    pub jitter_ms: u64,
    /// Where /metrics and /healthz are served.
    #[serde(default = "default_metrics_addr")]
    pub metrics_addr: String,
    /// "text" or "json".
    #[serde(default = "default_log_format")]
    pub log_format: String,
}

fn default_keypair() -> String {
    "~/.config/solana/id.json".into()
}
fn default_url() -> String {
    "localhost".into()
}
fn default_commitment() -> String {
    "confirmed".into()
}
fn default_probe_interval_ms() -> u64 {
    1_000
}
fn default_max_concurrency() -> usize {
    32
}
fn default_priority_fee_cap() -> u64 {
    100_000
}
fn default_jitter_ms() -> u64 {
    400
}
fn default_metrics_addr() -> String {
    "127.0.0.1:9464".into()
}
fn default_log_format() -> String {
    "text".into()
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("{origin}: {message}")]
    Parse { origin: String, message: String },
    #[error("invalid `{field}`: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
}

fn invalid(field: &'static str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field,
        message: message.into(),
    }
}

pub use lifeline_client::urls::{derive_ws_url, resolve_url};

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(rest))
            .unwrap_or_else(|| PathBuf::from(path)),
        None => PathBuf::from(path),
    }
}

fn check_http_url(field: &'static str, url: &str) -> Result<(), ConfigError> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    if rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace)) {
        Ok(())
    } else {
        Err(invalid(field, format!("{url:?} is not an http(s) URL or a moniker (mainnet-beta, devnet, testnet, localhost)")))
    }
}

impl KeeperConfig {
    pub fn network(&self) -> Result<Pubkey, ConfigError> {
        Pubkey::from_str(&self.network).map_err(|_| {
            invalid(
                "network",
                format!("{:?} is not a valid address", self.network),
            )
        })
    }

    /// The keeper's RPC URLs in failover order (`url` first).
    pub fn rpc_urls(&self) -> Vec<String> {
        std::iter::once(&self.url)
            .chain(self.rpc_urls.iter())
            .map(|u| resolve_url(u))
            .collect()
    }

    /// The commitment chain state is read at (probes always compare processed slots).
    pub fn commitment_config(&self) -> solana_commitment_config::CommitmentConfig {
        use solana_commitment_config::CommitmentConfig;
        match self.commitment.as_str() {
            "processed" => CommitmentConfig::processed(),
            "finalized" => CommitmentConfig::finalized(),
            _ => CommitmentConfig::confirmed(),
        }
    }

    pub fn ws_url(&self) -> String {
        self.ws_url
            .clone()
            .unwrap_or_else(|| derive_ws_url(&resolve_url(&self.url)))
    }

    /// The effective per-probe timeout under `policy`.
    pub fn probe_timeout(&self, policy: &lifeline::state::Policy) -> std::time::Duration {
        std::time::Duration::from_millis(
            self.probe_timeout_ms
                .unwrap_or(policy.latency_down_ms as u64)
                .max(1),
        )
    }

    /// The effective error window under `policy`.
    pub fn error_window(&self, policy: &lifeline::state::Policy) -> usize {
        self.window_probes
            .map_or_else(|| crate::window::error_window(policy), |w| w as usize)
    }

    /// How soon a suspect endpoint is probed again: a quarter of the interval, at least
    /// 50 ms.
    pub fn confirm_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis((self.probe_interval_ms / 4).max(50))
    }

    pub fn keypair_path(&self) -> PathBuf {
        expand_home(&self.keypair)
    }

    /// Checks every value; the first problem is reported, naming the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.network()?;
        for url in self.rpc_urls() {
            check_http_url("url / rpc_urls", &url)?;
        }
        for url in &self.reference_rpc_urls {
            check_http_url("reference_rpc_urls", &resolve_url(url))?;
        }
        if let Some(ws) = &self.ws_url {
            if !(ws.starts_with("ws://") || ws.starts_with("wss://")) {
                return Err(invalid("ws_url", format!("{ws:?} is not a ws(s) URL")));
            }
        }
        if !matches!(
            self.commitment.as_str(),
            "processed" | "confirmed" | "finalized"
        ) {
            return Err(invalid(
                "commitment",
                format!(
                    "{:?}: expected processed, confirmed or finalized",
                    self.commitment
                ),
            ));
        }
        if !(100..=60_000).contains(&self.probe_interval_ms) {
            return Err(invalid("probe_interval_ms", "must be 100..=60000"));
        }
        if self
            .probe_timeout_ms
            .is_some_and(|t| !(1..=60_000).contains(&t))
        {
            return Err(invalid("probe_timeout_ms", "must be 1..=60000"));
        }
        if self.window_probes.is_some_and(|w| !(1..=100).contains(&w)) {
            return Err(invalid("window_probes", "must be 1..=100"));
        }
        if !(1..=1_024).contains(&self.max_concurrency) {
            return Err(invalid("max_concurrency", "must be 1..=1024"));
        }
        if self.jitter_ms > 60_000 {
            return Err(invalid("jitter_ms", "must be at most 60000"));
        }
        SocketAddr::from_str(&self.metrics_addr).map_err(|_| {
            invalid(
                "metrics_addr",
                format!(
                    "{:?} is not an address like 127.0.0.1:9464",
                    self.metrics_addr
                ),
            )
        })?;
        if !matches!(self.log_format.as_str(), "text" | "json") {
            return Err(invalid(
                "log_format",
                format!("{:?}: expected text or json", self.log_format),
            ));
        }
        Ok(())
    }

    /// The effective configuration as TOML (what `check-config` prints).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

/// The field names, for the environment layer (only these are read from LIFELINE_*).
const FIELDS: &[&str] = &[
    "network",
    "keypair",
    "url",
    "rpc_urls",
    "ws_url",
    "commitment",
    "probe_interval_ms",
    "probe_timeout_ms",
    "window_probes",
    "reference_rpc_urls",
    "max_concurrency",
    "priority_fee_cap_microlamports",
    "jitter_ms",
    "metrics_addr",
    "log_format",
];

/// A value from the environment or a flag: TOML syntax when it parses as such (numbers,
/// booleans, arrays), otherwise a plain string; list fields also accept `a,b,c`.
fn layer_value(field: &str, raw: &str) -> toml::Value {
    if let Ok(table) = format!("v = {raw}").parse::<toml::Table>() {
        if let Some(v) = table.get("v") {
            return v.clone();
        }
    }
    if field.ends_with("urls") {
        return toml::Value::Array(
            raw.split(',')
                .map(|s| toml::Value::String(s.trim().to_string()))
                .collect(),
        );
    }
    toml::Value::String(raw.to_string())
}

/// Builds the configuration: `file` (if any), then `env` (LIFELINE_<FIELD>), then
/// `overrides` (field, value) from flags; then validates it.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &[(&str, String)],
) -> Result<KeeperConfig, ConfigError> {
    let mut table = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
            text.parse::<toml::Table>()
                .map_err(|e| ConfigError::Parse {
                    origin: path.display().to_string(),
                    message: e.message().to_string(),
                })?
        }
        None => toml::Table::new(),
    };
    let env: BTreeMap<String, String> = env.into_iter().collect();
    for field in FIELDS {
        if let Some(raw) = env.get(&format!("{ENV_PREFIX}{}", field.to_uppercase())) {
            table.insert(field.to_string(), layer_value(field, raw));
        }
    }
    for (field, raw) in overrides {
        table.insert(field.to_string(), layer_value(field, raw));
    }
    let origin = file.map_or("configuration".to_string(), |p| p.display().to_string());
    // Re-read the merged layers as TOML text: toml's errors then carry a span, which
    // names the key a type error is about.
    let text = toml::to_string(&table).map_err(|e| ConfigError::Parse {
        origin: origin.clone(),
        message: e.to_string(),
    })?;
    let config: KeeperConfig = toml::from_str(&text).map_err(|e| {
        let key = e
            .span()
            .and_then(|span| text[..span.start].lines().last().map(str::to_string))
            .and_then(|line| line.split('=').next().map(|k| k.trim().to_string()))
            .filter(|k| !k.is_empty());
        let message = e.message().to_string();
        ConfigError::Parse {
            origin,
            message: match key {
                Some(k) => format!("`{k}`: {message}"),
                None => message,
            },
        }
    })?;
    config.validate()?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET: &str = "5fFtQJk9m4BH217PNfKfcQEhMHBPS7GVgDtvBp1zH6eJ";

    fn file(contents: &str) -> tempfile_lite::TempFile {
        tempfile_lite::TempFile::new(contents)
    }

    /// A tiny temp-file helper (no extra dependency).
    mod tempfile_lite {
        pub struct TempFile(pub std::path::PathBuf);
        impl TempFile {
            pub fn new(contents: &str) -> Self {
                static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let p = std::env::temp_dir()
                    .join(format!("lifeline-keeper-{}-{n}.toml", std::process::id()));
                std::fs::write(&p, contents).unwrap();
                Self(p)
            }
        }
        impl Drop for TempFile {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn defaults_then_file_then_env_then_flags() {
        let f = file(&format!(
            "network = \"{NET}\"\nprobe_interval_ms = 2000\nurl = \"devnet\"\n"
        ));
        let c = load(Some(&f.0), vec![], &[]).unwrap();
        let policy: lifeline::state::Policy = lifeline::state::PolicyParams::default().into();
        assert_eq!(c.probe_interval_ms, 2_000);
        assert_eq!(
            (
                c.probe_timeout(&policy).as_millis(),
                c.error_window(&policy)
            ),
            (policy.latency_down_ms as u128, 10),
            "timeout and window follow the policy"
        );
        let set = load(
            Some(&f.0),
            vec![],
            &[
                ("probe_timeout_ms", "300".into()),
                ("window_probes", "4".into()),
            ],
        )
        .unwrap();
        assert_eq!(
            (
                set.probe_timeout(&policy).as_millis(),
                set.error_window(&policy)
            ),
            (300, 4)
        );
        assert_eq!(set.confirm_interval().as_millis(), 500);
        assert_eq!(
            c.rpc_urls(),
            vec!["https://api.devnet.solana.com".to_string()]
        );
        assert_eq!(c.ws_url(), "wss://api.devnet.solana.com");

        let env = vec![
            ("LIFELINE_PROBE_INTERVAL_MS".to_string(), "3000".to_string()),
            (
                "LIFELINE_RPC_URLS".to_string(),
                "http://a:1,http://b:2".to_string(),
            ),
            (
                "LIFELINE_RPC_URL".to_string(),
                "ignored: not a field".to_string(),
            ),
        ];
        let c = load(Some(&f.0), env.clone(), &[]).unwrap();
        assert_eq!(c.probe_interval_ms, 3_000, "env beats file");
        assert_eq!(
            c.rpc_urls(),
            vec!["https://api.devnet.solana.com", "http://a:1", "http://b:2"]
        );

        let c = load(
            Some(&f.0),
            env,
            &[
                ("probe_interval_ms", "4000".into()),
                ("url", "localhost".into()),
            ],
        )
        .unwrap();
        assert_eq!(c.probe_interval_ms, 4_000, "flags beat env");
        assert_eq!(c.rpc_urls()[0], "http://127.0.0.1:8899");
        assert_eq!(c.ws_url(), "ws://127.0.0.1:8900");
        assert!(c.to_toml().contains("probe_interval_ms = 4000"));
    }

    #[test]
    fn everything_can_come_from_the_environment() {
        let c = load(None, vec![("LIFELINE_NETWORK".into(), NET.into())], &[]).unwrap();
        assert_eq!(c.network().unwrap().to_string(), NET);
        assert!(c.keypair_path().ends_with(".config/solana/id.json"));
    }

    #[test]
    fn bad_input_names_the_problem() {
        let missing = load(None, vec![], &[]).unwrap_err();
        assert!(missing.to_string().contains("network"), "{missing}");

        let f = file(&format!("network = \"{NET}\"\nprobe_intervall_ms = 5\n"));
        let unknown = load(Some(&f.0), vec![], &[]).unwrap_err().to_string();
        assert!(unknown.contains("probe_intervall_ms"), "{unknown}");

        let f = file("network = \n");
        let malformed = load(Some(&f.0), vec![], &[]).unwrap_err();
        assert!(
            matches!(malformed, ConfigError::Parse { .. }),
            "{malformed}"
        );

        let nofile = load(Some(Path::new("/nonexistent/keeper.toml")), vec![], &[]).unwrap_err();
        assert!(
            nofile.to_string().contains("/nonexistent/keeper.toml"),
            "{nofile}"
        );

        let base = vec![("LIFELINE_NETWORK".to_string(), NET.to_string())];
        let cases: Vec<(&str, &str, &str)> = vec![
            ("network", "not-a-key", "network"),
            ("url", "ftp://x", "url"),
            ("ws_url", "http://x", "ws_url"),
            ("commitment", "max", "commitment"),
            ("probe_interval_ms", "10", "probe_interval_ms"),
            ("probe_timeout_ms", "0", "probe_timeout_ms"),
            ("probe_interval_ms", "\"soon\"", "probe_interval_ms"),
            ("window_probes", "0", "window_probes"),
            ("metrics_addr", "everywhere", "metrics_addr"),
            ("log_format", "xml", "log_format"),
            ("max_concurrency", "-1", "max_concurrency"),
        ];
        for (field, value, needle) in cases {
            let err = load(None, base.clone(), &[(field, value.to_string())])
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{field}={value}: {err}");
        }
    }

    #[test]
    fn ws_urls_follow_the_solana_cli_convention() {
        assert_eq!(
            derive_ws_url("http://127.0.0.1:8899"),
            "ws://127.0.0.1:8900"
        );
        assert_eq!(
            derive_ws_url("https://rpc.example.com/abc"),
            "wss://rpc.example.com/abc"
        );
        assert_eq!(
            derive_ws_url("https://rpc.example.com:443/x"),
            "wss://rpc.example.com:444/x"
        );
    }
}
