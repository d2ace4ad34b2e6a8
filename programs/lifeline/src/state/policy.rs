use anchor_lang::prelude::*;

/// Failover policy, stored inside the Network account. Validation lives in
/// `engine::policy` so the keeper applies the very same rules.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// A report counts only if its reference slot is at most this many slots old.
    pub staleness_slots: u64,
    /// Minimum slots between two automatic migrations of one group.
    pub cooldown_slots: u64,
    /// Quarantine after the first ejection; grows linearly with each ejection.
    pub quarantine_base_slots: u64,
    /// Cap on the quarantine length.
    pub quarantine_max_slots: u64,
    /// How long a quarantined endpoint must stay quorum-healthy before readmission.
    pub probation_slots: u64,
    pub latency_degraded_ms: u32,
    pub latency_down_ms: u32,
    pub lag_degraded_slots: u32,
    pub lag_down_slots: u32,
    pub error_degraded_bps: u16,
    pub error_down_bps: u16,
    /// Agreeing fresh reports needed; 0 = automatic (more than 2/3 of the keepers).
    pub quorum: u8,
    /// Consecutive bad probe windows a keeper must see before its report votes "down".
    pub breach_windows: u8,
    /// Consecutive good probe windows before a report votes "healthy".
    pub recovery_windows: u8,
    pub reserved: [u8; 17],
}

/// The policy as an instruction argument (Borsh), without the reserved bytes.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyParams {
    pub staleness_slots: u64,
    pub cooldown_slots: u64,
    pub quarantine_base_slots: u64,
    pub quarantine_max_slots: u64,
    pub probation_slots: u64,
    pub latency_degraded_ms: u32,
    pub latency_down_ms: u32,
    pub lag_degraded_slots: u32,
    pub lag_down_slots: u32,
    pub error_degraded_bps: u16,
    pub error_down_bps: u16,
    pub quorum: u8,
    pub breach_windows: u8,
    pub recovery_windows: u8,
}

impl Default for PolicyParams {
    /// Sane defaults for 400 ms slots: reports older than ~20 s do not count, a node 50
    /// slots (~20 s) behind is down, failover at most once a minute per group, quarantine
    /// 5 min growing to 1 h, probation 2 min.
    fn default() -> Self {
        Self {
            staleness_slots: 50,
            cooldown_slots: 150,
            quarantine_base_slots: 750,
            quarantine_max_slots: 9_000,
            probation_slots: 300,
            latency_degraded_ms: 800,
            latency_down_ms: 3_000,
            lag_degraded_slots: 10,
            lag_down_slots: 50,
            error_degraded_bps: 1_000,
            error_down_bps: 5_000,
            quorum: 0,
            breach_windows: 2,
            recovery_windows: 2,
        }
    }
}

impl From<PolicyParams> for Policy {
    fn from(p: PolicyParams) -> Self {
        Self {
            staleness_slots: p.staleness_slots,
            cooldown_slots: p.cooldown_slots,
            quarantine_base_slots: p.quarantine_base_slots,
            quarantine_max_slots: p.quarantine_max_slots,
            probation_slots: p.probation_slots,
            latency_degraded_ms: p.latency_degraded_ms,
            latency_down_ms: p.latency_down_ms,
            lag_degraded_slots: p.lag_degraded_slots,
            lag_down_slots: p.lag_down_slots,
            error_degraded_bps: p.error_degraded_bps,
            error_down_bps: p.error_down_bps,
            quorum: p.quorum,
            breach_windows: p.breach_windows,
            recovery_windows: p.recovery_windows,
            reserved: [0; 17],
        }
    }
}

impl From<&Policy> for PolicyParams {
    fn from(p: &Policy) -> Self {
        Self {
            staleness_slots: p.staleness_slots,
            cooldown_slots: p.cooldown_slots,
            quarantine_base_slots: p.quarantine_base_slots,
            quarantine_max_slots: p.quarantine_max_slots,
            probation_slots: p.probation_slots,
            latency_degraded_ms: p.latency_degraded_ms,
            latency_down_ms: p.latency_down_ms,
            lag_degraded_slots: p.lag_degraded_slots,
            lag_down_slots: p.lag_down_slots,
            error_degraded_bps: p.error_degraded_bps,
            error_down_bps: p.error_down_bps,
            quorum: p.quorum,
            breach_windows: p.breach_windows,
            recovery_windows: p.recovery_windows,
        }
    }
}
