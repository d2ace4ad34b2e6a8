use anchor_lang::prelude::*;

use crate::constants::*;
use crate::state::Verdict;

/// Flag bit: the keeper could not reach the endpoint at all during the window.
pub const OBS_UNREACHABLE: u8 = 1;

/// One keeper's view of one endpoint over its last probe window.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// Slot since which this keeper has held the current verdict (tracked by the program).
    pub verdict_since_slot: u64,
    /// The endpoint's own slot as the keeper saw it.
    pub endpoint_slot: u64,
    pub endpoint_id: u32,
    /// Median probe latency over the window.
    pub latency_ms: u32,
    /// reference_slot − endpoint_slot: how far behind the cluster the endpoint is.
    pub slot_lag: u32,
    /// Failed probes over the window, in basis points.
    pub error_bps: u16,
    pub verdict: u8,
    pub flags: u8,
    /// Consecutive windows the keeper saw the endpoint bad / good (hysteresis).
    pub consecutive_bad: u8,
    pub consecutive_good: u8,
    /// Why the verdict is what it is (`Reason`).
    pub reason: u8,
    pub padding: [u8; 5],
}

impl Observation {
    pub fn verdict(&self) -> Verdict {
        Verdict::from_u8(self.verdict)
    }
    pub fn unreachable(&self) -> bool {
        self.flags & OBS_UNREACHABLE != 0
    }
}

/// The latest attestation of one keeper. Written only by that keeper, so keepers never
/// contend for a write lock. PDA: `["report", network, keeper]`, created by add_keeper.
#[account(zero_copy)]
#[derive(Debug)]
pub struct KeeperReport {
    pub network: Pubkey,
    pub keeper: Pubkey,
    /// Strictly increasing per keeper: an older attestation can never overwrite a newer one.
    pub seq: u64,
    /// Slot at which the attestation landed.
    pub submitted_slot: u64,
    /// The cluster slot the keeper measured lag against (≤ submitted_slot); freshness is
    /// judged from it.
    pub reference_slot: u64,
    /// Topology epoch the keeper saw; reports for another epoch do not count.
    pub topology_epoch: u64,
    pub observations: [Observation; MAX_ENDPOINTS],
    pub version: u8,
    pub bump: u8,
    pub observation_count: u8,
    pub padding: [u8; 5],
    pub reserved: [u8; 64],
}

impl KeeperReport {
    pub const SPACE: usize = 8 + core::mem::size_of::<KeeperReport>();

    pub fn observations(&self) -> &[Observation] {
        &self.observations[..(self.observation_count as usize).min(MAX_ENDPOINTS)]
    }

    pub fn observation(&self, endpoint_id: u32) -> Option<&Observation> {
        self.observations()
            .iter()
            .find(|o| o.endpoint_id == endpoint_id)
    }
}
