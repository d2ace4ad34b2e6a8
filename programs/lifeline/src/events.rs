//! One event per state change, emitted as a self-CPI signed by the event authority
//! (`instructions::shared::emit_event`, what `emit_cpi!` does, in one non-inlined
//! function): events travel as inner instructions, which survives log truncation on real
//! clusters and also works when the program runs natively (where `sol_log_data` is a
//! no-op).
use anchor_lang::prelude::*;

use crate::state::PolicyParams;

/// Carried by every event: which network, when, and the topology epoch after the change.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventHeader {
    pub network: Pubkey,
    pub slot: u64,
    pub epoch: u64,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkCreated {
    pub header: EventHeader,
    pub creator: Pubkey,
    pub name: String,
    pub guardian: Pubkey,
    pub policy: PolicyParams,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyUpdated {
    pub header: EventHeader,
    pub policy: PolicyParams,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointAdded {
    pub header: EventHeader,
    pub endpoint_id: u32,
    pub group: u8,
    pub kind: u8,
    pub role: u8,
    pub priority: u8,
    pub url: String,
    pub region: String,
    pub provider: String,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUpdated {
    pub header: EventHeader,
    pub endpoint_id: u32,
    pub role: u8,
    pub priority: u8,
    pub url: String,
    pub region: String,
    pub provider: String,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointRemoved {
    pub header: EventHeader,
    pub endpoint_id: u32,
    pub group: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeeperAdded {
    pub header: EventHeader,
    pub keeper: Pubkey,
    pub region: String,
    pub provider: String,
    pub keeper_count: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeeperRemoved {
    pub header: EventHeader,
    pub keeper: Pubkey,
    pub keeper_count: u8,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeeperUpdated {
    pub header: EventHeader,
    pub keeper: Pubkey,
    pub region: String,
    pub provider: String,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkClosed {
    pub header: EventHeader,
    pub authority: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityProposed {
    pub header: EventHeader,
    pub authority: Pubkey,
    pub pending_authority: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorityAccepted {
    pub header: EventHeader,
    pub previous_authority: Pubkey,
    pub authority: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardianSet {
    pub header: EventHeader,
    pub guardian: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PausedSet {
    pub header: EventHeader,
    pub paused: bool,
    pub by: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationSubmitted {
    pub header: EventHeader,
    pub keeper: Pubkey,
    pub seq: u64,
    pub reference_slot: u64,
    pub healthy: u8,
    pub degraded: u8,
    pub down: u8,
}

/// A group failed over. Carries the evidence: who voted, what they measured (medians),
/// which rule fired.
#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationExecuted {
    pub header: EventHeader,
    pub old_epoch: u64,
    pub group: u8,
    /// None when the group had no primary.
    pub from_id: Option<u32>,
    pub to_id: u32,
    /// `Reason` code of the rule that fired.
    pub rule: u8,
    /// `MigrationCause`: automatic (keeper quorum) or manual (authority override).
    pub cause: u8,
    pub voters: Vec<Pubkey>,
    pub median_latency_ms: u32,
    pub median_slot_lag: u32,
    pub median_error_bps: u16,
    pub quarantine_until_slot: u64,
    pub triggered_by: Pubkey,
}

#[event]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointReadmitted {
    pub header: EventHeader,
    pub endpoint_id: u32,
    pub group: u8,
    pub voters: Vec<Pubkey>,
    pub triggered_by: Pubkey,
}
