//! Topology as code: a declarative file (network, policy, keepers, endpoints) is diffed
//! against the chain into an ordered plan of instructions. Applying the plan and planning
//! again yields an empty plan: `apply` is idempotent.
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use lifeline::instructions::*;
use lifeline::state::{EndpointKind, Network, PolicyParams, Role, Topology};
use lifeline_client::{ix, pda};
use serde::Deserialize;
use solana_instruction::Instruction;

/// The file format (`migrations/topology.toml`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub network: NetworkSpec,
    #[serde(default)]
    pub policy: PolicyParamsSpec,
    #[serde(default, rename = "keeper")]
    pub keepers: Vec<KeeperSpec>,
    #[serde(default, rename = "endpoint")]
    pub endpoints: Vec<EndpointSpec>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    pub name: String,
    /// Pause/resume only. Absent = no guardian.
    pub guardian: Option<String>,
}

/// Policy fields, each optional: what is absent keeps Lifeline's default.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicyParamsSpec {
    pub staleness_slots: Option<u64>,
    pub liveness_slots: Option<u64>,
    pub stall_slots: Option<u32>,
    pub cooldown_slots: Option<u64>,
    pub quarantine_base_slots: Option<u64>,
    pub quarantine_max_slots: Option<u64>,
    pub probation_slots: Option<u64>,
    pub latency_degraded_ms: Option<u32>,
    pub latency_down_ms: Option<u32>,
    pub lag_degraded_slots: Option<u32>,
    pub lag_down_slots: Option<u32>,
    pub error_degraded_bps: Option<u16>,
    pub error_down_bps: Option<u16>,
    pub quorum: Option<u8>,
    pub breach_windows: Option<u8>,
    pub recovery_windows: Option<u8>,
}

impl PolicyParamsSpec {
    pub fn resolve(&self) -> PolicyParams {
        let d = PolicyParams::default();
        PolicyParams {
            staleness_slots: self.staleness_slots.unwrap_or(d.staleness_slots),
            liveness_slots: self.liveness_slots.unwrap_or(d.liveness_slots),
            stall_slots: self.stall_slots.unwrap_or(d.stall_slots),
            cooldown_slots: self.cooldown_slots.unwrap_or(d.cooldown_slots),
            quarantine_base_slots: self
                .quarantine_base_slots
                .unwrap_or(d.quarantine_base_slots),
            quarantine_max_slots: self.quarantine_max_slots.unwrap_or(d.quarantine_max_slots),
            probation_slots: self.probation_slots.unwrap_or(d.probation_slots),
            latency_degraded_ms: self.latency_degraded_ms.unwrap_or(d.latency_degraded_ms),
            latency_down_ms: self.latency_down_ms.unwrap_or(d.latency_down_ms),
            lag_degraded_slots: self.lag_degraded_slots.unwrap_or(d.lag_degraded_slots),
            lag_down_slots: self.lag_down_slots.unwrap_or(d.lag_down_slots),
            error_degraded_bps: self.error_degraded_bps.unwrap_or(d.error_degraded_bps),
            error_down_bps: self.error_down_bps.unwrap_or(d.error_down_bps),
            quorum: self.quorum.unwrap_or(d.quorum),
            breach_windows: self.breach_windows.unwrap_or(d.breach_windows),
            recovery_windows: self.recovery_windows.unwrap_or(d.recovery_windows),
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KeeperSpec {
    pub pubkey: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub provider: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    #[serde(default)]
    pub group: u8,
    /// rpc, websocket, oracle, gateway or other.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// primary, standby or retired.
    #[serde(default = "default_role")]
    pub role: String,
    pub url: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub priority: u8,
}

fn default_kind() -> String {
    "rpc".into()
}
fn default_role() -> String {
    "standby".into()
}

pub fn kind_code(kind: &str) -> Result<u8, String> {
    Ok(match kind {
        "rpc" => EndpointKind::Rpc,
        "websocket" | "ws" => EndpointKind::WebSocket,
        "oracle" => EndpointKind::Oracle,
        "gateway" => EndpointKind::Gateway,
        "other" => EndpointKind::Other,
        other => {
            return Err(format!(
                "unknown endpoint kind {other:?} (rpc, websocket, oracle, gateway, other)"
            ))
        }
    } as u8)
}

pub fn role_of(role: &str) -> Result<Role, String> {
    match role {
        "primary" => Ok(Role::Primary),
        "standby" => Ok(Role::Standby),
        "retired" => Ok(Role::Retired),
        other => Err(format!(
            "unknown role {other:?} (primary, standby, retired)"
        )),
    }
}

impl Spec {
    pub fn parse(text: &str) -> Result<Self, String> {
        let spec: Spec = toml::from_str(text).map_err(|e| e.to_string())?;
        spec.check()?;
        Ok(spec)
    }

    /// What the program would refuse anyway, caught before anything is sent.
    fn check(&self) -> Result<(), String> {
        for k in &self.keepers {
            Pubkey::from_str(&k.pubkey)
                .map_err(|_| format!("keeper {:?} is not a valid address", k.pubkey))?;
        }
        if let Some(g) = &self.network.guardian {
            Pubkey::from_str(g).map_err(|_| format!("guardian {g:?} is not a valid address"))?;
        }
        for e in &self.endpoints {
            kind_code(&e.kind)?;
            role_of(&e.role)?;
        }
        for g in 0..=u8::MAX {
            let primaries = self
                .endpoints
                .iter()
                .filter(|e| e.group == g && e.role == "primary")
                .count();
            if primaries > 1 {
                return Err(format!(
                    "group {g} declares {primaries} primaries; at most one"
                ));
            }
        }
        for (i, e) in self.endpoints.iter().enumerate() {
            if self.endpoints[..i]
                .iter()
                .any(|o| o.group == e.group && o.url == e.url)
            {
                return Err(format!(
                    "endpoint {} is declared twice in group {}",
                    e.url, e.group
                ));
            }
        }
        Ok(())
    }

    fn guardian(&self) -> Pubkey {
        self.network
            .guardian
            .as_deref()
            .map(|g| Pubkey::from_str(g).expect("checked"))
            .unwrap_or_default()
    }
}

/// One step of a plan: a human description and the instruction.
pub struct Step {
    pub description: String,
    pub instruction: Instruction,
}

/// The chain as `apply` sees it (None: the network does not exist yet).
pub struct Current<'a> {
    pub network: &'a Network,
    pub topology: &'a Topology,
}

/// Diffs `spec` against `current` into ordered steps. Endpoints are matched by
/// (group, url); keepers by key. Order: create, policy, guardian, keepers added,
/// endpoints added and updated, the declared primaries promoted, endpoints removed,
/// keepers removed.
pub fn plan(spec: &Spec, authority: &Pubkey, current: Option<Current>) -> Vec<Step> {
    let network = pda::network(authority, &spec.network.name).0;
    let policy = spec.policy.resolve();
    let mut steps = Vec::new();
    let step = |description: String, instruction: Instruction| Step {
        description,
        instruction,
    };

    let Some(cur) = current else {
        steps.push(step(
            format!("create network {:?} ({network})", spec.network.name),
            ix::create_network(
                authority,
                CreateNetworkArgs {
                    name: spec.network.name.clone(),
                    policy,
                    guardian: spec.network.guardian.as_ref().map(|_| spec.guardian()),
                },
            ),
        ));
        return finish(spec, authority, &network, steps, None);
    };

    if PolicyParams::from(&cur.network.policy) != policy {
        steps.push(step(
            "update policy".into(),
            ix::update_policy(&network, authority, policy),
        ));
    }
    if cur.network.guardian != spec.guardian() {
        steps.push(step(
            format!("set guardian {}", spec.guardian()),
            ix::set_guardian(&network, authority, &spec.guardian()),
        ));
    }
    finish(spec, authority, &network, steps, Some(cur))
}

fn finish(
    spec: &Spec,
    authority: &Pubkey,
    network: &Pubkey,
    mut steps: Vec<Step>,
    cur: Option<Current>,
) -> Vec<Step> {
    let step = |description: String, instruction: Instruction| Step {
        description,
        instruction,
    };
    let on_chain_keepers: Vec<Pubkey> = cur
        .as_ref()
        .map(|c| c.network.active_keepers().map(|k| k.keeper).collect())
        .unwrap_or_default();
    let wanted_keepers: Vec<Pubkey> = spec
        .keepers
        .iter()
        .map(|k| Pubkey::from_str(&k.pubkey).expect("checked"))
        .collect();
    for (k, key) in spec.keepers.iter().zip(&wanted_keepers) {
        if !on_chain_keepers.contains(key) {
            steps.push(step(
                format!("add keeper {key} ({}/{})", k.region, k.provider),
                ix::add_keeper(
                    network,
                    authority,
                    AddKeeperArgs {
                        keeper: *key,
                        region: k.region.clone(),
                        provider: k.provider.clone(),
                    },
                ),
            ));
        }
    }

    let endpoints = cur
        .as_ref()
        .map(|c| c.topology.endpoints().to_vec())
        .unwrap_or_default();
    // Endpoints are added as standbys (or retired) unless their group has no primary on
    // chain; declared primaries are then promoted with a manual failover.
    let mut promote: Vec<(u8, String)> = Vec::new();
    for e in &spec.endpoints {
        let role = role_of(&e.role).expect("checked");
        let kind = kind_code(&e.kind).expect("checked");
        match endpoints
            .iter()
            .find(|x| x.group == e.group && x.url() == e.url)
        {
            None => {
                let group_has_primary = endpoints
                    .iter()
                    .any(|x| x.group == e.group && x.role() == Some(Role::Primary));
                let initial = if role == Role::Primary && group_has_primary {
                    Role::Standby
                } else {
                    role
                };
                if role == Role::Primary && group_has_primary {
                    promote.push((e.group, e.url.clone()));
                }
                steps.push(step(
                    format!(
                        "add endpoint {} to group {} as {:?}",
                        e.url, e.group, initial
                    ),
                    ix::add_endpoint(
                        network,
                        authority,
                        AddEndpointArgs {
                            group: e.group,
                            kind,
                            role: initial as u8,
                            priority: e.priority,
                            url: e.url.clone(),
                            region: e.region.clone(),
                            provider: e.provider.clone(),
                        },
                    ),
                ));
            }
            Some(x) => {
                let mut args = UpdateEndpointArgs {
                    endpoint_id: x.id,
                    ..Default::default()
                };
                if x.region() != e.region {
                    args.region = Some(e.region.clone());
                }
                if x.provider() != e.provider {
                    args.provider = Some(e.provider.clone());
                }
                if x.priority != e.priority {
                    args.priority = Some(e.priority);
                }
                match (x.role(), role) {
                    (Some(Role::Primary), Role::Primary)
                    | (Some(Role::Standby), Role::Standby)
                    | (Some(Role::Retired), Role::Retired) => {}
                    // A quarantined endpoint stays under the chain's control unless retired.
                    (Some(Role::Quarantined), Role::Standby)
                    | (Some(Role::Quarantined), Role::Primary) => {}
                    (_, Role::Primary) => promote.push((e.group, e.url.clone())),
                    (Some(Role::Primary), _) => {} // demoted by the promotion of the declared primary
                    (_, r) => args.role = Some(r as u8),
                }
                let changed = args.region.is_some()
                    || args.provider.is_some()
                    || args.priority.is_some()
                    || args.role.is_some();
                if changed {
                    steps.push(step(
                        format!("update endpoint {} ({})", x.id, e.url),
                        ix::update_endpoint(network, authority, args),
                    ));
                }
            }
        }
    }
    for (group, url) in promote {
        steps.push(Step {
            description: format!("promote {url} to primary of group {group} (manual failover)"),
            // The target id and epoch are only known once the earlier steps landed: the
            // applier resolves them (see `resolve_promotion`).
            instruction: Instruction::new_with_bytes(lifeline::ID, url.as_bytes(), vec![]),
        });
    }
    for x in &endpoints {
        if !spec
            .endpoints
            .iter()
            .any(|e| e.group == x.group && e.url == x.url())
        {
            steps.push(step(
                format!("remove endpoint {} ({})", x.id, x.url()),
                ix::remove_endpoint(network, authority, x.id),
            ));
        }
    }
    for key in &on_chain_keepers {
        if !wanted_keepers.contains(key) {
            steps.push(step(
                format!("remove keeper {key}"),
                ix::remove_keeper(network, authority, key),
            ));
        }
    }
    steps
}

/// Differences `apply` cannot change, said out loud instead of silently ignored: a
/// keeper's region/provider labels are set when it is added (no instruction updates them;
/// remove and re-add the keeper to change them, which resets its report).
pub fn warnings(spec: &Spec, current: &Current) -> Vec<String> {
    spec.keepers
        .iter()
        .filter_map(|k| {
            let key = Pubkey::from_str(&k.pubkey).ok()?;
            let on_chain = current.network.active_keepers().find(|e| e.keeper == key)?;
            (on_chain.region() != k.region || on_chain.provider() != k.provider).then(|| {
                format!(
                    "keeper {key}: labels on chain are {}/{}, the file says {}/{}; labels are not updated in place (remove and re-add the keeper to change them)",
                    on_chain.region(),
                    on_chain.provider(),
                    k.region,
                    k.provider
                )
            })
        })
        .collect()
}

/// A promotion step's placeholder carries the target URL; the real `force_failover` needs
/// the endpoint id and the current epoch, known only after the earlier steps landed.
pub fn resolve_promotion(
    step: &Step,
    spec: &Spec,
    authority: &Pubkey,
    topology: &Topology,
) -> Option<Instruction> {
    if !step.description.starts_with("promote ") {
        return None;
    }
    let url = String::from_utf8(step.instruction.data.clone()).ok()?;
    let group = spec
        .endpoints
        .iter()
        .find(|e| e.url == url && e.role == "primary")?
        .group;
    let target = topology
        .endpoints()
        .iter()
        .find(|e| e.group == group && e.url() == url)?;
    let network = pda::network(authority, &spec.network.name).0;
    Some(ix::force_failover(
        &network,
        authority,
        ForceFailoverArgs {
            group,
            to_id: target.id,
            expected_group_epoch: topology.group_epoch(group),
            quarantine_old: false,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;
    use lifeline::state::text;

    const K1: &str = "5fFtQJk9m4BH217PNfKfcQEhMHBPS7GVgDtvBp1zH6eJ";

    fn spec() -> Spec {
        Spec::parse(&format!(
            r#"
            [network]
            name = "dex"
            [policy]
            cooldown_slots = 300
            [[keeper]]
            pubkey = "{K1}"
            region = "eu"
            provider = "aws"
            [[endpoint]]
            url = "https://a.example"
            role = "primary"
            [[endpoint]]
            url = "https://b.example"
            priority = 2
            "#
        ))
        .unwrap()
    }

    fn descriptions(steps: &[Step]) -> Vec<String> {
        steps.iter().map(|s| s.description.clone()).collect()
    }

    /// The chain state after applying `spec` to nothing.
    fn applied(spec: &Spec) -> (Box<Network>, Box<Topology>) {
        let mut n: Box<Network> = Box::new(Network::zeroed());
        n.policy = spec.policy.resolve().into();
        n.keepers[0].keeper = Pubkey::from_str(K1).unwrap();
        n.keepers[0].region = text::to_fixed("eu");
        n.keeper_count = 1;
        let mut t: Box<Topology> = Box::new(Topology::zeroed());
        t.epoch = 4;
        for (i, e) in spec.endpoints.iter().enumerate() {
            t.endpoints[i].id = i as u32;
            t.endpoints[i].url = text::to_fixed(&e.url);
            t.endpoints[i].url_len = e.url.len() as u8;
            t.endpoints[i].role = role_of(&e.role).unwrap() as u8;
            t.endpoints[i].priority = e.priority;
        }
        t.endpoint_count = spec.endpoints.len() as u8;
        t.next_endpoint_id = spec.endpoints.len() as u32;
        (n, t)
    }

    #[test]
    fn a_new_network_is_created_with_everything() {
        let me = Pubkey::new_unique();
        let steps = plan(&spec(), &me, None);
        assert_eq!(
            descriptions(&steps),
            vec![
                format!("create network \"dex\" ({})", pda::network(&me, "dex").0),
                format!("add keeper {K1} (eu/aws)"),
                "add endpoint https://a.example to group 0 as Primary".to_string(),
                "add endpoint https://b.example to group 0 as Standby".to_string(),
            ]
        );
    }

    #[test]
    fn an_applied_spec_plans_nothing() {
        let s = spec();
        let (n, t) = applied(&s);
        let mut n = n;
        n.keepers[0].provider = text::to_fixed("aws");
        let steps = plan(
            &s,
            &Pubkey::new_unique(),
            Some(Current {
                network: &n,
                topology: &t,
            }),
        );
        assert!(steps.is_empty(), "{:?}", descriptions(&steps));
    }

    #[test]
    fn changes_become_the_right_steps_in_order() {
        let s = spec();
        let (n, t) = applied(&s);
        let mut changed = s.clone();
        changed.policy.cooldown_slots = Some(600);
        changed.endpoints[1].role = "primary".into();
        changed.endpoints[0].role = "standby".into();
        changed.endpoints.push(EndpointSpec {
            group: 1,
            kind: "ws".into(),
            role: "primary".into(),
            url: "wss://c.example".into(),
            region: "us".into(),
            provider: "gcp".into(),
            priority: 0,
        });
        changed.keepers.clear();
        let me = Pubkey::new_unique();
        let steps = plan(
            &changed,
            &me,
            Some(Current {
                network: &n,
                topology: &t,
            }),
        );
        assert_eq!(
            descriptions(&steps),
            vec![
                "update policy".to_string(),
                "add endpoint wss://c.example to group 1 as Primary".to_string(),
                "promote https://b.example to primary of group 0 (manual failover)".to_string(),
                format!("remove keeper {K1}"),
            ]
        );
        // an endpoint dropped from the file is removed
        let mut fewer = s.clone();
        fewer.endpoints.pop();
        let steps = plan(
            &fewer,
            &me,
            Some(Current {
                network: &n,
                topology: &t,
            }),
        );
        assert_eq!(
            descriptions(&steps),
            vec!["remove endpoint 1 (https://b.example)".to_string()]
        );
    }

    #[test]
    fn keeper_label_changes_are_warned_about_not_ignored() {
        let s = spec();
        let (mut n, t) = applied(&s);
        n.keepers[0].provider = text::to_fixed("aws");
        assert!(warnings(
            &s,
            &Current {
                network: &n,
                topology: &t
            }
        )
        .is_empty());
        n.keepers[0].provider = text::to_fixed("gcp");
        let w = warnings(
            &s,
            &Current {
                network: &n,
                topology: &t,
            },
        );
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("eu/gcp") && w[0].contains("eu/aws"), "{w:?}");
    }

    #[test]
    fn bad_files_are_refused_before_anything_is_sent() {
        for (text, needle) in [
            ("[network]\nname = \"x\"\nbogus = 1\n", "bogus"),
            ("[network]\nname = \"x\"\n[[keeper]]\npubkey = \"nope\"\n", "nope"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\nrole = \"boss\"\n", "boss"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\nkind = \"smtp\"\n", "smtp"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\nrole = \"primary\"\n[[endpoint]]\nurl = \"https://b\"\nrole = \"primary\"\n", "2 primaries"),
            ("[network]\nname = \"x\"\n[[endpoint]]\nurl = \"https://a\"\n[[endpoint]]\nurl = \"https://a\"\n", "twice"),
            ("[policy]\nquorum = 3\n", "network"),
        ] {
            let err = Spec::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }
}
