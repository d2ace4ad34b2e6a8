//! Decisions and records in words, for logs and operator output: one readable line each,
//! endpoints by id and URL, keepers by key.
use lifeline::engine::{Action, MigrationPlan, ReadmissionPlan};
use lifeline::state::{MigrationRecord, Network, Reason, Topology};

use crate::state::ChainState;

/// "ep3 (https://rpc.example)", or "ep3" when the topology no longer has it.
pub fn endpoint(topology: &Topology, id: u32) -> String {
    match topology.endpoint(id) {
        Some(e) => format!("ep{id} ({})", e.url()),
        None => format!("ep{id}"),
    }
}

/// The keys of the keepers whose bit is set in `bitmap`, shortened to 8 characters.
pub fn voters(network: &Network, bitmap: u16) -> Vec<String> {
    (0..lifeline::constants::MAX_KEEPERS)
        .filter(|i| bitmap & (1u16 << i) != 0)
        .map(|i| short_key(&network.keepers[i].keeper.to_string()))
        .collect()
}

pub fn short_key(key: &str) -> String {
    key.chars().take(8).collect()
}

/// Why a rule fired, in words.
pub fn reason(r: Reason) -> &'static str {
    match r {
        Reason::None => "no reason",
        Reason::Latency => "too slow",
        Reason::SlotLag => "too far behind",
        Reason::ErrorRate => "too many errors",
        Reason::Unreachable => "unreachable",
        Reason::Stalled => "slot stalled",
        Reason::Divergent => "serving another fork",
        Reason::Future => "answering from the future",
        Reason::VacantPrimary => "the group had no primary",
        Reason::Manual => "manual failover",
    }
}

pub fn migration(network: &Network, topology: &Topology, plan: &MigrationPlan) -> String {
    let from = plan
        .from_id
        .map_or("no primary".to_string(), |id| endpoint(topology, id));
    format!(
        "group {} migrates from {from} to {} ({}; voters {})",
        plan.group,
        endpoint(topology, plan.to_id),
        reason(plan.rule),
        voters(network, plan.voters).join(", ")
    )
}

/// A migration the chain recorded: "group 0 failed over from ep0 (…) to ep1 (…) at slot
/// 812 (slot stalled; voters ab12cd34, …)".
pub fn record(network: &Network, topology: &Topology, m: &MigrationRecord) -> String {
    let from = m
        .from()
        .map_or("no primary".to_string(), |id| endpoint(topology, id));
    format!(
        "group {} failed over from {from} to {} at slot {} ({}; voters {})",
        m.group,
        endpoint(topology, m.to_id),
        m.slot,
        reason(Reason::from_u8(m.rule)),
        voters(network, m.voters).join(", ")
    )
}

pub fn readmission(network: &Network, topology: &Topology, plan: &ReadmissionPlan) -> String {
    format!(
        "{} readmitted as a standby of group {} after probation (voters {})",
        endpoint(topology, plan.endpoint_id),
        plan.group,
        voters(network, plan.evidence.probation_voters).join(", ")
    )
}

pub fn action(state: &ChainState, action: &Action) -> String {
    match action {
        Action::Migrate(p) => migration(&state.network, &state.topology, p),
        Action::Readmit(p) => readmission(&state.network, &state.topology, p),
    }
}
