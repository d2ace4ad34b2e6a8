//! Unit and property tests of every engine rule. They build accounts in memory exactly as
//! the program stores them.
#![allow(
    clippy::needless_range_loop,
    clippy::vec_box,
    clippy::field_reassign_with_default
)]
use anchor_lang::prelude::Pubkey;
use bytemuck::Zeroable;
use proptest::prelude::*;

use super::policy::{effective_quorum, fault_tolerance, quarantine_slots, validate, PolicyError};
use super::verdict::{classify, Figures};
use super::*;
use crate::constants::*;
use crate::state::*;

const NET: Pubkey = Pubkey::new_from_array([7; 32]);
const NOW: u64 = 10_000;

fn keeper_key(i: usize) -> Pubkey {
    Pubkey::new_from_array([i as u8 + 1; 32])
}

struct World {
    network: Box<Network>,
    topology: Box<Topology>,
    reports: Vec<Box<KeeperReport>>,
    now: u64,
}

fn healthy() -> Figures {
    Figures {
        latency_ms: 50,
        slot_lag: 0,
        error_bps: 0,
        unreachable: false,
    }
}

fn frozen() -> Figures {
    Figures {
        slot_lag: 500,
        ..healthy()
    }
}

fn unreachable() -> Figures {
    Figures {
        unreachable: true,
        ..healthy()
    }
}

impl World {
    fn new(keepers: usize, params: PolicyParams) -> Self {
        let mut network: Box<Network> = Box::new(Zeroable::zeroed());
        network.policy = params.into();
        for i in 0..keepers {
            network.keepers[i].keeper = keeper_key(i);
        }
        network.keeper_count = keepers as u8;
        let mut topology: Box<Topology> = Box::new(Zeroable::zeroed());
        topology.network = NET;
        topology.epoch = 5;
        let reports = (0..keepers)
            .map(|i| {
                let mut r: Box<KeeperReport> = Box::new(Zeroable::zeroed());
                r.network = NET;
                r.keeper = keeper_key(i);
                r.seq = 1;
                r.topology_epoch = 5;
                r.reference_slot = NOW;
                r
            })
            .collect();
        Self {
            network,
            topology,
            reports,
            now: NOW,
        }
    }

    fn endpoint(
        &mut self,
        group: u8,
        role: Role,
        provider: &str,
        region: &str,
        priority: u8,
    ) -> u32 {
        let id = self.topology.next_endpoint_id;
        let idx = self.topology.endpoint_count as usize;
        self.topology.endpoints[idx] = Endpoint {
            id,
            group,
            role: role as u8,
            priority,
            provider: text::to_fixed(provider),
            region: text::to_fixed(region),
            ..Endpoint::default()
        };
        self.topology.endpoint_count += 1;
        self.topology.next_endpoint_id += 1;
        id
    }

    /// Records keeper `k`'s view of endpoint `id` the way submit_attestation would.
    fn see(&mut self, k: usize, id: u32, f: Figures, windows: u8, since: u64) {
        let policy = self.network.policy;
        let r = &mut self.reports[k];
        let (verdict, reason) = classify(&policy, &f);
        let o = Observation {
            verdict_since_slot: since,
            endpoint_id: id,
            latency_ms: f.latency_ms,
            slot_lag: f.slot_lag,
            error_bps: f.error_bps,
            verdict: verdict as u8,
            flags: u8::from(f.unreachable),
            consecutive_bad: if verdict == Verdict::Down { windows } else { 0 },
            consecutive_good: if verdict == Verdict::Healthy {
                windows
            } else {
                0
            },
            reason: reason as u8,
            ..Observation::default()
        };
        let n = r.observation_count as usize;
        match r.observations[..n].iter().position(|x| x.endpoint_id == id) {
            Some(i) => r.observations[i] = o,
            None => {
                r.observations[n] = o;
                r.observation_count += 1;
            }
        }
    }

    fn all_see(&mut self, keepers: std::ops::Range<usize>, id: u32, f: Figures) {
        for k in keepers {
            self.see(k, id, f, 10, 0);
        }
    }

    fn snap(&self) -> Snapshot<'_> {
        Snapshot {
            network: &self.network,
            topology: &self.topology,
            now: self.now,
        }
    }

    fn refs(&self) -> Vec<&KeeperReport> {
        self.reports.iter().map(|r| &**r).collect()
    }

    fn migrate(&self, group: u8) -> Result<MigrationPlan, Refusal> {
        let refs = self.refs();
        let snap = self.snap();
        decide_migration(&snap, &collect(&snap, &refs), group)
    }

    fn readmit(&self, id: u32) -> Result<ReadmissionPlan, Refusal> {
        let refs = self.refs();
        let snap = self.snap();
        decide_readmission(&snap, &collect(&snap, &refs), id)
    }
}

/// Four keepers (auto quorum 3), group 0: primary 0 (prov-a/eu), standby 1 (prov-b/us).
fn standard() -> (World, u32, u32) {
    let mut w = World::new(4, PolicyParams::default());
    let p = w.endpoint(0, Role::Primary, "prov-a", "eu", 0);
    let s = w.endpoint(0, Role::Standby, "prov-b", "us", 0);
    w.all_see(0..4, p, healthy());
    w.all_see(0..4, s, healthy());
    (w, p, s)
}

// ---------- verdicts ----------

#[test]
fn classify_applies_hard_thresholds_before_soft_ones() {
    let p: Policy = PolicyParams::default().into();
    let f = healthy();
    assert_eq!(classify(&p, &f), (Verdict::Healthy, Reason::None));
    assert_eq!(
        classify(&p, &unreachable()),
        (Verdict::Down, Reason::Unreachable)
    );
    let at = |f: Figures| classify(&p, &f);
    assert_eq!(
        at(Figures {
            error_bps: p.error_down_bps,
            ..f
        }),
        (Verdict::Down, Reason::ErrorRate)
    );
    assert_eq!(
        at(Figures {
            error_bps: p.error_down_bps - 1,
            ..f
        }),
        (Verdict::Degraded, Reason::ErrorRate)
    );
    assert_eq!(
        at(Figures {
            error_bps: p.error_degraded_bps - 1,
            ..f
        }),
        (Verdict::Healthy, Reason::None)
    );
    assert_eq!(
        at(Figures {
            slot_lag: p.lag_down_slots,
            ..f
        }),
        (Verdict::Down, Reason::SlotLag)
    );
    assert_eq!(
        at(Figures {
            slot_lag: p.lag_degraded_slots,
            ..f
        }),
        (Verdict::Degraded, Reason::SlotLag)
    );
    assert_eq!(
        at(Figures {
            latency_ms: p.latency_down_ms,
            ..f
        }),
        (Verdict::Down, Reason::Latency)
    );
    assert_eq!(
        at(Figures {
            latency_ms: p.latency_degraded_ms,
            ..f
        }),
        (Verdict::Degraded, Reason::Latency)
    );
    // the most severe hard reason wins when several fire
    let all = Figures {
        latency_ms: u32::MAX,
        slot_lag: u32::MAX,
        error_bps: BPS_MAX,
        unreachable: false,
    };
    assert_eq!(at(all), (Verdict::Down, Reason::ErrorRate));
}

#[test]
fn a_frozen_node_answering_ok_is_down_by_lag() {
    let p: Policy = PolicyParams::default().into();
    // fast, no errors, reachable, but its slot stopped: lag against the cluster decides
    assert_eq!(classify(&p, &frozen()), (Verdict::Down, Reason::SlotLag));
}

// ---------- policy ----------

#[test]
fn default_policy_is_valid_and_each_bad_field_is_named() {
    let ok: Policy = PolicyParams::default().into();
    assert_eq!(validate(&ok, 4), Ok(()));
    let bad = |f: fn(&mut PolicyParams)| {
        let mut p = PolicyParams::default();
        f(&mut p);
        validate(&p.into(), 4)
    };
    assert_eq!(bad(|p| p.staleness_slots = 0), Err(PolicyError::Staleness));
    assert_eq!(
        bad(|p| p.staleness_slots = MAX_STALENESS_SLOTS + 1),
        Err(PolicyError::Staleness)
    );
    assert_eq!(
        bad(|p| p.latency_degraded_ms = 0),
        Err(PolicyError::Latency)
    );
    assert_eq!(
        bad(|p| p.latency_degraded_ms = p.latency_down_ms + 1),
        Err(PolicyError::Latency)
    );
    assert_eq!(
        bad(|p| {
            p.latency_degraded_ms = 1;
            p.latency_down_ms = MAX_LATENCY_MS + 1
        }),
        Err(PolicyError::Latency)
    );
    assert_eq!(bad(|p| p.lag_degraded_slots = 0), Err(PolicyError::SlotLag));
    assert_eq!(
        bad(|p| p.lag_degraded_slots = p.lag_down_slots + 1),
        Err(PolicyError::SlotLag)
    );
    assert_eq!(
        bad(|p| p.error_down_bps = BPS_MAX + 1),
        Err(PolicyError::ErrorRate)
    );
    assert_eq!(
        bad(|p| p.error_degraded_bps = 0),
        Err(PolicyError::ErrorRate)
    );
    assert_eq!(bad(|p| p.breach_windows = 0), Err(PolicyError::Windows));
    assert_eq!(
        bad(|p| p.recovery_windows = MAX_WINDOWS + 1),
        Err(PolicyError::Windows)
    );
    assert_eq!(
        bad(|p| p.quarantine_base_slots = 0),
        Err(PolicyError::Quarantine)
    );
    assert_eq!(
        bad(|p| p.quarantine_base_slots = p.quarantine_max_slots + 1),
        Err(PolicyError::Quarantine)
    );
    assert_eq!(bad(|p| p.quorum = 5), Err(PolicyError::Quorum));
    // an explicit quorum may exceed the keeper count only while there are no keepers yet
    let mut p = PolicyParams::default();
    p.quorum = 3;
    assert_eq!(validate(&p.into(), 0), Ok(()));
    p.quorum = (MAX_KEEPERS + 1) as u8;
    assert_eq!(validate(&p.into(), 0), Err(PolicyError::Quorum));
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

// ---------- which reports count ----------

#[test]
fn stale_future_wrong_epoch_foreign_and_unknown_reports_do_not_count() {
    let (mut w, _, _) = standard();
    let stale = w.now - w.network.policy.staleness_slots - 1;
    w.reports[0].reference_slot = stale;
    w.reports[1].reference_slot = w.now + 1;
    w.reports[2].topology_epoch = 4;
    w.reports[3].network = Pubkey::new_from_array([9; 32]);
    let refs = w.refs();
    let snap = w.snap();
    assert!(collect(&snap, &refs).counted.is_empty());

    let (mut w, _, _) = standard();
    w.reports[0].keeper = Pubkey::new_from_array([200; 32]);
    w.reports[1].reference_slot = w.now - w.network.policy.staleness_slots; // oldest still fresh
    let refs = w.refs();
    let snap = w.snap();
    let counted: Vec<usize> = collect(&snap, &refs)
        .counted
        .iter()
        .map(|c| c.keeper_index)
        .collect();
    assert_eq!(counted, vec![1, 2, 3]);
}

#[test]
fn a_keeper_counts_once_and_its_newest_report_wins() {
    let (mut w, p, _) = standard();
    let mut older = w.reports[0].clone();
    w.see(0, p, frozen(), 10, 0);
    w.reports[0].seq = 2;
    older.seq = 1;
    let newer = w.reports[0].clone();
    let snap = w.snap();
    for order in [vec![&*older, &*newer, &*newer], vec![&*newer, &*older]] {
        let b = collect(&snap, &order);
        assert_eq!(b.counted.len(), 1);
        assert_eq!(b.counted[0].report.seq, 2);
        assert_eq!(tally(&snap, &b, p).down, 1);
    }
}

// ---------- tallies ----------

#[test]
fn hysteresis_needs_enough_consecutive_windows() {
    let (mut w, p, _) = standard();
    let need = w.network.policy.breach_windows;
    for k in 0..4 {
        w.see(k, p, frozen(), need - 1, 0);
    }
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
    for k in 0..3 {
        w.see(k, p, frozen(), need, 0);
    }
    assert!(w.migrate(0).is_ok());
}

#[test]
fn a_standby_needs_recovery_windows_before_it_counts_as_healthy() {
    let (mut w, p, s) = standard();
    w.all_see(0..4, p, frozen());
    let need = w.network.policy.recovery_windows;
    for k in 0..4 {
        w.see(k, s, healthy(), need - 1, 0);
    }
    assert_eq!(w.migrate(0), Err(Refusal::NoHealthyStandby));
}

#[test]
fn medians_ignore_a_lying_minority() {
    let (mut w, p, _) = standard();
    w.see(
        0,
        p,
        Figures {
            latency_ms: 40,
            ..healthy()
        },
        10,
        0,
    );
    w.see(
        1,
        p,
        Figures {
            latency_ms: 60,
            ..healthy()
        },
        10,
        0,
    );
    w.see(
        2,
        p,
        Figures {
            latency_ms: 50,
            ..healthy()
        },
        10,
        0,
    );
    w.see(
        3,
        p,
        Figures {
            latency_ms: 900_000,
            slot_lag: u32::MAX,
            ..healthy()
        },
        10,
        0,
    );
    let refs = w.refs();
    let snap = w.snap();
    let t = tally(&snap, &collect(&snap, &refs), p);
    assert_eq!(t.median_latency_ms, 50);
    assert_eq!(t.median_slot_lag, 0);
}

#[test]
fn a_keeper_that_sees_everything_down_is_discounted() {
    let (mut w, p, s) = standard();
    // keepers 0..3 are cut off from the world: every endpoint down
    for k in 0..3 {
        w.see(k, p, unreachable(), 10, 0);
        w.see(k, s, unreachable(), 10, 0);
    }
    let refs = w.refs();
    let snap = w.snap();
    let b = collect(&snap, &refs);
    assert_eq!(b.counted.iter().filter(|c| c.cut_off).count(), 3);
    assert_eq!(tally(&snap, &b, p).down, 0);
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

#[test]
fn the_reason_is_what_most_down_voters_saw() {
    let (mut w, p, _) = standard();
    w.see(0, p, unreachable(), 10, 0);
    w.see(1, p, frozen(), 10, 0);
    w.see(2, p, frozen(), 10, 0);
    let plan = w.migrate(0).unwrap();
    assert_eq!(plan.rule, Reason::SlotLag);
    assert_eq!(plan.evidence.down, 3);
    assert_eq!(plan.evidence.down_voters, 0b0111);
}

// ---------- migration ----------

#[test]
fn quorum_of_breach_reports_migrates_to_the_healthy_standby() {
    let (mut w, p, s) = standard();
    w.all_see(0..3, p, frozen());
    let plan = w.migrate(0).unwrap();
    assert_eq!((plan.from_id, plan.to_id, plan.group), (Some(p), s, 0));
    assert_eq!(
        plan.quarantine_until_slot,
        NOW + w.network.policy.quarantine_base_slots
    );
    assert_eq!(plan.evidence.median_slot_lag, 500);
}

#[test]
fn one_vote_short_of_quorum_does_not_migrate() {
    let (mut w, p, _) = standard();
    w.all_see(0..2, p, frozen());
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

#[test]
fn a_degraded_primary_is_not_migrated() {
    let (mut w, p, _) = standard();
    let lag = w.network.policy.lag_degraded_slots;
    w.all_see(
        0..4,
        p,
        Figures {
            slot_lag: lag,
            ..healthy()
        },
    );
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

#[test]
fn paused_networks_do_not_migrate() {
    let (mut w, p, _) = standard();
    w.all_see(0..4, p, frozen());
    w.network.paused = 1;
    assert_eq!(w.migrate(0), Err(Refusal::Paused));
}

#[test]
fn cooldown_blocks_a_second_migration_until_it_elapses() {
    let (mut w, p, _) = standard();
    w.all_see(0..4, p, frozen());
    let cooldown = w.network.policy.cooldown_slots;
    w.topology.last_migration_slot[0] = NOW - cooldown + 1;
    assert_eq!(
        w.migrate(0),
        Err(Refusal::Cooldown {
            until_slot: NOW + 1
        })
    );
    w.topology.last_migration_slot[0] = NOW - cooldown;
    assert!(w.migrate(0).is_ok());
    // another group's migration does not cool this one down
    w.topology.last_migration_slot[0] = 0;
    w.topology.last_migration_slot[1] = NOW;
    assert!(w.migrate(0).is_ok());
}

#[test]
fn without_a_healthy_standby_the_primary_stays() {
    let (mut w, p, s) = standard();
    w.all_see(0..4, p, frozen());
    // only two of four keepers see the standby healthy; two see it degraded
    let lag = w.network.policy.lag_degraded_slots;
    w.all_see(
        2..4,
        s,
        Figures {
            slot_lag: lag,
            ..healthy()
        },
    );
    assert_eq!(w.migrate(0), Err(Refusal::NoHealthyStandby));
    // and with the standby down too, nothing moves either
    w.all_see(0..4, s, unreachable());
    assert!(w.migrate(0).is_err());
}

#[test]
fn quarantined_and_retired_endpoints_are_never_promoted() {
    let (mut w, p, s) = standard();
    w.all_see(0..4, p, frozen());
    let idx = w.topology.index_of(s).unwrap();
    for role in [Role::Quarantined, Role::Retired] {
        w.topology.endpoints[idx].role = role as u8;
        assert_eq!(w.migrate(0), Err(Refusal::NoHealthyStandby));
    }
}

#[test]
fn standby_choice_prefers_other_provider_and_region_then_priority_latency_id() {
    let mut w = World::new(4, PolicyParams::default());
    let p = w.endpoint(0, Role::Primary, "prov-a", "eu", 0);
    let same_both = w.endpoint(0, Role::Standby, "prov-a", "eu", 0);
    let same_provider = w.endpoint(0, Role::Standby, "prov-a", "us", 0);
    let other_slow = w.endpoint(0, Role::Standby, "prov-b", "us", 5);
    let other_fast = w.endpoint(0, Role::Standby, "prov-c", "ap", 5);
    w.all_see(0..4, p, frozen());
    for e in [same_both, same_provider, other_slow] {
        w.all_see(0..4, e, healthy());
    }
    w.all_see(
        0..4,
        other_fast,
        Figures {
            latency_ms: 20,
            ..healthy()
        },
    );
    assert_eq!(
        w.migrate(0).unwrap().to_id,
        other_fast,
        "diverse first, then latency"
    );
    let i = w.topology.index_of(other_slow).unwrap();
    w.topology.endpoints[i].priority = 1;
    assert_eq!(
        w.migrate(0).unwrap().to_id,
        other_slow,
        "priority beats latency"
    );
    w.all_see(0..4, other_slow, frozen());
    w.all_see(0..4, other_fast, frozen());
    assert_eq!(
        w.migrate(0).unwrap().to_id,
        same_provider,
        "one shared label beats two"
    );
    w.all_see(0..4, same_provider, frozen());
    assert_eq!(w.migrate(0).unwrap().to_id, same_both);
    // equal in everything: lowest id
    let twin = w.endpoint(0, Role::Standby, "prov-a", "eu", 0);
    w.all_see(0..4, twin, healthy());
    assert_eq!(w.migrate(0).unwrap().to_id, same_both.min(twin));
}

#[test]
fn repeat_offenders_stay_out_longer() {
    let (mut w, p, _) = standard();
    w.all_see(0..4, p, frozen());
    let i = w.topology.index_of(p).unwrap();
    w.topology.endpoints[i].ejection_count = 2;
    let base = w.network.policy.quarantine_base_slots;
    assert_eq!(w.migrate(0).unwrap().quarantine_until_slot, NOW + 3 * base);
}

#[test]
fn a_group_without_primary_gets_its_healthiest_standby() {
    let mut w = World::new(4, PolicyParams::default());
    let s = w.endpoint(2, Role::Standby, "prov-b", "us", 0);
    assert_eq!(w.migrate(2), Err(Refusal::NoPrimary));
    w.all_see(0..4, s, healthy());
    let plan = w.migrate(2).unwrap();
    assert_eq!(
        (plan.from_id, plan.to_id, plan.rule),
        (None, s, Reason::VacantPrimary)
    );
}

#[test]
fn invalid_group_and_empty_keeper_set_are_refused() {
    let (w, _, _) = standard();
    assert_eq!(w.migrate(MAX_GROUPS as u8), Err(Refusal::InvalidGroup));
    let mut w = World::new(0, PolicyParams::default());
    let p = w.endpoint(0, Role::Primary, "a", "a", 0);
    w.endpoint(0, Role::Standby, "b", "b", 0);
    let _ = p;
    assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
}

// ---------- readmission ----------

#[test]
fn readmission_needs_elapsed_quarantine_and_full_probation() {
    let (mut w, p, _) = standard();
    let probation = w.network.policy.probation_slots;
    let i = w.topology.index_of(p).unwrap();
    assert_eq!(w.readmit(p), Err(Refusal::NotQuarantined));
    assert_eq!(w.readmit(999), Err(Refusal::EndpointNotFound));
    w.topology.endpoints[i].role = Role::Quarantined as u8;
    w.topology.endpoints[i].quarantine_until_slot = NOW + 1;
    assert_eq!(
        w.readmit(p),
        Err(Refusal::QuarantineActive {
            until_slot: NOW + 1
        })
    );
    w.topology.endpoints[i].quarantine_until_slot = NOW;
    // healthy, but only since one slot short of probation
    for k in 0..4 {
        w.see(k, p, healthy(), 10, NOW - probation + 1);
    }
    assert_eq!(w.readmit(p), Err(Refusal::ProbationIncomplete));
    for k in 0..3 {
        w.see(k, p, healthy(), 10, NOW - probation);
    }
    let plan = w.readmit(p).unwrap();
    assert_eq!(plan.evidence.probation, 3);
    w.network.paused = 1;
    assert_eq!(w.readmit(p), Err(Refusal::Paused));
}

#[test]
fn degraded_is_not_good_enough_for_probation() {
    let (mut w, p, _) = standard();
    let i = w.topology.index_of(p).unwrap();
    w.topology.endpoints[i].role = Role::Quarantined as u8;
    let lag = w.network.policy.lag_degraded_slots;
    for k in 0..4 {
        w.see(
            k,
            p,
            Figures {
                slot_lag: lag,
                ..healthy()
            },
            10,
            0,
        );
    }
    assert_eq!(w.readmit(p), Err(Refusal::ProbationIncomplete));
}

#[test]
fn pending_actions_lists_what_the_chain_would_accept() {
    let (mut w, p, s) = standard();
    assert!(pending_actions(&w.snap(), &w.refs()).is_empty());
    w.all_see(0..4, p, frozen());
    let q = w.endpoint(1, Role::Quarantined, "x", "y", 0);
    w.all_see(0..4, q, healthy());
    let actions = pending_actions(&w.snap(), &w.refs());
    assert_eq!(actions.len(), 2);
    assert!(matches!(&actions[0], Action::Migrate(m) if m.from_id == Some(p) && m.to_id == s));
    assert!(matches!(&actions[1], Action::Readmit(r) if r.endpoint_id == q));
}

// ---------- Byzantine properties ----------

/// A random valid policy and keeper count.
fn policy_and_keepers() -> impl Strategy<Value = (PolicyParams, usize)> {
    (1usize..=MAX_KEEPERS).prop_flat_map(|n| {
        (0u8..=n as u8, 1u8..=4, 1u8..=4).prop_map(move |(quorum, breach, recovery)| {
            let p = PolicyParams {
                quorum,
                breach_windows: breach,
                recovery_windows: recovery,
                ..PolicyParams::default()
            };
            (p, n)
        })
    })
}

/// What a liar claims about each endpoint: arbitrary figures and window counts.
fn lie() -> impl Strategy<Value = (Figures, u8)> {
    (
        any::<u32>(),
        any::<u32>(),
        0u16..=BPS_MAX,
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(|(latency_ms, slot_lag, error_bps, unreachable, windows)| {
            (
                Figures {
                    latency_ms,
                    slot_lag,
                    error_bps,
                    unreachable,
                },
                windows,
            )
        })
}

fn setup(params: PolicyParams, n: usize) -> (World, u32, u32) {
    let mut w = World::new(n, params);
    let p = w.endpoint(0, Role::Primary, "prov-a", "eu", 0);
    let s = w.endpoint(0, Role::Standby, "prov-b", "us", 0);
    (w, p, s)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Up to `safety` liars claiming anything cannot migrate a primary that every honest
    /// keeper sees healthy.
    #[test]
    fn liars_cannot_force_a_migration(
        (params, n) in policy_and_keepers(),
        lies in proptest::collection::vec((lie(), lie()), MAX_KEEPERS),
        liar_seed in any::<u64>(),
    ) {
        let (mut w, p, s) = setup(params, n);
        let (safety, _) = fault_tolerance(&w.network.policy, n);
        let liars = (liar_seed as usize) % (safety + 1);
        for k in 0..n {
            if k < liars {
                let ((pf, pw), (sf, sw)) = lies[k];
                w.see(k, p, pf, pw, 0);
                w.see(k, s, sf, sw, 0);
            } else {
                w.see(k, p, healthy(), 10, 0);
                w.see(k, s, healthy(), 10, 0);
            }
        }
        prop_assert_eq!(w.migrate(0), Err(Refusal::NoBreachQuorum));
    }

    /// Up to `liveness` liars claiming anything cannot block a migration that every honest
    /// keeper sees is needed.
    #[test]
    fn liars_cannot_block_a_needed_migration(
        (params, n) in policy_and_keepers(),
        lies in proptest::collection::vec((lie(), lie()), MAX_KEEPERS),
        liar_seed in any::<u64>(),
    ) {
        let (mut w, p, s) = setup(params, n);
        let (_, liveness) = fault_tolerance(&w.network.policy, n);
        let liars = (liar_seed as usize) % (liveness + 1);
        for k in 0..n {
            if k < liars {
                let ((pf, pw), (sf, sw)) = lies[k];
                w.see(k, p, pf, pw, 0);
                w.see(k, s, sf, sw, 0);
            } else {
                w.see(k, p, frozen(), 64, 0);
                w.see(k, s, healthy(), 64, 0);
            }
        }
        let plan = w.migrate(0);
        prop_assert!(plan.is_ok(), "{:?}", plan);
        prop_assert_eq!(plan.unwrap().to_id, s);
    }

    /// The decision depends on the set of reports, not on their order or repetition.
    #[test]
    fn decisions_are_deterministic_and_order_independent(
        (params, n) in policy_and_keepers(),
        views in proptest::collection::vec((lie(), lie()), MAX_KEEPERS),
        perm_seed in any::<u64>(),
    ) {
        let (mut w, p, s) = setup(params, n);
        for k in 0..n {
            let ((pf, pw), (sf, sw)) = views[k];
            w.see(k, p, pf, pw, 0);
            w.see(k, s, sf, sw, 0);
        }
        let snap = w.snap();
        let refs = w.refs();
        let base = decide_migration(&snap, &collect(&snap, &refs), 0);
        let mut shuffled = refs.clone();
        shuffled.extend(refs.iter().take((perm_seed % 3) as usize));
        let mut seed = perm_seed;
        for i in (1..shuffled.len()).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (seed >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(decide_migration(&snap, &collect(&snap, &shuffled), 0), base);
    }

    /// Stale, future-dated or other-epoch reports (old attestations replayed, or forged
    /// ones with a wrong epoch) never change a decision, whatever they claim.
    #[test]
    fn stale_and_replayed_reports_never_count(
        (params, n) in policy_and_keepers(),
        views in proptest::collection::vec((lie(), lie()), MAX_KEEPERS),
        junk in proptest::collection::vec((lie(), lie(), 0u8..3), 1..=MAX_KEEPERS),
    ) {
        let (mut w, p, s) = setup(params, n);
        for k in 0..n {
            let ((pf, pw), (sf, sw)) = views[k];
            w.see(k, p, pf, pw, 0);
            w.see(k, s, sf, sw, 0);
        }
        let snap_base = {
            let snap = w.snap();
            let refs = w.refs();
            decide_migration(&snap, &collect(&snap, &refs), 0)
        };
        let mut extra = World::new(n, params);
        let staleness = w.network.policy.staleness_slots;
        for (i, ((pf, pw), (sf, sw), kind)) in junk.iter().enumerate() {
            let k = i % n;
            extra.see(k, p, *pf, *pw, 0);
            extra.see(k, s, *sf, *sw, 0);
            let r = &mut extra.reports[k];
            r.seq = u64::MAX; // would win the per-keeper dedup if it counted
            match kind {
                0 => r.reference_slot = NOW - staleness - 1,
                1 => r.reference_slot = NOW + 1,
                _ => r.topology_epoch = 4,
            }
        }
        let snap = w.snap();
        let mut refs = w.refs();
        refs.extend(extra.reports.iter().map(|r| &**r));
        prop_assert_eq!(decide_migration(&snap, &collect(&snap, &refs), 0), snap_base);
    }
}

#[test]
fn every_account_fits_what_one_instruction_may_allocate() {
    const MAX_PERMITTED_DATA_INCREASE: usize = 10 * 1024;
    for (name, space) in [
        ("Network", Network::SPACE),
        ("Topology", Topology::SPACE),
        ("KeeperReport", KeeperReport::SPACE),
    ] {
        assert!(
            space <= MAX_PERMITTED_DATA_INCREASE,
            "{name} is {space} bytes"
        );
    }
}
