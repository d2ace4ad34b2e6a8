//! Probe windows: the raw results of probing each endpoint during one window become the
//! figures a keeper attests (median latency, the endpoint's slot, error rate,
//! unreachable), plus the consecutive bad / good window counters that give hysteresis.
//!
//! The verdict that drives the counters is the program's own `engine::verdict::classify`
//! over the same figures, so the keeper predicts exactly what the chain will record.
use std::collections::BTreeMap;

use lifeline::constants::BPS_MAX;
use lifeline::engine::verdict::{classify, Figures};
use lifeline::instructions::ObservationInput;
use lifeline::state::{Policy, Reason, Verdict, OBS_UNREACHABLE};

/// One probe of one endpoint (e.g. getSlot + getHealth + getLatestBlockhash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Probe {
    pub endpoint_id: u32,
    /// None: the probe failed (transport error, timeout, HTTP or JSON-RPC error).
    pub slot: Option<u64>,
    pub latency_ms: u32,
}

/// What one window says about one endpoint, before hysteresis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowFigures {
    pub endpoint_id: u32,
    /// Median latency of the successful probes (0 if none succeeded).
    pub latency_ms: u32,
    /// Highest slot the endpoint reported in the window (0 if none).
    pub endpoint_slot: u64,
    pub error_bps: u16,
    pub unreachable: bool,
}

impl WindowFigures {
    /// The figures as the program will classify them against `reference_slot`.
    pub fn figures(&self, reference_slot: u64) -> Figures {
        Figures {
            latency_ms: self.latency_ms,
            slot_lag: reference_slot
                .saturating_sub(self.endpoint_slot)
                .min(u32::MAX as u64) as u32,
            error_bps: self.error_bps,
            unreachable: self.unreachable,
        }
    }
}

/// Aggregates one window's probes per endpoint. `expected` lists every endpoint that was
/// due a probe: an endpoint with no result at all is unreachable.
pub fn aggregate(expected: &[u32], probes: &[Probe]) -> Vec<WindowFigures> {
    let mut by_endpoint: BTreeMap<u32, Vec<&Probe>> =
        expected.iter().map(|id| (*id, Vec::new())).collect();
    for p in probes {
        if let Some(v) = by_endpoint.get_mut(&p.endpoint_id) {
            v.push(p);
        }
    }
    by_endpoint
        .into_iter()
        .map(|(endpoint_id, ps)| {
            let total = ps.len();
            let mut ok: Vec<&Probe> = ps.into_iter().filter(|p| p.slot.is_some()).collect();
            let failed = total - ok.len();
            ok.sort_by_key(|p| p.latency_ms);
            let error_bps = if total == 0 {
                BPS_MAX
            } else {
                (failed as u64 * BPS_MAX as u64 / total as u64) as u16
            };
            WindowFigures {
                endpoint_id,
                latency_ms: if ok.is_empty() {
                    0
                } else {
                    ok[(ok.len() - 1) / 2].latency_ms
                },
                endpoint_slot: ok.iter().filter_map(|p| p.slot).max().unwrap_or(0),
                error_bps,
                unreachable: ok.is_empty(),
            }
        })
        .collect()
}

/// The highest slot anyone reported: the reference lag is measured against (with the
/// keeper's own reference RPCs included by the caller). A frozen node cannot pull it down.
pub fn reference_slot(windows: &[WindowFigures], reference_rpcs: &[u64]) -> u64 {
    windows
        .iter()
        .map(|w| w.endpoint_slot)
        .chain(reference_rpcs.iter().copied())
        .max()
        .unwrap_or(0)
}

/// One endpoint's hysteresis state across windows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Streak {
    pub verdict: Option<Verdict>,
    pub reason: Option<Reason>,
    pub consecutive_bad: u8,
    pub consecutive_good: u8,
}

/// Tracks streaks per endpoint and turns windows into attestation observations.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    streaks: BTreeMap<u32, Streak>,
}

impl Tracker {
    pub fn streak(&self, endpoint_id: u32) -> Streak {
        self.streaks.get(&endpoint_id).copied().unwrap_or_default()
    }

    /// Folds one closed window into the streaks and returns the observations to attest.
    /// Endpoints no longer in `windows` are forgotten (they left the topology).
    pub fn close_window(
        &mut self,
        policy: &Policy,
        reference_slot: u64,
        windows: &[WindowFigures],
    ) -> Vec<ObservationInput> {
        self.streaks
            .retain(|id, _| windows.iter().any(|w| w.endpoint_id == *id));
        windows
            .iter()
            .map(|w| {
                let (verdict, reason) = classify(policy, &w.figures(reference_slot));
                let s = self.streaks.entry(w.endpoint_id).or_default();
                match verdict {
                    Verdict::Down => {
                        s.consecutive_bad = s.consecutive_bad.saturating_add(1);
                        s.consecutive_good = 0;
                    }
                    Verdict::Healthy => {
                        s.consecutive_good = s.consecutive_good.saturating_add(1);
                        s.consecutive_bad = 0;
                    }
                    // Neither a breach nor a recovery: both streaks restart.
                    Verdict::Degraded | Verdict::Unknown => {
                        s.consecutive_bad = 0;
                        s.consecutive_good = 0;
                    }
                }
                s.verdict = Some(verdict);
                s.reason = Some(reason);
                ObservationInput {
                    endpoint_id: w.endpoint_id,
                    latency_ms: w.latency_ms,
                    endpoint_slot: w.endpoint_slot,
                    error_bps: w.error_bps,
                    consecutive_bad: s.consecutive_bad,
                    consecutive_good: s.consecutive_good,
                    flags: if w.unreachable { OBS_UNREACHABLE } else { 0 },
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifeline::state::PolicyParams;

    fn policy() -> Policy {
        PolicyParams::default().into()
    }

    fn ok(id: u32, slot: u64, ms: u32) -> Probe {
        Probe {
            endpoint_id: id,
            slot: Some(slot),
            latency_ms: ms,
        }
    }

    fn failed(id: u32) -> Probe {
        Probe {
            endpoint_id: id,
            slot: None,
            latency_ms: 800,
        }
    }

    #[test]
    fn aggregate_takes_median_latency_max_slot_and_error_rate() {
        let w = aggregate(
            &[1, 2, 3],
            &[
                ok(1, 100, 30),
                ok(1, 101, 90),
                ok(1, 99, 50),
                failed(1),
                ok(2, 80, 10),
                failed(2),
            ],
        );
        assert_eq!(
            w[0],
            WindowFigures {
                endpoint_id: 1,
                latency_ms: 50,
                endpoint_slot: 101,
                error_bps: 2_500,
                unreachable: false
            }
        );
        assert_eq!(
            w[1],
            WindowFigures {
                endpoint_id: 2,
                latency_ms: 10,
                endpoint_slot: 80,
                error_bps: 5_000,
                unreachable: false
            }
        );
        // endpoint 3 was due a probe and produced nothing: unreachable
        assert_eq!(
            w[2],
            WindowFigures {
                endpoint_id: 3,
                latency_ms: 0,
                endpoint_slot: 0,
                error_bps: BPS_MAX,
                unreachable: true
            }
        );
        // probes of endpoints not in the topology are ignored
        assert_eq!(aggregate(&[1], &[ok(9, 1, 1)]).len(), 1);
    }

    #[test]
    fn the_reference_is_the_highest_slot_seen_so_a_frozen_node_cannot_lower_it() {
        let w = aggregate(&[1, 2], &[ok(1, 500, 10), ok(2, 120, 10)]);
        assert_eq!(reference_slot(&w, &[]), 500);
        assert_eq!(reference_slot(&w, &[510]), 510);
        // endpoint 2 is frozen 380 slots behind: the keeper sees lag, whatever getHealth says
        let frozen = w[1].figures(reference_slot(&w, &[]));
        assert_eq!(frozen.slot_lag, 380);
        assert_eq!(classify(&policy(), &frozen).0, Verdict::Down);
    }

    #[test]
    fn streaks_count_consecutive_windows_and_reset_on_change() {
        let p = policy();
        let mut t = Tracker::default();
        let frozen = [WindowFigures {
            endpoint_id: 7,
            latency_ms: 20,
            endpoint_slot: 100,
            error_bps: 0,
            unreachable: false,
        }];
        for n in 1..=3u8 {
            let obs = t.close_window(&p, 1_000, &frozen);
            assert_eq!((obs[0].consecutive_bad, obs[0].consecutive_good), (n, 0));
        }
        let healthy = [WindowFigures {
            endpoint_slot: 1_000,
            ..frozen[0]
        }];
        let obs = t.close_window(&p, 1_000, &healthy);
        assert_eq!((obs[0].consecutive_bad, obs[0].consecutive_good), (0, 1));
        let degraded = [WindowFigures {
            endpoint_slot: 1_000 - p.lag_degraded_slots as u64,
            ..frozen[0]
        }];
        let obs = t.close_window(&p, 1_000, &degraded);
        assert_eq!((obs[0].consecutive_bad, obs[0].consecutive_good), (0, 0));
        assert_eq!(t.streak(7).verdict, Some(Verdict::Degraded));
        // an endpoint that left the topology is forgotten
        t.close_window(&p, 1_000, &[]);
        assert_eq!(t.streak(7), Streak::default());
    }

    #[test]
    fn counters_saturate_instead_of_wrapping() {
        let p = policy();
        let mut t = Tracker::default();
        let down = [WindowFigures {
            endpoint_id: 1,
            latency_ms: 0,
            endpoint_slot: 0,
            error_bps: BPS_MAX,
            unreachable: true,
        }];
        for _ in 0..300 {
            t.close_window(&p, 10, &down);
        }
        assert_eq!(t.streak(1).consecutive_bad, u8::MAX);
    }

    #[test]
    fn observations_carry_what_the_program_needs() {
        let p = policy();
        let mut t = Tracker::default();
        let w = aggregate(&[4], &[failed(4), failed(4)]);
        let obs = t.close_window(&p, 50, &w);
        assert_eq!(obs[0].flags, OBS_UNREACHABLE);
        assert_eq!(obs[0].error_bps, BPS_MAX);
        assert_eq!(obs[0].consecutive_bad, 1);
    }
}
