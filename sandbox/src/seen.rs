//! What a keeper claims to measure, for tests and scripted keepers: turned into the
//! attestation's observation with the streaks the engine would judge (no threshold is
//! copied here).
use lifeline::engine::verdict::{classify, Figures};
use lifeline::state::{
    ObservationInput, Policy, Verdict, OBS_DIVERGENT, OBS_FUTURE, OBS_UNREACHABLE,
};

/// What a keeper measured, before the program turns it into a verdict.
#[derive(Clone, Copy, Debug)]
pub struct Seen {
    pub latency_ms: u32,
    /// Slots behind the keeper's reference slot.
    pub lag: u64,
    /// Slots the reference moved while the endpoint's slot stood still.
    pub stalled: u64,
    pub error_bps: u16,
    pub unreachable: bool,
    pub divergent: bool,
    /// Answered with a slot or time beyond the keeper's trusted reference.
    pub future: bool,
    /// How many consecutive windows the keeper has seen this.
    pub windows: u8,
}

impl Seen {
    pub fn healthy() -> Self {
        Self {
            latency_ms: 40,
            lag: 0,
            stalled: 0,
            error_bps: 0,
            unreachable: false,
            divergent: false,
            future: false,
            windows: 10,
        }
    }

    /// 200 OK with a slot that stopped long ago.
    pub fn frozen() -> Self {
        Self {
            lag: 1_000,
            stalled: 1_000,
            ..Self::healthy()
        }
    }

    pub fn down() -> Self {
        Self {
            unreachable: true,
            ..Self::healthy()
        }
    }

    pub fn figures(&self) -> Figures {
        Figures {
            latency_ms: self.latency_ms,
            slot_lag: self.lag.min(u32::MAX as u64) as u32,
            stalled_slots: self.stalled.min(u16::MAX as u64) as u32,
            error_bps: self.error_bps,
            unreachable: self.unreachable,
            divergent: self.divergent,
            future: self.future,
        }
    }

    /// What a keeper attests for endpoint `id`, its streaks judged by the engine under
    /// `policy`.
    pub fn observation(&self, policy: &Policy, id: u32) -> ObservationInput {
        let (verdict, _) = classify(policy, &self.figures());
        let mut flags = 0;
        if self.unreachable {
            flags |= OBS_UNREACHABLE;
        }
        if self.divergent {
            flags |= OBS_DIVERGENT;
        }
        if self.future {
            flags |= OBS_FUTURE;
        }
        ObservationInput {
            endpoint_id: id,
            latency_ms: self.latency_ms,
            slot_lag: self.figures().slot_lag,
            stalled_slots: self.stalled.min(u16::MAX as u64) as u16,
            error_bps: self.error_bps,
            consecutive_bad: if verdict == Verdict::Down {
                self.windows
            } else {
                0
            },
            consecutive_good: if verdict == Verdict::Healthy {
                self.windows
            } else {
                0
            },
            flags,
        }
    }
}
