//! May a quarantined endpoint return as a standby?
use crate::engine::{ballot::tally, Ballot, Refusal, Snapshot, Tally};
use crate::state::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadmissionPlan {
    pub endpoint_id: u32,
    pub evidence: Tally,
}

/// Readmission needs: not paused, the quarantine elapsed, and probation: a quorum of
/// keepers has seen the endpoint healthy (below every soft threshold) for at least
/// `probation_slots`.
pub fn decide_readmission(
    snap: &Snapshot,
    ballot: &Ballot,
    endpoint_id: u32,
) -> Result<ReadmissionPlan, Refusal> {
    let e = snap
        .topology
        .endpoint(endpoint_id)
        .ok_or(Refusal::EndpointNotFound)?;
    if e.role() != Some(Role::Quarantined) {
        return Err(Refusal::NotQuarantined);
    }
    if snap.network.is_paused() {
        return Err(Refusal::Paused);
    }
    if snap.now < e.quarantine_until_slot {
        return Err(Refusal::QuarantineActive {
            until_slot: e.quarantine_until_slot,
        });
    }
    let t = tally(snap, ballot, endpoint_id);
    if (t.probation as usize) < ballot.quorum {
        return Err(Refusal::ProbationIncomplete);
    }
    Ok(ReadmissionPlan {
        endpoint_id,
        evidence: t,
    })
}
