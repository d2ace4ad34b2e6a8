use anchor_lang::prelude::*;

use crate::constants::*;
use crate::state::{Reason, Verdict};

/// Observation flag: the keeper could not reach the endpoint at all.
pub const OBS_UNREACHABLE: u8 = 1 << 0;
/// Observation flag: the endpoint serves a different block hash than the majority of the
/// others at the same slot (another fork or corrupted state).
pub const OBS_DIVERGENT: u8 = 1 << 1;
/// Observation flag: the endpoint answered with a slot or time beyond what the keeper
/// trusts (its own RPCs' reference, its own clock) plus a tolerance.
pub const OBS_FUTURE: u8 = 1 << 2;
/// Every observation flag a keeper may set (append-only).
pub const OBS_FLAGS: u8 = OBS_UNREACHABLE | OBS_DIVERGENT | OBS_FUTURE;
/// Vote flag set by the program: the keeper's bad streak reached `breach_windows`.
pub const VOTE_DOWN: u8 = 1 << 6;
/// Vote flag set by the program: the keeper's good streak reached `recovery_windows`.
pub const VOTE_HEALTHY: u8 = 1 << 7;

/// One endpoint as a keeper measured it over its last probe window: what
/// `submit_attestation` carries. 19 bytes, so an attestation covering MAX_ENDPOINTS
/// endpoints fits one transaction.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObservationInput {
    pub endpoint_id: u32,
    pub latency_ms: u32,
    /// Slots the endpoint is behind the attestation's `reference_slot` (0 for kinds
    /// without a slot).
    pub slot_lag: u32,
    /// Slots the reference advanced while the endpoint's slot stayed unchanged; the
    /// program credits at most `slot_lag` of it.
    pub stalled_slots: u16,
    pub error_bps: u16,
    pub consecutive_bad: u8,
    pub consecutive_good: u8,
    /// `OBS_*` flags.
    pub flags: u8,
}

/// One keeper's latest judgement of one endpoint, as the program computed it from the
/// keeper's figures. 16 bytes, so the whole ballot fits one account.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Vote {
    /// Median probe latency over the keeper's window.
    pub latency_ms: u32,
    /// Slots the verdict had held when the report was submitted (counted by the program
    /// from landing slots, so it can be earned but never claimed or backdated).
    pub verdict_age_slots: u32,
    /// Slots behind the keeper's reference (saturates at 65,535).
    pub slot_lag: u16,
    /// Failed probes over the window, in basis points.
    pub error_bps: u16,
    /// `Verdict`; `Unknown` (0) = no observation in this cell.
    pub verdict: u8,
    /// `Reason` for the verdict.
    pub reason: u8,
    /// `OBS_*` flags as attested, plus `VOTE_DOWN` / `VOTE_HEALTHY`.
    pub flags: u8,
    /// The keeper's consecutive bad (down) or good (healthy) windows, for display.
    pub streak: u8,
}

impl Vote {
    pub fn verdict(&self) -> Verdict {
        Verdict::from_u8(self.verdict)
    }
    pub fn reason(&self) -> Reason {
        Reason::from_u8(self.reason)
    }
    pub fn is_observed(&self) -> bool {
        self.verdict() != Verdict::Unknown
    }
    pub fn unreachable(&self) -> bool {
        self.flags & OBS_UNREACHABLE != 0
    }
    pub fn votes_down(&self) -> bool {
        self.flags & VOTE_DOWN != 0
    }
    pub fn votes_healthy(&self) -> bool {
        self.flags & VOTE_HEALTHY != 0
    }
}

/// One keeper's latest attestation: its row of the ballot. Written only through that
/// keeper's signed `submit_attestation`.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeeperReport {
    /// The keeper this row belongs to (mirrors `Network.keepers[i]`; default = empty row).
    pub keeper: Pubkey,
    /// Strictly increasing per keeper: an older attestation can never overwrite a newer one.
    pub seq: u64,
    /// Slot at which the attestation landed (0 = never attested).
    pub submitted_slot: u64,
    /// The cluster slot the keeper measured lag against (≤ submitted_slot).
    pub reference_slot: u64,
    /// The topology epoch the keeper had read: its votes count only for endpoints whose
    /// probed identity (URL, kind) did not change after it, and only under the policy in
    /// force at it.
    pub topology_epoch: u64,
    /// Column j is the endpoint at `Topology.endpoints[j]`; the program moves columns
    /// with the endpoints.
    pub votes: [Vote; MAX_ENDPOINTS],
}

impl KeeperReport {
    pub fn is_empty(&self) -> bool {
        self.keeper == Pubkey::default()
    }
    /// The slot since which the verdict in column `j` has held.
    pub fn verdict_since_slot(&self, j: usize) -> u64 {
        self.submitted_slot
            .saturating_sub(self.votes[j].verdict_age_slots as u64)
    }
}

pub use account::Ballot;

/// As with Topology, the generated `Clone`/`Zeroable` of this 9 KB account would return
/// it by value; the program only touches it in place.
#[allow(clippy::large_stack_frames)]
mod account {
    use super::*;

    /// Every keeper's latest attestation, kept on chain so that every decision is made on
    /// the complete ballot: nobody chooses which reports a decision sees.
    /// PDA: `["ballot", network]`. Row i belongs to the keeper in `Network.keepers[i]`.
    #[account(zero_copy)]
    #[derive(Debug)]
    pub struct Ballot {
        pub network: Pubkey,
        pub reports: [KeeperReport; MAX_KEEPERS],
        pub version: u8,
        pub bump: u8,
        pub padding: [u8; 6],
        pub reserved: [u8; 64],
    }
}

impl Ballot {
    pub const SPACE: usize = 8 + core::mem::size_of::<Ballot>();

    /// Clears column `j` in every row (the endpoint there is new or changed identity).
    pub fn clear_column(&mut self, j: usize) {
        for r in self.reports.iter_mut() {
            r.votes[j] = Vote::default();
        }
    }

    /// Mirrors `Topology::remove_at`: the last column moves into `j`.
    pub fn remove_column(&mut self, j: usize, last: usize) {
        for r in self.reports.iter_mut() {
            r.votes[j] = r.votes[last];
            r.votes[last] = Vote::default();
        }
    }
}

// The whole ballot is created by one instruction (create_network), which may allocate at
// most 10 KiB per account; a cell is 16 bytes.
const _: () = assert!(Ballot::SPACE <= 10_240);
const _: () = assert!(core::mem::size_of::<Vote>() == 16);
