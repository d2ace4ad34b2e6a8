//! Byzantine properties over every keeper count, quorum, and topologies of several groups
//! with several standbys.
use super::*;
use crate::constants::{BPS_MAX, MAX_KEEPERS};
use crate::engine::policy::{effective_quorum, fault_tolerance};
use proptest::prelude::*;

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

/// What a liar claims about one endpoint: arbitrary figures and window counts.
fn lie() -> impl Strategy<Value = (Figures, u8)> {
    (
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<bool>()),
        (0u16..=BPS_MAX, any::<bool>(), any::<bool>(), any::<u8>()),
    )
        .prop_map(
            |(
                (latency_ms, slot_lag, stalled_slots, future),
                (error_bps, unreachable, divergent, w),
            )| {
                let f = Figures {
                    latency_ms,
                    slot_lag,
                    stalled_slots,
                    error_bps,
                    unreachable,
                    divergent,
                    future,
                };
                (f, w)
            },
        )
}

/// Groups 0..g, each a primary and `standbys[g]` standbys with varied labels and
/// priorities. Returns (primary, standbys) per group.
fn build(w: &mut World, standbys: &[usize]) -> Vec<(u32, Vec<u32>)> {
    let providers = ["prov-a", "prov-b", "prov-c"];
    let regions = ["eu", "us", "ap"];
    standbys
        .iter()
        .enumerate()
        .map(|(g, &n)| {
            let p = w.endpoint(g as u8, Role::Primary, "prov-a", "eu", 0);
            let s = (0..n)
                .map(|i| {
                    let prov = providers[(g + i) % 3];
                    let region = regions[(g + 2 * i) % 3];
                    w.endpoint(g as u8, Role::Standby, prov, region, (i % 2) as u8)
                })
                .collect();
            (p, s)
        })
        .collect()
}

fn groups() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..=3, 1..=3)
}

/// The standby the honest keepers rank first when every keeper reports `latency(s)`.
fn honest_choice(w: &World, primary: u32, standbys: &[u32], latency: impl Fn(u32) -> u32) -> u32 {
    let p = *w.topology.endpoint(primary).unwrap();
    *standbys
        .iter()
        .min_by_key(|&&s| {
            let e = w.topology.endpoint(s).unwrap();
            let shared = u8::from(p.provider == e.provider) + u8::from(p.region == e.region);
            (shared, e.priority, latency(s), s)
        })
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Tallying a group's endpoints together (what a decision does) gives what tallying
    /// each one alone gives, for every field ranking reads, on arbitrary ballots: rows of
    /// liars, silent keepers, cells left out, URLs changed after a row was written.
    #[test]
    fn a_group_tallied_together_equals_each_endpoint_tallied_alone(
        (params, n) in policy_and_keepers(),
        shape in groups(),
        lies in proptest::collection::vec(lie(), MAX_KEEPERS * 16),
        silent in any::<u16>(),
        changed in any::<u16>(),
        stale in any::<u16>(),
        aged in any::<u16>(),
    ) {
        let mut w = World::new(n, params);
        build(&mut w, &shape);
        let ids: Vec<u32> = w.topology.endpoints().iter().map(|e| e.id).collect();
        let start = w.now;
        let later = start + w.policy().probation_slots + 10;
        for k in 0..n {
            if silent & (1 << k) != 0 {
                continue;
            }
            for (i, &id) in ids.iter().enumerate() {
                // some keepers leave some endpoints out; some see them healthy (voting,
                // toward probation), some healthy on the way to a vote, the rest anything
                match (k + i) % 5 {
                    4 => {}
                    0 => {
                        w.views[k].insert(id, (healthy(), 10));
                    }
                    2 => {
                        w.views[k].insert(id, (healthy(), 0));
                    }
                    _ => {
                        w.views[k].insert(id, lies[k * 16 + i]);
                    }
                }
            }
            // some verdicts have held through probation, some down votes are stale
            if aged & (1 << k) != 0 {
                w.now = start;
                w.reference_age = 0;
                w.attest(k);
            }
            w.now = later;
            w.reference_age = if stale & (1 << k) != 0 { w.policy().staleness_slots + 1 } else { 0 };
            w.attest(k);
        }
        // endpoints whose URL changed after the rows were written: their cells do not count
        for (i, &id) in ids.iter().enumerate() {
            if changed & (1 << i) != 0 {
                let j = w.index(id);
                w.topology.endpoints[j].config_epoch = w.topology.epoch + 1;
            }
        }
        let snap = w.snap();
        let electorate = crate::engine::collect(&snap);
        let positions: Vec<u8> = (0..ids.len() as u8).collect();
        let mut together = vec![Tally::default(); ids.len()];
        crate::engine::ballot::tally_ranking(&snap, &electorate, &positions, &mut together);
        for (j, t) in together.iter().enumerate() {
            let alone = crate::engine::ballot::tally_at(&snap, &electorate, j);
            let ranking = Tally {
                median_slot_lag: 0,
                median_error_bps: 0,
                reason: Reason::None,
                ..alone
            };
            prop_assert_eq!(*t, ranking, "endpoint at {}", j);
        }
    }

    /// Up to `safety` liars claiming anything about every endpoint cannot migrate any
    /// group whose primary every honest keeper sees healthy.
    #[test]
    fn liars_cannot_force_a_migration(
        (params, n) in policy_and_keepers(),
        shape in groups(),
        lies in proptest::collection::vec(lie(), MAX_KEEPERS * 16),
        liar_seed in any::<u64>(),
    ) {
        let mut w = World::new(n, params);
        let topo = build(&mut w, &shape);
        let (safety, _) = fault_tolerance(&w.network.policy, n);
        let liars = (liar_seed as usize) % (safety + 1);
        let ids: Vec<u32> = w.topology.endpoints().iter().map(|e| e.id).collect();
        for k in 0..n {
            for (i, &id) in ids.iter().enumerate() {
                let (f, windows) = if k < liars { lies[k * 16 + i] } else { (healthy(), 10) };
                w.views[k].insert(id, (f, windows));
            }
            w.attest(k);
        }
        for g in 0..topo.len() as u8 {
            prop_assert_eq!(w.migrate(g), Err(Refusal::NoBreachQuorum));
        }
    }

    /// Up to `liveness` liars claiming anything cannot block a needed migration, nor steer
    /// it: every group moves to the standby the honest keepers rank first.
    #[test]
    fn liars_cannot_block_or_steer_a_needed_migration(
        (params, n) in policy_and_keepers(),
        shape in groups(),
        down_mask in any::<u32>(),
        lies in proptest::collection::vec(lie(), MAX_KEEPERS * 16),
        liar_seed in any::<u64>(),
    ) {
        let mut w = World::new(n, params);
        let topo = build(&mut w, &shape);
        let (_, liveness) = fault_tolerance(&w.network.policy, n);
        let liars = (liar_seed as usize) % (liveness + 1);
        // honest keepers: every primary frozen; each standby healthy (latency by id) or,
        // per `down_mask`, down — but the first standby of each group always healthy
        let standby_down = |s: u32, first: bool| !first && down_mask & (1 << (s % 32)) != 0;
        let latency = |s: u32| 20 + 7 * (s % 5);
        let ids: Vec<u32> = w.topology.endpoints().iter().map(|e| e.id).collect();
        for k in 0..n {
            for (i, &id) in ids.iter().enumerate() {
                let view = if k < liars {
                    lies[k * 16 + i]
                } else if topo.iter().any(|(p, _)| *p == id) {
                    (frozen(), 64)
                } else {
                    let first = topo.iter().any(|(_, s)| s[0] == id);
                    if standby_down(id, first) {
                        (unreachable(), 64)
                    } else {
                        (Figures { latency_ms: latency(id), ..healthy() }, 64)
                    }
                };
                w.views[k].insert(id, view);
            }
            w.attest(k);
        }
        for (g, (p, s)) in topo.iter().enumerate() {
            let healthy: Vec<u32> = s
                .iter()
                .enumerate()
                .filter(|(i, &id)| !standby_down(id, *i == 0))
                .map(|(_, &id)| id)
                .collect();
            let plan = w.migrate(g as u8);
            prop_assert!(plan.is_ok(), "group {}: {:?}", g, plan);
            let plan = plan.unwrap();
            prop_assert_eq!(plan.from_id, Some(*p));
            prop_assert_eq!(plan.to_id, honest_choice(&w, *p, &healthy, latency));
        }
    }

    /// While the honest keepers' attestations arrive one by one (in any order), liars who
    /// attested first can delay a migration but never steer it: whenever the chain would
    /// migrate, it picks the standby the honest keepers rank first.
    #[test]
    fn no_prefix_of_the_honest_votes_lets_liars_steer(
        n in 4usize..=MAX_KEEPERS,
        shape in groups(),
        lies in proptest::collection::vec(lie(), MAX_KEEPERS * 16),
        order_seed in any::<u64>(),
    ) {
        let mut w = World::new(n, PolicyParams::default());
        let topo = build(&mut w, &shape);
        let (_, liveness) = fault_tolerance(&w.network.policy, n);
        let liars = liveness.min(n - 1);
        let latency = |s: u32| 20 + 7 * (s % 5);
        let ids: Vec<u32> = w.topology.endpoints().iter().map(|e| e.id).collect();
        for k in 0..liars {
            for (i, &id) in ids.iter().enumerate() {
                w.views[k].insert(id, lies[k * 16 + i]);
            }
            w.attest(k);
        }
        let mut honest: Vec<usize> = (liars..n).collect();
        let mut seed = order_seed;
        for i in (1..honest.len()).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            honest.swap(i, (seed >> 33) as usize % (i + 1));
        }
        for k in honest {
            for &id in &ids {
                let view = if topo.iter().any(|(p, _)| *p == id) {
                    (frozen(), 64)
                } else {
                    (Figures { latency_ms: latency(id), ..healthy() }, 64)
                };
                w.views[k].insert(id, view);
            }
            w.attest(k);
            for (g, (p, s)) in topo.iter().enumerate() {
                if let Ok(plan) = w.migrate(g as u8) {
                    prop_assert_eq!(plan.to_id, honest_choice(&w, *p, s, latency));
                }
            }
        }
        for g in 0..topo.len() as u8 {
            prop_assert!(w.migrate(g).is_ok(), "every honest vote is in: group {} migrates", g);
        }
    }

    /// The decision depends on what the keepers say, not on which slot each one holds.
    /// (And no caller can leave a report out: decisions read the whole on-chain ballot.)
    #[test]
    fn decisions_do_not_depend_on_keeper_slots(
        (params, n) in policy_and_keepers(),
        shape in groups(),
        views in proptest::collection::vec(lie(), MAX_KEEPERS * 16),
        perm_seed in any::<u64>(),
    ) {
        let mut perm: Vec<usize> = (0..MAX_KEEPERS).collect();
        let mut seed = perm_seed;
        for i in (1..perm.len()).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            perm.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let run = |slot_of: &dyn Fn(usize) -> usize| {
            let mut w = World::new(0, params);
            w.views = vec![Default::default(); MAX_KEEPERS];
            let topo = build(&mut w, &shape);
            let ids: Vec<u32> = w.topology.endpoints().iter().map(|e| e.id).collect();
            for k in 0..n {
                let slot = slot_of(k);
                w.network.keepers[slot].keeper = keeper_key(slot);
                w.ballot.reports[slot].keeper = keeper_key(slot);
                for (i, &id) in ids.iter().enumerate() {
                    w.views[slot].insert(id, views[k * 16 + i]);
                }
                w.attest(slot);
            }
            w.network.keeper_count = n as u8;
            (0..topo.len() as u8)
                .map(|g| w.migrate(g).map(|p| (p.from_id, p.to_id, p.rule, p.voters.count_ones(),
                    p.evidence.median_latency_ms, p.evidence.median_slot_lag, p.evidence.median_error_bps)))
                .collect::<Vec<_>>()
        };
        prop_assert_eq!(run(&|k| k), run(&|k| perm[k]));
    }

    /// Rows that must not count never change a decision, whatever they claim: a silent
    /// keeper's, one whose key is not its slot's keeper, one read under an older policy, one
    /// in an empty slot — and "down" evidence older than the staleness window.
    #[test]
    fn rows_that_must_not_count_never_change_a_decision(
        (params, n) in policy_and_keepers(),
        shape in groups(),
        views in proptest::collection::vec(lie(), MAX_KEEPERS * 16),
        junk in proptest::collection::vec(0u8..4, MAX_KEEPERS),
    ) {
        let mut w = World::new(MAX_KEEPERS, params);
        let mut clean = World::new(MAX_KEEPERS, params);
        let topo = build(&mut w, &shape);
        build(&mut clean, &shape);
        let ids: Vec<u32> = w.topology.endpoints().iter().map(|e| e.id).collect();
        for k in 0..MAX_KEEPERS {
            for (i, &id) in ids.iter().enumerate() {
                let (f, windows) = views[k * 16 + i];
                w.views[k].insert(id, (f, windows.max(64)));
            }
            w.attest(k);
            if k < n {
                clean.views[k] = w.views[k].clone();
                clean.attest(k);
            }
        }
        // slots n.. hold rows that must not count; `clean` has those keepers with no row
        for k in n..MAX_KEEPERS {
            match junk[k] {
                0 => w.ballot.reports[k].submitted_slot = NOW - w.policy().liveness_slots - 1,
                1 => w.ballot.reports[k].keeper = Pubkey::new_from_array([250; 32]),
                2 => w.ballot.reports[k].topology_epoch = 0,
                _ => {
                    w.network.keepers[k] = KeeperEntry::default();
                    clean.network.keepers[k] = KeeperEntry::default();
                }
            }
        }
        let in_set = w.network.keepers.iter().filter(|k| !k.is_empty()).count() as u8;
        w.network.keeper_count = in_set;
        clean.network.keeper_count = in_set;
        let decide = |w: &World| (0..topo.len() as u8).map(|g| w.migrate(g)).collect::<Vec<_>>();
        prop_assert_eq!(decide(&w), decide(&clean));

        // stale "down" evidence: the honest rows again, every reference older than staleness
        let mut stale = World::new(n, params);
        build(&mut stale, &shape);
        stale.reference_age = stale.policy().staleness_slots + 1;
        for k in 0..n {
            stale.views[k] = w.views[k].clone();
            stale.attest(k);
        }
        for g in 0..topo.len() as u8 {
            prop_assert_eq!(stale.migrate(g), Err(Refusal::NoBreachQuorum));
        }
    }

    /// With automatic quorum and at most f = ⌊(n−1)/3⌋ liars, every median the engine acts
    /// on — a migration's evidence and the ranking latency of every standby it may promote
    /// — lies within the range of what the honest keepers measured.
    #[test]
    fn medians_the_engine_acts_on_stay_within_the_honest_range(
        n in 1usize..=MAX_KEEPERS,
        honest_lag in proptest::collection::vec(0u32..5_000, MAX_KEEPERS),
        honest_ms in proptest::collection::vec(1u32..400, MAX_KEEPERS * 4),
        lies in proptest::collection::vec(lie(), MAX_KEEPERS * 4),
    ) {
        let mut w = World::new(n, PolicyParams::default());
        let (p, s) = build(&mut w, &[3]).remove(0);
        let f = (n - 1) / 3;
        let mut lag_range = (u32::MAX, 0);
        let mut ms_range = [(u32::MAX, 0u32); 3];
        for k in 0..n {
            if k < f {
                w.views[k].insert(p, lies[k * 4]);
                for i in 0..3 {
                    w.views[k].insert(s[i], lies[k * 4 + 1 + i]);
                }
            } else {
                let lag = w.policy().lag_down_slots + honest_lag[k];
                lag_range = (lag_range.0.min(lag), lag_range.1.max(lag));
                w.views[k].insert(p, (Figures { slot_lag: lag, ..healthy() }, 64));
                for i in 0..3 {
                    let ms = honest_ms[k * 4 + i];
                    ms_range[i] = (ms_range[i].0.min(ms), ms_range[i].1.max(ms));
                    w.views[k].insert(s[i], (Figures { latency_ms: ms, ..healthy() }, 64));
                }
            }
            w.attest(k);
        }
        let quorum = effective_quorum(&w.policy(), n);
        let in_range = |v: u32, (lo, hi): (u32, u32)| lo <= v && v <= hi;
        if let Ok(plan) = w.migrate(0) {
            prop_assert!(in_range(plan.evidence.median_slot_lag, lag_range),
                "lag median {} outside {:?}", plan.evidence.median_slot_lag, lag_range);
        }
        for i in 0..3 {
            let t = w.tally(s[i]);
            if t.healthy as usize >= quorum {
                prop_assert!(in_range(t.median_latency_ms, ms_range[i]),
                    "standby {} latency median {} outside {:?}", i, t.median_latency_ms, ms_range[i]);
            }
        }
    }
}
