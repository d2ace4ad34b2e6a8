//! From a keeper's figures to a verdict. The program computes the stored verdict with this
//! function, so a report's verdict always agrees with its figures under the policy.
use crate::state::{Policy, Reason, Verdict};

/// The figures one keeper measured for one endpoint over one window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    pub latency_ms: u32,
    pub slot_lag: u32,
    pub error_bps: u16,
    pub unreachable: bool,
}

/// Hard thresholds first (down), most severe reason first; then soft ones (degraded).
/// Lag is measured against the cluster, never taken from the node's own getHealth, so a
/// node that answers 200 OK with a frozen slot is down.
pub fn classify(p: &Policy, f: &Figures) -> (Verdict, Reason) {
    if f.unreachable {
        return (Verdict::Down, Reason::Unreachable);
    }
    if f.error_bps >= p.error_down_bps {
        return (Verdict::Down, Reason::ErrorRate);
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
