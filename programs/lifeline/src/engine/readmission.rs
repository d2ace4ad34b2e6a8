//! May a quarantined endpoint return as a standby?
use crate::engine::{ballot::tally, Electorate, Refusal, Snapshot, Tally};
use crate::state::Role;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadmissionPlan {
    pub endpoint_id: u32,
    pub group: u8,
    pub evidence: Tally,
}

/// Readmission needs: not paused, the quarantine elapsed, and probation: a quorum of
/// keepers each of which has attested the endpoint healthy (below every soft threshold)
/// without a break for at least `probation_slots` (the program restarts a keeper's streak
/// on any other verdict, on a silence longer than `liveness_slots` and when the URL
/// changes).
pub fn decide_readmission(
    snap: &Snapshot,
    electorate: &Electorate,
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
    let t = tally(snap, electorate, endpoint_id);
    if (t.probation as usize) < electorate.quorum {
        return Err(Refusal::ProbationIncomplete);
    }
    Ok(ReadmissionPlan {
        endpoint_id,
        group: e.group,
        evidence: t,
    })
}
