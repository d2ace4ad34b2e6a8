//! Topology as code: a declarative file (network, policy, keepers, endpoints) diffed
//! against the chain into an ordered plan of typed steps. Applying the plan and planning
//! again yields an empty plan.
//!
//! The file declares each group's *initial* primary. Once the chain has failed a group
//! over, the file and the chain differ on purpose: the plan reports that as drift and
//! never fails the group back (`lifeline failover` does, when asked). Only an explicit
//! change — removing or retiring the endpoint that serves a group — makes the plan move
//! the role, and then to the successor the file names.
pub mod apply;
pub mod spec;
pub mod step;
#[cfg(test)]
mod tests;

use anchor_lang::prelude::Pubkey;
use lifeline::engine::policy::{effective_quorum, fault_tolerance};
use lifeline::state::{Endpoint, Network, PolicyParams, Role, Topology};

pub use apply::{apply, ApplyError, RpcTarget, Target};
pub use spec::{EndpointSpec, KeeperSpec, NetworkSpec, Spec, SpecError, SpecRole};
pub use step::{Change, Step};

use crate::kinds;

/// The chain as the plan sees it (None: the network does not exist yet).
#[derive(Clone, Copy)]
pub struct Current<'a> {
    pub network: &'a Network,
    pub topology: &'a Topology,
}

/// What `apply` would do.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub network: Pubkey,
    pub steps: Vec<Step>,
    /// Differences the plan leaves alone on purpose, and risks worth knowing, in words.
    pub notes: Vec<String>,
}

/// Why a file cannot be applied as it stands.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error("{signer} is not the authority of network {network} (its authority is {authority}); sign with the authority, or name the network with `address` if it is another one")]
    NotAuthority {
        network: Pubkey,
        signer: Pubkey,
        authority: Pubkey,
    },
    #[error("{url} serves group {group} and the file {action} it: declare its successor in the group with role = \"primary\", or fail over first (lifeline failover)")]
    NoSuccessor {
        group: u8,
        url: String,
        action: &'static str,
    },
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("the file would leave {keepers} keepers but sets quorum {quorum}")]
    QuorumUnreachable { keepers: usize, quorum: u8 },
}

/// Diffs `spec` against the chain. `signer` signs every step (and is the network's
/// creator unless the file says otherwise).
pub fn plan(spec: &Spec, signer: &Pubkey, current: Option<Current>) -> Result<Plan, PlanError> {
    let network = spec.network_address(signer);
    let policy = spec.policy()?;
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    let Some(cur) = current else {
        steps.push(Step::CreateNetwork {
            name: spec.network.name.clone(),
            policy,
            guardian: spec.network.guardian,
        });
        keepers(spec, None, &mut steps);
        for e in &spec.endpoints {
            steps.push(add_endpoint(e, e.role.into()));
        }
        notes.extend(tolerance_note(spec.keepers.len(), &policy));
        return Ok(Plan {
            network,
            steps,
            notes,
        });
    };
    if cur.network.authority != *signer {
        return Err(PlanError::NotAuthority {
            network,
            signer: *signer,
            authority: cur.network.authority,
        });
    }
    let keeping = keepers(spec, Some(cur.network), &mut steps);
    if policy.quorum as usize > keeping && keeping > 0 {
        return Err(PlanError::QuorumUnreachable {
            keepers: keeping,
            quorum: policy.quorum,
        });
    }
    let changes = policy_changes(&PolicyParams::from(&cur.network.policy), &policy);
    if !changes.is_empty() {
        steps.push(Step::UpdatePolicy { policy, changes });
    }
    let on_chain = Some(cur.network.guardian).filter(|g| *g != Pubkey::default());
    if on_chain != spec.network.guardian {
        steps.push(Step::SetGuardian {
            from: on_chain,
            to: spec.network.guardian,
        });
    }
    endpoints(spec, cur.topology, &mut steps, &mut notes)?;
    for k in cur.network.active_keepers() {
        if !spec.keepers.iter().any(|s| s.pubkey == k.keeper) {
            steps.push(Step::RemoveKeeper { keeper: k.keeper });
        }
    }
    notes.extend(tolerance_note(keeping, &policy));
    Ok(Plan {
        network,
        steps,
        notes,
    })
}

/// Adds and relabels keepers; returns how many keepers the file leaves.
fn keepers(spec: &Spec, network: Option<&Network>, steps: &mut Vec<Step>) -> usize {
    for k in &spec.keepers {
        let on_chain = network.and_then(|n| n.active_keepers().find(|e| e.keeper == k.pubkey));
        match on_chain {
            None => steps.push(Step::AddKeeper {
                keeper: k.pubkey,
                region: k.region.clone(),
                provider: k.provider.clone(),
            }),
            Some(e) => {
                let mut changes = Vec::new();
                diff(&mut changes, "region", e.region(), &k.region);
                diff(&mut changes, "provider", e.provider(), &k.provider);
                if !changes.is_empty() {
                    steps.push(Step::UpdateKeeper {
                        keeper: k.pubkey,
                        region: k.region.clone(),
                        provider: k.provider.clone(),
                        changes,
                    });
                }
            }
        }
    }
    spec.keepers.len()
}

fn diff(changes: &mut Vec<Change>, field: &'static str, from: impl ToString, to: impl ToString) {
    let (from, to) = (from.to_string(), to.to_string());
    if from != to {
        changes.push(Change { field, from, to });
    }
}

fn policy_changes(from: &PolicyParams, to: &PolicyParams) -> Vec<Change> {
    let mut changes = Vec::new();
    for f in PolicyParams::FIELDS {
        diff(&mut changes, f.name, (f.get)(from), (f.get)(to));
    }
    changes
}

fn add_endpoint(e: &EndpointSpec, role: Role) -> Step {
    Step::AddEndpoint {
        group: e.group,
        kind: e.kind,
        role,
        priority: e.priority,
        url: e.url.clone(),
        region: e.region.clone(),
        provider: e.provider.clone(),
    }
}

/// The endpoint steps, by when they must run.
#[derive(Default)]
struct EndpointSteps {
    /// Removals of endpoints that do not serve.
    early: Vec<Step>,
    adds: Vec<Step>,
    updates: Vec<Step>,
    /// Promotions of the declared successor of a primary the file removes or retires.
    promotions: Vec<Step>,
    /// Retirements and removals of endpoints that did serve.
    late: Vec<Step>,
}

/// The endpoint steps, in an order the program accepts: removals of endpoints that do not
/// serve, additions, updates, promotions, then retirements and removals of endpoints that
/// did serve.
fn endpoints(
    spec: &Spec,
    topology: &Topology,
    steps: &mut Vec<Step>,
    notes: &mut Vec<String>,
) -> Result<(), PlanError> {
    let mut s = EndpointSteps::default();
    for x in topology.endpoints() {
        leaving(spec, x, &mut s)?;
    }
    for e in &spec.endpoints {
        arriving_or_staying(e, topology.endpoints(), &mut s, notes);
    }
    for part in [s.early, s.adds, s.updates, s.promotions, s.late] {
        steps.extend(part);
    }
    Ok(())
}

/// The steps for an endpoint on chain that the file removes, or retires while it serves.
/// A serving primary leaves after its group's declared successor is promoted.
fn leaving(spec: &Spec, x: &Endpoint, s: &mut EndpointSteps) -> Result<(), PlanError> {
    let serving = x.role() == Some(Role::Primary);
    let in_file = spec
        .endpoints
        .iter()
        .find(|e| e.group == x.group && e.url == x.url());
    let action = match in_file {
        None => "removes",
        Some(e) if e.role == SpecRole::Retired && serving => "retires",
        _ => return Ok(()),
    };
    let remove = Step::RemoveEndpoint {
        id: x.id,
        url: x.url().to_string(),
    };
    if !serving {
        s.early.push(remove);
        return Ok(());
    }
    let group_continues = spec
        .endpoints
        .iter()
        .any(|e| e.group == x.group && e.url != x.url());
    if !group_continues && action == "removes" {
        s.late.push(remove); // the whole group goes: its primary last
        return Ok(());
    }
    let successor = spec
        .endpoints
        .iter()
        .find(|e| e.group == x.group && e.role == SpecRole::Primary && e.url != x.url())
        .ok_or_else(|| PlanError::NoSuccessor {
            group: x.group,
            url: x.url().to_string(),
            action,
        })?;
    s.promotions.push(Step::Promote {
        group: x.group,
        url: successor.url.clone(),
        why: format!("the file {action} {}", x.url()),
    });
    s.late.push(if action == "removes" {
        remove
    } else {
        Step::UpdateEndpoint {
            id: x.id,
            url: x.url().to_string(),
            args: lifeline::instructions::UpdateEndpointArgs {
                endpoint_id: x.id,
                role: Some(Role::Retired as u8),
                ..Default::default()
            },
            changes: vec![Change {
                field: "role",
                from: "primary".into(),
                to: "retired".into(),
            }],
        }
    });
    Ok(())
}

/// The steps for an endpoint in the file: added if new, updated if it changed; a
/// declared primary that does not serve is drift, reported and left to `lifeline
/// failover` (apply never undoes a failover).
fn arriving_or_staying(
    e: &EndpointSpec,
    chain: &[Endpoint],
    s: &mut EndpointSteps,
    notes: &mut Vec<String>,
) {
    let Some(x) = chain
        .iter()
        .find(|x| x.group == e.group && x.url() == e.url)
    else {
        // New. Its group keeps (or gets, via a promotion) a serving primary: it joins as
        // standby; in an empty group the declared primary is added as such.
        let group_serves = chain
            .iter()
            .any(|x| x.group == e.group && x.role() == Some(Role::Primary));
        let role = match e.role {
            SpecRole::Primary if group_serves => Role::Standby,
            r => r.into(),
        };
        s.adds.push(add_endpoint(e, role));
        return;
    };
    s.updates.extend(update(e, x, notes));
    if e.role != SpecRole::Primary || x.role() == Some(Role::Primary) {
        return;
    }
    let promoted = s
        .promotions
        .iter()
        .any(|p| matches!(p, Step::Promote { url, .. } if *url == e.url));
    if promoted {
        return;
    }
    let serving = chain
        .iter()
        .find(|o| o.group == e.group && o.role() == Some(Role::Primary));
    notes.push(match serving {
        Some(s) => format!(
            "drift: group {} is served by {} (endpoint {}); the file declares {} as its initial primary. Apply does not undo failovers: run `lifeline failover --group {} --to {}` to move the role.",
            e.group, s.url(), s.id, e.url, e.group, x.id
        ),
        None => format!(
            "group {} has no primary; keepers promote its healthiest standby, or run `lifeline failover --group {} --to {}`",
            e.group, e.group, x.id
        ),
    });
}

/// The update of an endpoint that stays: labels, priority, and the roles a file may set
/// (retire, or bring back a retired one). A quarantined endpoint stays under the chain's
/// control; the serving primary is never demoted here.
fn update(e: &EndpointSpec, x: &Endpoint, notes: &mut Vec<String>) -> Option<Step> {
    let mut args = lifeline::instructions::UpdateEndpointArgs {
        endpoint_id: x.id,
        ..Default::default()
    };
    let mut changes = Vec::new();
    if x.region() != e.region {
        diff(&mut changes, "region", x.region(), &e.region);
        args.region = Some(e.region.clone());
    }
    if x.provider() != e.provider {
        diff(&mut changes, "provider", x.provider(), &e.provider);
        args.provider = Some(e.provider.clone());
    }
    if x.priority != e.priority {
        diff(&mut changes, "priority", x.priority, e.priority);
        args.priority = Some(e.priority);
    }
    if x.kind != e.kind as u8 {
        notes.push(format!(
            "endpoint {} ({}): the file says kind {}, the chain {}; a kind cannot change in place (remove the endpoint, apply, then add it back)",
            x.id,
            x.url(),
            kinds::name(e.kind),
            x.kind().map_or("unknown", kinds::name)
        ));
    }
    let target = match (x.role(), e.role) {
        (Some(Role::Standby | Role::Quarantined), SpecRole::Retired) => Some(Role::Retired),
        (Some(Role::Retired), SpecRole::Standby | SpecRole::Primary) => Some(Role::Standby),
        _ => None,
    };
    if let Some(role) = target {
        diff(
            &mut changes,
            "role",
            x.role().map_or("?", step::role_name),
            step::role_name(role),
        );
        args.role = Some(role as u8);
    }
    (!changes.is_empty()).then(|| Step::UpdateEndpoint {
        id: x.id,
        url: x.url().to_string(),
        args,
        changes,
    })
}

/// A warning when the keeper set cannot tolerate a single faulty keeper.
pub fn tolerance_note(keepers: usize, policy: &PolicyParams) -> Option<String> {
    if keepers == 0 {
        return None;
    }
    let (safety, liveness) = fault_tolerance(&(*policy).into(), keepers);
    let quorum = effective_quorum(&(*policy).into(), keepers);
    (liveness == 0 || safety == 0).then(|| {
        format!(
            "warning: {keepers} keepers with quorum {quorum} cannot tolerate a single faulty keeper (one silent keeper blocks every failover{}); run at least 4 keepers",
            if safety == 0 { ", one lying keeper forces one" } else { "" }
        )
    })
}
