//! Keeper configuration, layered: the TOML file, then `LIFELINE_<FIELD>` environment
//! variables, then command-line flags. Every field is declared once, in `keeper_config!`
//! below: the struct, its defaults, the flags (`--probe-interval-ms`), the environment
//! variables and the documentation all come from that list. Each layer is read on its own,
//! so an error names where the bad value came from (the file and its line, the variable,
//! or the flag) and the field.
//!
//! (Over 400 lines: the field list, each layer's parsing, validation, the generated
//! flags, and their tests — one concept.)
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use serde::{Deserialize, Serialize};

pub const ENV_PREFIX: &str = "LIFELINE_";

/// One configuration field, for tools that list or document the configuration.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    pub name: &'static str,
    pub doc: &'static str,
    pub short: Option<char>,
}

macro_rules! keeper_config {
    ($( $(#[doc = $doc:literal])+ $name:ident : $ty:ty = $default:expr $(, short = $short:literal)? ;)+) => {
        #[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct KeeperConfig {
            $( $(#[doc = $doc])+ pub $name: $ty, )+
        }

        /// One layer: every field optional.
        #[derive(Clone, Debug, Default, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Layer {
            $( #[serde(default)] $name: Option<$ty>, )+
        }

        impl Layer {
            /// `other` wins where it has a value.
            fn over(self, other: Layer) -> Layer {
                Layer { $( $name: other.$name.or(self.$name), )+ }
            }

            fn resolve(self) -> Result<KeeperConfig, ConfigError> {
                Ok(KeeperConfig {
                    $( $name: match self.$name {
                        Some(v) => v,
                        None => default_for(stringify!($name), $default)?,
                    }, )+
                })
            }
        }

        /// Every field, in declaration order.
        pub const FIELDS: &[Field] = &[
            $( Field {
                name: stringify!($name),
                doc: concat!($($doc, "\n"),+),
                short: keeper_config!(@short $($short)?),
            }, )+
        ];
    };
    (@short $c:literal) => { Some($c) };
    (@short) => { None };
}

/// A field whose default is `None` is required.
fn default_for<T>(name: &'static str, default: Option<T>) -> Result<T, ConfigError> {
    default.ok_or(ConfigError::Invalid {
        field: name,
        message: "is required (in the file, as LIFELINE_NETWORK, or --network)".into(),
    })
}

keeper_config! {
    /// The Network account this keeper attests for (required).
    network: String = None;
    /// The keeper's keypair file (solana CLI convention).
    keypair: String = Some("~/.config/solana/id.json".into()), short = 'k';
    /// The keeper's own RPC: a URL or a moniker (mainnet-beta, devnet, testnet,
    /// localhost). It sends the keeper's transactions and is part of the lag reference.
    url: String = Some("localhost".into()), short = 'u';
    /// More RPCs to fail over to when `url` does not answer; also part of the lag
    /// reference.
    rpc_urls: Vec<String> = Some(Vec::new());
    /// The keeper's PubSub: the reference slot is followed by a slot subscription here
    /// (between polls of the RPCs). Default: derived from `url` (http→ws, port + 1).
    ws_url: Option<String> = Some(None);
    /// The commitment the keeper reads the network at (processed, confirmed, finalized).
    /// Probes always compare processed slots.
    commitment: String = Some("confirmed".into());
    /// How often each endpoint is probed; a suspect endpoint is probed again after a
    /// quarter of this.
    probe_interval_ms: u64 = Some(1_000);
    /// Per-probe timeout. Default: the policy's `latency_down_ms`, so a slow endpoint is
    /// judged by its latency; below that, a probe that times out counts as an error.
    probe_timeout_ms: Option<u64> = Some(None);
    /// Recent probes the error rate is measured over. Default: derived from the policy so
    /// one failure crosses `error_degraded_bps` (10 % → 10 probes).
    window_probes: Option<u32> = Some(None);
    /// More RPCs whose slot joins the lag reference (never used to send).
    reference_rpc_urls: Vec<String> = Some(Vec::new());
    /// Probes in flight at most.
    max_concurrency: usize = Some(32);
    /// Attestations an hour at most, on average (a burst of 10 above it): what an endpoint
    /// can make a keeper spend. Default: three times the heartbeat's rate, at least 120.
    max_attestations_per_hour: Option<u32> = Some(None);
    /// Cap on the priority fee, micro-lamports per compute unit.
    priority_fee_cap_microlamports: u64 = Some(100_000);
    /// The turn length for permissionless transactions: per action the keepers take turns
    /// on the wall clock in windows this long, in an order derived from the action; a
    /// keeper sends only in the first quarter of its own window, after re-reading the
    /// chain at `processed`, so a transaction has three quarters of a window to land
    /// before the next keeper looks (0 = everyone sends at once, and races).
    jitter_ms: u64 = Some(1_000);
    /// Where /metrics and /healthz are served.
    metrics_addr: String = Some("127.0.0.1:9464".into());
    /// "text" or "json".
    log_format: String = Some("text".into());
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

    pub fn ws_url(&self) -> String {
        self.ws_url
            .clone()
            .unwrap_or_else(|| derive_ws_url(&resolve_url(&self.url)))
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

    /// The effective per-probe timeout under `policy`.
    pub fn probe_timeout(&self, policy: &lifeline::state::Policy) -> std::time::Duration {
        std::time::Duration::from_millis(
            self.probe_timeout_ms
                .unwrap_or(policy.latency_down_ms as u64)
                .clamp(1, MAX_PROBE_TIMEOUT_MS),
        )
    }

    /// The attestations an hour this keeper may send under `policy`.
    pub fn attestations_per_hour(&self, policy: &lifeline::state::Policy) -> u32 {
        self.max_attestations_per_hour
            .unwrap_or_else(|| crate::cap::default_per_hour(policy))
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
            .is_some_and(|t| !(1..=MAX_PROBE_TIMEOUT_MS).contains(&t))
        {
            return Err(invalid("probe_timeout_ms", "must be 1..=10000"));
        }
        if self.window_probes.is_some_and(|w| !(1..=100).contains(&w)) {
            return Err(invalid("window_probes", "must be 1..=100"));
        }
        if !(1..=1_024).contains(&self.max_concurrency) {
            return Err(invalid("max_concurrency", "must be 1..=1024"));
        }
        if self.max_attestations_per_hour == Some(0) {
            return Err(invalid("max_attestations_per_hour", "must be at least 1"));
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

/// One value from `origin` (an environment variable or a flag) as a one-field layer.
fn single(origin: &str, field: &str, raw: &str) -> Result<Layer, ConfigError> {
    let as_layer = |value: toml::Value| {
        let mut table = toml::Table::new();
        table.insert(field.to_string(), value);
        Layer::deserialize(table)
    };
    // `--keypair 123` is a string field given something that looks like a number: fall
    // back to the plain string before blaming the value.
    as_layer(layer_value(field, raw))
        .or_else(|first| as_layer(toml::Value::String(raw.to_string())).map_err(|_| first))
        .map_err(|e| ConfigError::Parse {
            origin: origin.to_string(),
            message: format!("`{field}`: {}", e.message()),
        })
}

/// The file layer; an error names the file, the line and the field.
fn file_layer(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    toml::from_str::<Layer>(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start].matches('\n').count() + 1)
            .map_or(String::new(), |l| format!(" line {l}"));
        ConfigError::Parse {
            origin: format!("{}{line}", path.display()),
            message: e.message().to_string(),
        }
    })
}

/// What `load` also has to say: settings that look meant for the keeper but are not.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Warnings(pub Vec<String>);

/// Builds the configuration: `file` (if any), then `env` (LIFELINE_<FIELD>), then
/// `overrides` (field, value) from flags; then validates it. Unknown `LIFELINE_*`
/// variables are returned as warnings.
pub fn load_with_warnings(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &[(&str, String)],
) -> Result<(KeeperConfig, Warnings), ConfigError> {
    let mut layer = match file {
        Some(path) => file_layer(path)?,
        None => Layer::default(),
    };
    let mut warnings = Warnings::default();
    let env: BTreeMap<String, String> = env.into_iter().collect();
    let known: Vec<String> = FIELDS
        .iter()
        .map(|f| format!("{ENV_PREFIX}{}", f.name.to_uppercase()))
        .collect();
    for (var, raw) in &env {
        let Some(name) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        match FIELDS.iter().find(|f| f.name.to_uppercase() == name) {
            Some(f) => layer = layer.over(single(var, f.name, raw)?),
            None if ["URL", "KEYPAIR", "PROGRAM_LOGS"].contains(&name) => {}
            None => warnings.0.push(format!(
                "{var} is not a keeper setting and is ignored (known: {})",
                known.join(", ")
            )),
        }
    }
    for (field, raw) in overrides {
        layer = layer.over(single(
            &format!("--{}", field.replace('_', "-")),
            field,
            raw,
        )?);
    }
    let config = layer.resolve()?;
    config.validate()?;
    Ok((config, warnings))
}

/// `load_with_warnings` without the warnings.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
    overrides: &[(&str, String)],
) -> Result<KeeperConfig, ConfigError> {
    load_with_warnings(file, env, overrides).map(|(c, _)| c)
}

/// Every field as a flag (`--probe-interval-ms`, and `-k`/`-u` for the keypair and URL),
/// generated from `FIELDS`.
#[derive(Clone, Debug, Default)]
pub struct Flags(pub Vec<(&'static str, String)>);

impl clap::Args for Flags {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd.args(FIELDS.iter().map(|f| {
            let mut arg = clap::Arg::new(f.name)
                .long(f.name.replace('_', "-"))
                .value_name("VALUE")
                .help(f.doc.split_whitespace().collect::<Vec<_>>().join(" "));
            if let Some(c) = f.short {
                arg = arg.short(c);
            }
            arg
        }))
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl clap::FromArgMatches for Flags {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self(
            FIELDS
                .iter()
                .filter_map(|f| m.get_one::<String>(f.name).map(|v| (f.name, v.clone())))
                .collect(),
        ))
    }
    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// A probe never waits longer than this, whatever the policy says (a policy may put
/// `latency_down_ms` at 10 minutes; an endpoint must not hold a probe that long).
pub const MAX_PROBE_TIMEOUT_MS: u64 = 10_000;

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
