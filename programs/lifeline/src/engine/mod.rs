//! The decision engine: pure functions over plain account data. No Anchor contexts, no
//! sysvars, no I/O. The program calls it to enforce; the keeper calls it to predict, so
//! both decide identically.
pub mod ballot;
pub mod migration;
pub mod policy;
pub mod readmission;
pub mod verdict;

#[cfg(test)]
mod tests;

pub use ballot::{collect, record, tally, Attestation, CountedReport, Electorate, Tally};
pub use migration::{decide_migration, MigrationPlan};
pub use readmission::{decide_readmission, ReadmissionPlan};

use crate::state::{Ballot, Network, Topology};

/// Everything a decision depends on, read from chain at one slot. The ballot is the whole
/// on-chain ballot: a decision never depends on what a caller chose to pass.
#[derive(Clone, Copy)]
pub struct Snapshot<'a> {
    pub network: &'a Network,
    pub topology: &'a Topology,
    pub ballot: &'a Ballot,
    pub now: u64,
}

/// Why the engine declines to act. The program maps each to a named error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    InvalidGroup,
    EndpointNotFound,
    Paused,
    NoPrimary,
    NoBreachQuorum,
    Cooldown {
        until_slot: u64,
    },
    NoHealthyStandby,
    /// A standby ranked above every quorum-healthy one may still be voted healthy.
    StandbyUndecided {
        endpoint_id: u32,
    },
    NotQuarantined,
    QuarantineActive {
        until_slot: u64,
    },
    ProbationIncomplete,
}

/// An action the chain would accept now (what a keeper's migrator sends).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Migrate(MigrationPlan),
    Readmit(ReadmissionPlan),
}

/// Every action the chain would accept at this snapshot, in a deterministic order:
/// migrations by group, then readmissions by endpoint id.
pub fn pending_actions(snap: &Snapshot) -> Vec<Action> {
    let electorate = collect(snap);
    let mut out = Vec::new();
    for group in 0..crate::constants::MAX_GROUPS as u8 {
        let has_endpoints = snap.topology.endpoints().iter().any(|e| e.group == group);
        if !has_endpoints {
            continue;
        }
        if let Ok(plan) = decide_migration(snap, &electorate, group) {
            out.push(Action::Migrate(plan));
        }
    }
    let mut ids: Vec<u32> = snap.topology.endpoints().iter().map(|e| e.id).collect();
    ids.sort_unstable();
    for id in ids {
        if let Ok(plan) = decide_readmission(snap, &electorate, id) {
            out.push(Action::Readmit(plan));
        }
    }
    out
}
