//! From a keeper's figures to a verdict. The program computes the stored verdict with this
//! function, so a report's verdict always agrees with its figures under the policy.
use crate::state::{Policy, Reason, Verdict};

/// The figures one keeper measured for one endpoint over one window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub latency_ms: u32,
    /// Slots behind the keeper's reference.
    pub slot_lag: u32,
    /// Slots the reference advanced while the endpoint's slot stayed unchanged.
    pub stalled_slots: u32,
    pub error_bps: u16,
    pub unreachable: bool,
    /// The endpoint's block hash disagreed with the majority at the same slot.
    pub divergent: bool,
    /// The endpoint answered from the future (beyond the keeper's trusted reference).
    pub future: bool,
}

impl Figures {
    /// How long the endpoint has verifiably been stuck: a node cannot have been stuck for
    /// longer than it is behind, so a keeper cannot claim a stall without the lag to show.
    pub fn stall(&self) -> u32 {
        self.stalled_slots.min(self.slot_lag)
    }
}

/// Hard thresholds first (down), most severe reason first; then soft ones (degraded).
/// Lag is measured against the cluster, never taken from the node's own getHealth, so a
/// node that answers 200 OK with a frozen slot is down — as soon as its slot has stood
/// still for `stall_slots` while the cluster moved, long before it is `lag_down_slots`
/// behind.
pub fn classify(p: &Policy, f: &Figures) -> (Verdict, Reason) {
    if f.unreachable {
        return (Verdict::Down, Reason::Unreachable);
    }
    // The answer itself was a lie about the future: said before the error rate it feeds.
    if f.future {
        return (Verdict::Down, Reason::Future);
    }
    if f.error_bps >= p.error_down_bps {
        return (Verdict::Down, Reason::ErrorRate);
    }
    if f.divergent {
        return (Verdict::Down, Reason::Divergent);
    }
    if p.stall_slots > 0 && f.stall() >= p.stall_slots {
        return (Verdict::Down, Reason::Stalled);
    }
    if f.slot_lag >= p.lag_down_slots {
        return (Verdict::Down, Reason::SlotLag);
    }
    if f.latency_ms >= p.latency_down_ms {
        return (Verdict::Down, Reason::Latency);
    }
    if f.error_bps >= p.error_degraded_bps {
        return (Verdict::Degraded, Reason::ErrorRate);
    }
    if f.slot_lag >= p.lag_degraded_slots {
        return (Verdict::Degraded, Reason::SlotLag);
    }
    if f.latency_ms >= p.latency_degraded_ms {
        return (Verdict::Degraded, Reason::Latency);
    }
    (Verdict::Healthy, Reason::None)
}
