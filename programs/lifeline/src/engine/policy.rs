//! Policy validation and quorum sizing.
use crate::constants::*;
use crate::state::Policy;

/// Why a policy is refused: the field and the rule it breaks, in words an operator can act
/// on (the program reports every case as `InvalidPolicy`; tools print this).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub field: &'static str,
    pub rule: &'static str,
}

impl core::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "policy.{}: {}", self.field, self.rule)
    }
}

fn refuse(field: &'static str, rule: &'static str) -> Result<(), PolicyError> {
    Err(PolicyError { field, rule })
}

/// Checks every threshold for range and order. An explicit quorum must also be reachable
/// with the current keepers (see `quorum_reachable`) whenever the policy is *set*; while a
/// network is still growing its keeper set the quorum may wait for keepers to arrive.
pub fn validate(p: &Policy, keepers: usize) -> Result<(), PolicyError> {
    validate_thresholds(p)?;
    if !quorum_reachable(p, keepers) {
        return refuse("quorum", "must not exceed the number of keepers in the set");
    }
    Ok(())
}

/// An explicit quorum no larger than the keeper set (an empty set may take any quorum: the
/// keepers are about to be added).
pub fn quorum_reachable(p: &Policy, keepers: usize) -> bool {
    keepers == 0 || p.quorum as usize <= keepers
}

/// Range and order of every threshold, independent of the keeper set.
pub fn validate_thresholds(p: &Policy) -> Result<(), PolicyError> {
    if p.staleness_slots == 0 || p.staleness_slots > MAX_STALENESS_SLOTS {
        return refuse("staleness_slots", "must be 1 to 216000 (a day of slots)");
    }
    if p.liveness_slots < p.staleness_slots || p.liveness_slots > MAX_STALENESS_SLOTS {
        return refuse(
            "liveness_slots",
            "must be at least staleness_slots and at most 216000",
        );
    }
    if p.latency_degraded_ms == 0 || p.latency_degraded_ms > p.latency_down_ms {
        return refuse(
            "latency_degraded_ms",
            "must be at least 1 and at most latency_down_ms",
        );
    }
    if p.latency_down_ms > MAX_LATENCY_MS {
        return refuse("latency_down_ms", "must be at most 600000 (10 minutes)");
    }
    if p.lag_degraded_slots == 0 || p.lag_degraded_slots > p.lag_down_slots {
        return refuse(
            "lag_degraded_slots",
            "must be at least 1 and at most lag_down_slots",
        );
    }
    if p.lag_down_slots > MAX_LAG_SLOTS {
        return refuse("lag_down_slots", "must be at most 65535");
    }
    if p.stall_slots > p.lag_down_slots {
        return refuse(
            "stall_slots",
            "must be at most lag_down_slots (0 turns stall detection off)",
        );
    }
    if p.error_degraded_bps == 0 || p.error_degraded_bps > p.error_down_bps {
        return refuse(
            "error_degraded_bps",
            "must be at least 1 and at most error_down_bps",
        );
    }
    if p.error_down_bps > BPS_MAX {
        return refuse("error_down_bps", "must be at most 10000 (100 %)");
    }
    let windows_ok = |w: u8| (1..=MAX_WINDOWS).contains(&w);
    if !windows_ok(p.breach_windows) {
        return refuse("breach_windows", "must be 1 to 64");
    }
    if !windows_ok(p.recovery_windows) {
        return refuse("recovery_windows", "must be 1 to 64");
    }
    if p.quarantine_base_slots == 0 || p.quarantine_base_slots > p.quarantine_max_slots {
        return refuse(
            "quarantine_base_slots",
            "must be at least 1 and at most quarantine_max_slots",
        );
    }
    if p.quorum as usize > MAX_KEEPERS {
        return refuse("quorum", "must be at most 16 (0 = automatic)");
    }
    Ok(())
}

/// Agreeing fresh reports needed with `keepers` keepers in the set.
///
/// Automatic (quorum 0): more than two thirds, the n ≥ 3f+1 sizing. Explicit: the
/// configured value, but never less than a strict majority, so two disjoint sets of
/// keepers can never both reach quorum. With no keepers nothing can reach quorum.
pub fn effective_quorum(p: &Policy, keepers: usize) -> usize {
    if keepers == 0 {
        return usize::MAX;
    }
    let majority = keepers / 2 + 1;
    if p.quorum == 0 {
        keepers * 2 / 3 + 1
    } else {
        (p.quorum as usize).max(majority)
    }
}

/// How many lying keepers the policy tolerates: `safety` liars cannot force a migration,
/// `liveness` liars (or silent keepers) cannot block one.
pub fn fault_tolerance(p: &Policy, keepers: usize) -> (usize, usize) {
    let q = effective_quorum(p, keepers);
    if q > keepers {
        return (keepers, 0);
    }
    (q - 1, keepers - q)
}

/// Quarantine after the `ejections`-th ejection: base × ejections, capped.
pub fn quarantine_slots(p: &Policy, ejections: u16) -> u64 {
    p.quarantine_base_slots
        .saturating_mul(ejections.max(1) as u64)
        .min(p.quarantine_max_slots)
}
