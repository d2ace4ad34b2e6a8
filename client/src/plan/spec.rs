//! The topology file (`migrations/topology.toml`): what a network should look like. Read
//! into typed values (roles, kinds and keys parsed once, here) and checked against the
//! program's own rules before anything is planned, so a bad file costs nothing.
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use lifeline::constants::{MAX_ENDPOINTS, MAX_GROUPS, MAX_KEEPERS};
use lifeline::engine::policy::validate_thresholds;
use lifeline::state::{text, EndpointKind, PolicyParams, Role};
use serde::{Deserialize, Deserializer};

use crate::kinds;

/// A problem with the file, naming where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    /// e.g. "network", "policy.lag_down_slots", "endpoint https://a (group 0)".
    pub at: String,
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

impl std::error::Error for SpecError {}

fn err(at: impl Into<String>, message: impl Into<String>) -> SpecError {
    SpecError {
        at: at.into(),
        message: message.into(),
    }
}

/// The whole file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub network: NetworkSpec,
    /// Policy fields by name (see `PolicyParams::FIELDS`); absent ones keep the default.
    #[serde(default)]
    pub policy: BTreeMap<String, u64>,
    #[serde(default, rename = "keeper")]
    pub keepers: Vec<KeeperSpec>,
    #[serde(default, rename = "endpoint")]
    pub endpoints: Vec<EndpointSpec>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub name: String,
    /// The network's address, when it is not derived from the signer and `name` (for
    /// example after the authority moved to another key).
    #[serde(default, deserialize_with = "opt_pubkey")]
    pub address: Option<Pubkey>,
    /// Who created the network (its address derives from the creator and `name`); default:
    /// the signer.
    #[serde(default, deserialize_with = "opt_pubkey")]
    pub creator: Option<Pubkey>,
    /// May pause and resume automation, nothing else. Absent = no guardian.
    #[serde(default, deserialize_with = "opt_pubkey")]
    pub guardian: Option<Pubkey>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeeperSpec {
    #[serde(deserialize_with = "pubkey")]
    pub pubkey: Pubkey,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub provider: String,
}

/// The roles a file may declare. `primary` declares the group's *initial* primary: once
/// the chain has failed a group over, `apply` reports the difference and leaves it.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SpecRole {
    Primary,
    Standby,
    Retired,
}

impl From<SpecRole> for Role {
    fn from(r: SpecRole) -> Role {
        match r {
            SpecRole::Primary => Role::Primary,
            SpecRole::Standby => Role::Standby,
            SpecRole::Retired => Role::Retired,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    #[serde(default)]
    pub group: u8,
    /// rpc, websocket (ws), oracle, gateway, grpc or other.
    #[serde(default = "rpc", deserialize_with = "kind")]
    pub kind: EndpointKind,
    #[serde(default = "standby")]
    pub role: SpecRole,
    pub url: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub priority: u8,
}

impl EndpointSpec {
    /// How errors name this endpoint.
    pub fn label(&self) -> String {
        format!("endpoint {} (group {})", self.url, self.group)
    }
}

fn rpc() -> EndpointKind {
    EndpointKind::Rpc
}
fn standby() -> SpecRole {
    SpecRole::Standby
}

fn pubkey<'de, D: Deserializer<'de>>(d: D) -> Result<Pubkey, D::Error> {
    let s = String::deserialize(d)?;
    Pubkey::from_str(&s)
        .map_err(|_| serde::de::Error::custom(format!("{s:?} is not a valid address")))
}

fn opt_pubkey<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Pubkey>, D::Error> {
    pubkey(d).map(Some)
}

fn kind<'de, D: Deserializer<'de>>(d: D) -> Result<EndpointKind, D::Error> {
    let s = String::deserialize(d)?;
    kinds::parse(&s).map_err(serde::de::Error::custom)
}

impl Spec {
    /// Reads and checks a topology file.
    pub fn parse(text: &str) -> Result<Self, SpecError> {
        let spec: Spec = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| format!("line {}", text[..s.start].lines().count().max(1)))
                .unwrap_or_else(|| "file".into());
            err(at, e.message().to_string())
        })?;
        spec.check()?;
        Ok(spec)
    }

    /// The policy the file asks for: the defaults, overridden field by field.
    pub fn policy(&self) -> Result<PolicyParams, SpecError> {
        let mut p = PolicyParams::default();
        for (name, value) in &self.policy {
            let at = format!("policy.{name}");
            let field = PolicyParams::field(name).ok_or_else(|| {
                let known: Vec<&str> = PolicyParams::FIELDS.iter().map(|f| f.name).collect();
                err(&at, format!("unknown field (known: {})", known.join(", ")))
            })?;
            if !(field.set)(&mut p, *value) {
                return Err(err(at, format!("{value} is larger than {}", field.max)));
            }
        }
        validate_thresholds(&p.into()).map_err(|e| err(format!("policy.{}", e.field), e.rule))?;
        Ok(p)
    }

    /// Everything the program would refuse, caught before anything is sent: names, labels,
    /// URLs (and what each kind needs), limits, policy ranges, one primary per group.
    pub fn check(&self) -> Result<(), SpecError> {
        if !text::valid_name(&self.network.name) {
            return Err(err(
                "network.name",
                format!(
                    "{:?} must be 1 to 32 bytes of printable ASCII (it is part of the network's address)",
                    self.network.name
                ),
            ));
        }
        self.policy()?;
        if self.keepers.len() > MAX_KEEPERS {
            return Err(err("keeper", format!("at most {MAX_KEEPERS} keepers")));
        }
        for (i, k) in self.keepers.iter().enumerate() {
            let at = format!("keeper {}", k.pubkey);
            check_labels(&at, &k.region, &k.provider)?;
            if self.keepers[..i].iter().any(|o| o.pubkey == k.pubkey) {
                return Err(err(at, "declared twice"));
            }
        }
        if self.endpoints.len() > MAX_ENDPOINTS {
            return Err(err(
                "endpoint",
                format!("at most {MAX_ENDPOINTS} endpoints"),
            ));
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            let at = e.label();
            if e.group as usize >= MAX_GROUPS {
                return Err(err(at, format!("group must be 0 to {}", MAX_GROUPS - 1)));
            }
            if !text::valid_url(&e.url) {
                return Err(err(
                    at,
                    "the URL must be at most 128 bytes of printable ASCII with an http(s) or ws(s) scheme",
                ));
            }
            if let Err(problem) = kinds::check_url(e.kind, &e.url) {
                return Err(err(at, problem));
            }
            check_labels(&at, &e.region, &e.provider)?;
            if self.endpoints[..i]
                .iter()
                .any(|o| o.group == e.group && o.url == e.url)
            {
                return Err(err(at, "declared twice"));
            }
        }
        for g in 0..MAX_GROUPS as u8 {
            let primaries = self
                .endpoints
                .iter()
                .filter(|e| e.group == g && e.role == SpecRole::Primary)
                .count();
            if primaries > 1 {
                return Err(err(
                    format!("group {g}"),
                    format!("{primaries} primaries declared; at most one"),
                ));
            }
        }
        if self.network.address.is_some() && self.network.creator.is_some() {
            return Err(err("network", "give `address` or `creator`, not both"));
        }
        Ok(())
    }

    /// The network's address: `address`, or derived from `creator` (default: `signer`)
    /// and the name.
    pub fn network_address(&self, signer: &Pubkey) -> Pubkey {
        self.network.address.unwrap_or_else(|| {
            crate::pda::network(&self.network.creator.unwrap_or(*signer), &self.network.name).0
        })
    }
}

fn check_labels(at: &str, region: &str, provider: &str) -> Result<(), SpecError> {
    for (what, label) in [("region", region), ("provider", provider)] {
        if !text::valid_label(label) {
            return Err(err(
                at,
                format!("{what} {label:?} must be at most 16 bytes of printable ASCII"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "5fFtQJk9m4BH217PNfKfcQEhMHBPS7GVgDtvBp1zH6eJ";

    fn parse_err(text: &str) -> SpecError {
        Spec::parse(text).unwrap_err()
    }

    #[test]
    fn roles_kinds_keys_and_policy_are_parsed_into_their_types() {
        let s = Spec::parse(&format!(
            "[network]\nname = \"dex\"\nguardian = \"{K1}\"\n[policy]\ncooldown_slots = 300\n\
             [[keeper]]\npubkey = \"{K1}\"\n[[endpoint]]\nurl = \"wss://a.example\"\nkind = \"ws\"\nrole = \"primary\"\n"
        ))
        .unwrap();
        assert_eq!(s.network.guardian, Some(Pubkey::from_str(K1).unwrap()));
        assert_eq!(s.policy().unwrap().cooldown_slots, 300);
        assert_eq!(
            s.policy().unwrap().staleness_slots,
            PolicyParams::default().staleness_slots
        );
        assert_eq!(
            (s.endpoints[0].kind, s.endpoints[0].role),
            (EndpointKind::WebSocket, SpecRole::Primary)
        );
        let me = Pubkey::new_unique();
        assert_eq!(s.network_address(&me), crate::pda::network(&me, "dex").0);
    }

    #[test]
    fn bad_files_are_refused_naming_the_problem() {
        let long = "n".repeat(33);
        let long_url = format!("https://{}", "a".repeat(130));
        let cases: Vec<(String, &str)> = vec![
            ("[network]\nname = \"x\"\nbogus = 1\n".into(), "bogus"),
            (format!("[network]\nname = \"{long}\"\n"), "network.name"),
            ("[network]\nname = \"\"\n".into(), "network.name"),
            ("[network]\nname = \"x\"\n[[keeper]]\npubkey = \"nope\"\n".into(), "\"nope\" is not a valid address"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\nrole = \"boss\"\n".into(), "boss"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\nkind = \"smtp\"\n".into(), "smtp"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"ftp://a\"\n".into(), "endpoint ftp://a (group 0): the URL"),
            (format!("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"{long_url}\"\n"), "128 bytes"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\nregion = \"a very long region name\"\n".into(), "region"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\ngroup = 8\n".into(), "group must be"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\nrole = \"primary\"\n[[endpoint]]\nurl = \"https://b\"\nrole = \"primary\"\n".into(), "2 primaries"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\n[[endpoint]]\nurl = \"https://a\"\n".into(), "twice"),
            ("[network]\nname = \"x\"\n[policy]\nlag_down_slots = 5\nlag_degraded_slots = 9\n".into(), "policy.lag_degraded_slots"),
            ("[network]\nname = \"x\"\n[policy]\nquorum = 300\n".into(), "policy.quorum: 300 is larger than 255"),
            ("[network]\nname = \"x\"\n[policy]\ncooldown = 1\n".into(), "policy.cooldown: unknown field"),
            ("[policy]\nquorum = 3\n".into(), "network"),
        ];
        for (text, needle) in cases {
            let e = parse_err(&text).to_string();
            assert!(e.contains(needle), "{needle:?} not in {e:?}");
        }
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let e = parse_err("[network]\nname = \"x\"\n\n[[endpoint]]\nurl = \n");
        assert!(e.at.starts_with("line "), "{e}");
    }
}
