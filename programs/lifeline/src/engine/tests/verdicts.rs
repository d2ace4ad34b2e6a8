//! From figures to verdicts: thresholds, their order, stall detection.
use super::*;
use crate::constants::BPS_MAX;

#[test]
fn classify_applies_hard_thresholds_before_soft_ones() {
    let p: Policy = PolicyParams::default().into();
    let f = healthy();
    let at = |f: Figures| classify(&p, &f);
    assert_eq!(at(f), (Verdict::Healthy, Reason::None));
    assert_eq!(at(unreachable()), (Verdict::Down, Reason::Unreachable));
    let cases = [
        (
            Figures {
                error_bps: p.error_down_bps,
                ..f
            },
            (Verdict::Down, Reason::ErrorRate),
        ),
        (
            Figures {
                error_bps: p.error_down_bps - 1,
                ..f
            },
            (Verdict::Degraded, Reason::ErrorRate),
        ),
        (
            Figures {
                error_bps: p.error_degraded_bps - 1,
                ..f
            },
            (Verdict::Healthy, Reason::None),
        ),
        (
            Figures {
                divergent: true,
                ..f
            },
            (Verdict::Down, Reason::Divergent),
        ),
        (
            Figures {
                slot_lag: p.lag_down_slots,
                ..f
            },
            (Verdict::Down, Reason::SlotLag),
        ),
        (
            Figures {
                slot_lag: p.lag_degraded_slots,
                ..f
            },
            (Verdict::Degraded, Reason::SlotLag),
        ),
        (
            Figures {
                slot_lag: p.lag_degraded_slots - 1,
                ..f
            },
            (Verdict::Healthy, Reason::None),
        ),
        (
            Figures {
                latency_ms: p.latency_down_ms,
                ..f
            },
            (Verdict::Down, Reason::Latency),
        ),
        (
            Figures {
                latency_ms: p.latency_degraded_ms,
                ..f
            },
            (Verdict::Degraded, Reason::Latency),
        ),
        (
            Figures {
                latency_ms: p.latency_degraded_ms - 1,
                ..f
            },
            (Verdict::Healthy, Reason::None),
        ),
    ];
    for (figures, expected) in cases {
        assert_eq!(at(figures), expected, "{figures:?}");
    }
    // the most severe hard reason wins when several fire
    let all = Figures {
        latency_ms: u32::MAX,
        slot_lag: u32::MAX,
        stalled_slots: u32::MAX,
        error_bps: BPS_MAX,
        unreachable: false,
        divergent: true,
        future: false,
    };
    assert_eq!(at(all), (Verdict::Down, Reason::ErrorRate));
    assert_eq!(
        at(Figures {
            future: true,
            ..all
        }),
        (Verdict::Down, Reason::Future),
        "an answer from the future is named before the error rate it feeds"
    );
    // from the future: down, whatever else it claims (a fresh slot, no errors)
    let future = Figures {
        future: true,
        ..Figures::default()
    };
    assert_eq!(at(future), (Verdict::Down, Reason::Future));
    assert_eq!(
        at(Figures {
            unreachable: true,
            ..future
        }),
        (Verdict::Down, Reason::Unreachable)
    );
}

#[test]
fn a_frozen_node_answering_ok_is_down_by_stall_long_before_it_is_far_behind() {
    let p: Policy = PolicyParams::default().into();
    // fast, no errors, reachable; its slot stood still while the cluster moved 2 slots
    let stuck = Figures {
        slot_lag: p.stall_slots,
        stalled_slots: p.stall_slots,
        ..healthy()
    };
    assert!(p.stall_slots < p.lag_degraded_slots);
    assert_eq!(classify(&p, &stuck), (Verdict::Down, Reason::Stalled));
    // and without stall detection the same node is still fine until it is far behind
    let off = Policy {
        stall_slots: 0,
        ..p
    };
    assert_eq!(classify(&off, &stuck), (Verdict::Healthy, Reason::None));
    assert_eq!(classify(&off, &frozen()), (Verdict::Down, Reason::SlotLag));
}

#[test]
fn a_healthy_node_briefly_one_slot_behind_is_not_stalled() {
    let p: Policy = PolicyParams::default().into();
    // the same slot at two probes while the reference moved one slot: just behind
    let blip = Figures {
        slot_lag: 1,
        stalled_slots: 1,
        ..healthy()
    };
    assert_eq!(classify(&p, &blip), (Verdict::Healthy, Reason::None));
}

#[test]
fn a_stall_cannot_be_claimed_without_the_lag_to_show_for_it() {
    let p: Policy = PolicyParams::default().into();
    // a keeper claims the slot has not moved for 1,000 slots, yet the node is current
    let claimed = Figures {
        slot_lag: 0,
        stalled_slots: 1_000,
        ..healthy()
    };
    assert_eq!(claimed.stall(), 0);
    assert_eq!(classify(&p, &claimed), (Verdict::Healthy, Reason::None));
    // a node one slot behind is credited one slot of stall, whatever is claimed
    let one = Figures {
        slot_lag: 1,
        ..claimed
    };
    assert_eq!(classify(&p, &one), (Verdict::Healthy, Reason::None));
}
