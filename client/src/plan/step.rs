//! One step of a plan: what it changes, in words (with every field's old and new value),
//! and the instruction that does it.
use anchor_lang::prelude::Pubkey;
use lifeline::instructions::*;
use lifeline::state::{EndpointKind, PolicyParams, Role, Topology};
use solana_instruction::Instruction;

use crate::{ix, kinds};

/// One field that changes: `cooldown_slots 150 → 300`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub field: &'static str,
    pub from: String,
    pub to: String,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |v: &str| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.to_string()
            }
        };
        write!(
            f,
            "{} {} → {}",
            self.field,
            shown(&self.from),
            shown(&self.to)
        )
    }
}

fn list(changes: &[Change]) -> String {
    changes
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    CreateNetwork {
        name: String,
        policy: PolicyParams,
        guardian: Option<Pubkey>,
    },
    AddKeeper {
        keeper: Pubkey,
        region: String,
        provider: String,
    },
    UpdateKeeper {
        keeper: Pubkey,
        region: String,
        provider: String,
        changes: Vec<Change>,
    },
    UpdatePolicy {
        policy: PolicyParams,
        changes: Vec<Change>,
    },
    SetGuardian {
        from: Option<Pubkey>,
        to: Option<Pubkey>,
    },
    RemoveEndpoint {
        id: u32,
        url: String,
    },
    AddEndpoint {
        group: u8,
        kind: EndpointKind,
        role: Role,
        priority: u8,
        url: String,
        region: String,
        provider: String,
    },
    UpdateEndpoint {
        id: u32,
        url: String,
        args: UpdateEndpointArgs,
        changes: Vec<Change>,
    },
    /// A manual failover to the endpoint at `url` in `group`; its id and the group's epoch
    /// are read from the chain when the step is sent (earlier steps may have added it).
    Promote {
        group: u8,
        url: String,
        why: String,
    },
    RemoveKeeper {
        keeper: Pubkey,
    },
}

impl Step {
    /// The step in words, as the plan prints it.
    pub fn describe(&self) -> String {
        match self {
            Step::CreateNetwork { name, guardian, .. } => format!(
                "create network {name:?}{}",
                guardian.map_or(String::new(), |g| format!(" with guardian {g}"))
            ),
            Step::AddKeeper {
                keeper,
                region,
                provider,
            } => format!("add keeper {keeper} ({region}/{provider})"),
            Step::UpdateKeeper {
                keeper, changes, ..
            } => format!("update keeper {keeper}: {}", list(changes)),
            Step::UpdatePolicy { changes, .. } => format!("update policy: {}", list(changes)),
            Step::SetGuardian { from, to } => match (from, to) {
                (Some(g), None) => format!(
                    "remove guardian {g} (the file names none; add `guardian = \"{g}\"` under [network] to keep it)"
                ),
                (None, Some(g)) => format!("set guardian {g}"),
                (Some(a), Some(b)) => format!("replace guardian {a} with {b}"),
                (None, None) => "guardian unchanged".into(),
            },
            Step::RemoveEndpoint { id, url } => format!("remove endpoint {id} ({url})"),
            Step::AddEndpoint {
                group,
                kind,
                role,
                url,
                ..
            } => format!(
                "add {} endpoint {url} to group {group} as {}",
                kinds::name(*kind),
                role_name(*role)
            ),
            Step::UpdateEndpoint {
                id, url, changes, ..
            } => format!("update endpoint {id} ({url}): {}", list(changes)),
            Step::Promote { group, url, why } => {
                format!("make {url} the primary of group {group} (manual failover: {why})")
            }
            Step::RemoveKeeper { keeper } => format!("remove keeper {keeper}"),
        }
    }

    /// The instruction for this step, signed by `authority`. `topology` is the chain's
    /// topology just before the step (Promote reads the target's id and group epoch).
    /// (One arm per step kind, each a single builder call: longer than 80 lines only
    /// because there are eleven kinds.)
    pub fn instruction(
        &self,
        network: &Pubkey,
        authority: &Pubkey,
        topology: Option<&Topology>,
    ) -> Result<Instruction, String> {
        Ok(match self {
            Step::CreateNetwork {
                name,
                policy,
                guardian,
            } => ix::create_network(
                authority,
                CreateNetworkArgs {
                    name: name.clone(),
                    policy: *policy,
                    guardian: *guardian,
                },
            ),
            Step::AddKeeper {
                keeper,
                region,
                provider,
            } => ix::add_keeper(
                network,
                authority,
                AddKeeperArgs {
                    keeper: *keeper,
                    region: region.clone(),
                    provider: provider.clone(),
                },
            ),
            Step::UpdateKeeper {
                keeper,
                region,
                provider,
                ..
            } => ix::update_keeper(
                network,
                authority,
                UpdateKeeperArgs {
                    keeper: *keeper,
                    region: region.clone(),
                    provider: provider.clone(),
                },
            ),
            Step::UpdatePolicy { policy, .. } => ix::update_policy(network, authority, *policy),
            Step::SetGuardian { to, .. } => {
                ix::set_guardian(network, authority, &to.unwrap_or_default())
            }
            Step::RemoveEndpoint { id, .. } => ix::remove_endpoint(network, authority, *id),
            Step::AddEndpoint {
                group,
                kind,
                role,
                priority,
                url,
                region,
                provider,
            } => ix::add_endpoint(
                network,
                authority,
                AddEndpointArgs {
                    group: *group,
                    kind: *kind as u8,
                    role: *role as u8,
                    priority: *priority,
                    url: url.clone(),
                    region: region.clone(),
                    provider: provider.clone(),
                },
            ),
            Step::UpdateEndpoint { args, .. } => {
                ix::update_endpoint(network, authority, args.clone())
            }
            Step::Promote { group, url, .. } => {
                let topology = topology.ok_or("the network does not exist yet")?;
                let target = topology
                    .endpoints()
                    .iter()
                    .find(|e| e.group == *group && e.url() == url)
                    .ok_or_else(|| format!("{url} is not in group {group}"))?;
                ix::force_failover(
                    network,
                    authority,
                    ForceFailoverArgs {
                        group: *group,
                        to_id: target.id,
                        expected_group_epoch: topology.group_epoch(*group),
                        quarantine_old: false,
                    },
                )
            }
            Step::RemoveKeeper { keeper } => ix::remove_keeper(network, authority, keeper),
        })
    }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Primary => "primary",
        Role::Standby => "standby",
        Role::Quarantined => "quarantined",
        Role::Retired => "retired",
    }
}
