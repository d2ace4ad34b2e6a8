//! Policy validation, quorum sizing and quarantine growth.
use super::*;
use crate::constants::*;
use crate::engine::policy::{effective_quorum, fault_tolerance, quarantine_slots, validate};

#[test]
fn default_policy_is_valid_and_each_bad_field_is_named() {
    let ok: Policy = PolicyParams::default().into();
    assert_eq!(validate(&ok, 4), Ok(()));
    let bad = |f: fn(&mut PolicyParams)| {
        let mut p = PolicyParams::default();
        f(&mut p);
        validate(&p.into(), 4).map_err(|e| e.field)
    };
    type Case = (fn(&mut PolicyParams), &'static str);
    let cases: [Case; 20] = [
        (|p| p.staleness_slots = 0, "staleness_slots"),
        (
            |p| p.staleness_slots = MAX_STALENESS_SLOTS + 1,
            "staleness_slots",
        ),
        (
            |p| p.liveness_slots = p.staleness_slots - 1,
            "liveness_slots",
        ),
        (
            |p| p.liveness_slots = MAX_STALENESS_SLOTS + 1,
            "liveness_slots",
        ),
        (|p| p.latency_degraded_ms = 0, "latency_degraded_ms"),
        (
            |p| p.latency_degraded_ms = p.latency_down_ms + 1,
            "latency_degraded_ms",
        ),
        (
            |p| {
                p.latency_degraded_ms = 1;
                p.latency_down_ms = MAX_LATENCY_MS + 1
            },
            "latency_down_ms",
        ),
        (|p| p.lag_degraded_slots = 0, "lag_degraded_slots"),
        (
            |p| p.lag_degraded_slots = p.lag_down_slots + 1,
            "lag_degraded_slots",
        ),
        (|p| p.lag_down_slots = MAX_LAG_SLOTS + 1, "lag_down_slots"),
        (|p| p.stall_slots = p.lag_down_slots + 1, "stall_slots"),
        (|p| p.error_down_bps = BPS_MAX + 1, "error_down_bps"),
        (|p| p.error_degraded_bps = 0, "error_degraded_bps"),
        (
            |p| p.error_degraded_bps = p.error_down_bps + 1,
            "error_degraded_bps",
        ),
        (|p| p.breach_windows = 0, "breach_windows"),
        (|p| p.recovery_windows = MAX_WINDOWS + 1, "recovery_windows"),
        (|p| p.quarantine_base_slots = 0, "quarantine_base_slots"),
        (
            |p| p.quarantine_base_slots = p.quarantine_max_slots + 1,
            "quarantine_base_slots",
        ),
        (|p| p.quorum = 5, "quorum"),
        (|p| p.quorum = (MAX_KEEPERS + 1) as u8, "quorum"),
    ];
    for (f, field) in cases {
        assert_eq!(bad(f), Err(field));
    }
    // stall detection may be switched off
    assert_eq!(bad(|p| p.stall_slots = 0), Ok(()));
    // an explicit quorum may exceed the keeper count only while there are no keepers yet
    let mut p = PolicyParams::default();
    p.quorum = 3;
    assert_eq!(validate(&p.into(), 0), Ok(()));
    p.quorum = (MAX_KEEPERS + 1) as u8;
    let err = validate(&p.into(), 0).unwrap_err();
    assert_eq!(err.field, "quorum");
    assert!(err.to_string().starts_with("policy.quorum: "), "{err}");
}

#[test]
fn every_policy_field_is_checked_by_validation_or_needs_none() {
    // A field whose every value is valid needs no rule; any other field must have one,
    // so a new field cannot be added without thinking about its range.
    let unchecked = ["cooldown_slots", "probation_slots"];
    for f in PolicyParams::FIELDS {
        let mut p = PolicyParams::default();
        let refused = [0, f.max].into_iter().any(|v| {
            (f.set)(&mut p, v);
            validate(&p.into(), 4).is_err()
        });
        assert_eq!(
            refused,
            !unchecked.contains(&f.name),
            "{}: extreme values refused = {refused}",
            f.name
        );
    }
}

#[test]
fn quorum_is_more_than_two_thirds_by_default_and_never_below_majority() {
    let auto: Policy = PolicyParams::default().into();
    let table = [
        (1, 1),
        (2, 2),
        (3, 3),
        (4, 3),
        (5, 4),
        (6, 5),
        (7, 5),
        (10, 7),
        (16, 11),
    ];
    for (n, q) in table {
        assert_eq!(effective_quorum(&auto, n), q, "n={n}");
    }
    assert_eq!(effective_quorum(&auto, 0), usize::MAX);
    let mut explicit = auto;
    explicit.quorum = 1;
    assert_eq!(
        effective_quorum(&explicit, 4),
        3,
        "raised to a strict majority"
    );
    explicit.quorum = 4;
    assert_eq!(effective_quorum(&explicit, 4), 4);
    assert_eq!(fault_tolerance(&auto, 4), (2, 1));
    assert_eq!(fault_tolerance(&auto, 7), (4, 2));
    assert_eq!(
        fault_tolerance(&auto, 3),
        (2, 0),
        "three keepers tolerate no silent one"
    );
}

#[test]
fn quarantine_grows_with_each_ejection_and_is_capped() {
    let p: Policy = PolicyParams::default().into();
    assert_eq!(quarantine_slots(&p, 1), p.quarantine_base_slots);
    assert_eq!(quarantine_slots(&p, 3), 3 * p.quarantine_base_slots);
    assert_eq!(quarantine_slots(&p, u16::MAX), p.quarantine_max_slots);
    let mut huge = p;
    huge.quarantine_base_slots = u64::MAX / 2;
    huge.quarantine_max_slots = u64::MAX;
    assert_eq!(
        quarantine_slots(&huge, 3),
        u64::MAX,
        "saturates instead of overflowing"
    );
}

#[test]
fn every_limit_is_inclusive() {
    // each bound at its edge at once: equal thresholds, the maxima, the largest quorum
    let edge = PolicyParams {
        staleness_slots: MAX_STALENESS_SLOTS,
        liveness_slots: MAX_STALENESS_SLOTS,
        latency_degraded_ms: MAX_LATENCY_MS,
        latency_down_ms: MAX_LATENCY_MS,
        lag_degraded_slots: MAX_LAG_SLOTS,
        lag_down_slots: MAX_LAG_SLOTS,
        stall_slots: MAX_LAG_SLOTS,
        error_degraded_bps: BPS_MAX,
        error_down_bps: BPS_MAX,
        breach_windows: MAX_WINDOWS,
        recovery_windows: MAX_WINDOWS,
        quarantine_base_slots: 9_000,
        quarantine_max_slots: 9_000,
        quorum: MAX_KEEPERS as u8,
        ..PolicyParams::default()
    };
    assert_eq!(validate(&edge.into(), MAX_KEEPERS), Ok(()));
    // and liveness may equal a small staleness
    let equal = PolicyParams {
        staleness_slots: 1,
        liveness_slots: 1,
        breach_windows: 1,
        recovery_windows: 1,
        ..PolicyParams::default()
    };
    assert_eq!(validate(&equal.into(), 4), Ok(()));
}
