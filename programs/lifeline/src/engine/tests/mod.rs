//! Unit and property tests of every engine rule. They build accounts in memory exactly as
//! the program stores them, and record attestations through `engine::record`, the
//! function `submit_attestation` calls.
#![allow(clippy::needless_range_loop, clippy::field_reassign_with_default)]
use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use bytemuck::Zeroable;

use super::verdict::{classify, Figures};
use super::*;
use crate::state::*;

mod ballot;
mod migration;
mod policy;
mod properties;
mod readmission;
mod verdicts;

const NET: Pubkey = Pubkey::new_from_array([7; 32]);
const NOW: u64 = 10_000;
const EPOCH: u64 = 5;

fn keeper_key(i: usize) -> Pubkey {
    Pubkey::new_from_array([i as u8 + 1; 32])
}

fn healthy() -> Figures {
    Figures {
        latency_ms: 50,
        ..Figures::default()
    }
}

fn frozen() -> Figures {
    Figures {
        slot_lag: 500,
        stalled_slots: 500,
        ..healthy()
    }
}

fn unreachable() -> Figures {
    Figures {
        unreachable: true,
        ..healthy()
    }
}

fn degraded_lag(p: &Policy) -> Figures {
    Figures {
        slot_lag: p.lag_degraded_slots,
        ..healthy()
    }
}

/// A network, its topology and ballot, and what each keeper currently sees.
struct World {
    network: Box<Network>,
    topology: Box<Topology>,
    ballot: Box<Ballot>,
    now: u64,
    /// How far behind `now` keepers put their reference slot.
    reference_age: u64,
    views: Vec<BTreeMap<u32, (Figures, u8)>>,
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
        topology.epoch = EPOCH;
        topology.policy_epoch = 1;
        let mut ballot: Box<Ballot> = Box::new(Zeroable::zeroed());
        ballot.network = NET;
        for i in 0..keepers {
            ballot.reports[i].keeper = keeper_key(i);
        }
        Self {
            network,
            topology,
            ballot,
            now: NOW,
            reference_age: 0,
            views: vec![BTreeMap::new(); keepers],
        }
    }

    fn policy(&self) -> Policy {
        self.network.policy
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
            config_epoch: self.topology.epoch,
            provider: text::to_fixed(provider),
            region: text::to_fixed(region),
            ..Endpoint::default()
        };
        self.topology.endpoint_count += 1;
        self.topology.next_endpoint_id += 1;
        self.ballot.clear_column(idx);
        id
    }

    fn index(&self, id: u32) -> usize {
        self.topology.index_of(id).expect("endpoint exists")
    }

    fn set_role(&mut self, id: u32, role: Role) {
        let i = self.index(id);
        self.topology.endpoints[i].role = role as u8;
    }

    /// Keeper `k` now sees endpoint `id` with figures `f` for `windows` windows, and
    /// attests its whole view at `self.now` (as a real keeper does).
    fn see(&mut self, k: usize, id: u32, f: Figures, windows: u8) {
        self.views[k].insert(id, (f, windows));
        self.attest(k);
    }

    fn all_see(&mut self, keepers: std::ops::Range<usize>, id: u32, f: Figures) {
        for k in keepers {
            self.see(k, id, f, 10);
        }
    }

    /// Keeper `k` attests its current view at `self.now` through `engine::record`.
    fn attest(&mut self, k: usize) {
        let policy = self.policy();
        let observations: Vec<ObservationInput> = self.views[k]
            .iter()
            .map(|(&id, &(f, windows))| input(&policy, id, &f, windows))
            .collect();
        let row = &mut self.ballot.reports[k];
        let att = Attestation {
            seq: row.seq + 1,
            topology_epoch: self.topology.epoch,
            reference_slot: self.now - self.reference_age,
            observations: &observations,
        };
        record(&policy, &self.topology, row, keeper_key(k), &att, self.now);
    }

    fn attest_all(&mut self) {
        for k in 0..self.views.len() {
            self.attest(k);
        }
    }

    fn snap(&self) -> Snapshot<'_> {
        Snapshot {
            network: &self.network,
            topology: &self.topology,
            ballot: &self.ballot,
            now: self.now,
        }
    }

    fn migrate(&self, group: u8) -> Result<MigrationPlan, Refusal> {
        let snap = self.snap();
        decide_migration(&snap, &collect(&snap), group)
    }

    fn readmit(&self, id: u32) -> Result<ReadmissionPlan, Refusal> {
        let snap = self.snap();
        decide_readmission(&snap, &collect(&snap), id)
    }

    fn tally(&self, id: u32) -> Tally {
        let snap = self.snap();
        tally(&snap, &collect(&snap), id)
    }

    /// Applies a plan the way the program does.
    fn apply(&mut self, plan: &MigrationPlan) {
        self.topology
            .apply_failover(
                plan.record(),
                plan.from_id.map(|_| plan.quarantine_until_slot),
                self.now,
            )
            .unwrap();
    }
}

/// What a keeper attests for figures `f` seen for `windows` consecutive windows.
fn input(policy: &Policy, id: u32, f: &Figures, windows: u8) -> ObservationInput {
    let (verdict, _) = classify(policy, f);
    ObservationInput {
        endpoint_id: id,
        latency_ms: f.latency_ms,
        slot_lag: f.slot_lag,
        stalled_slots: f.stalled_slots.min(u16::MAX as u32) as u16,
        error_bps: f.error_bps,
        consecutive_bad: if verdict == Verdict::Down { windows } else { 0 },
        consecutive_good: if verdict == Verdict::Healthy {
            windows
        } else {
            0
        },
        flags: (u8::from(f.unreachable) * OBS_UNREACHABLE)
            | (u8::from(f.divergent) * OBS_DIVERGENT)
            | (u8::from(f.future) * OBS_FUTURE),
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

#[test]
fn every_account_fits_what_one_instruction_may_allocate() {
    const MAX_PERMITTED_DATA_INCREASE: usize = 10 * 1024;
    for (name, space) in [
        ("Network", Network::SPACE),
        ("Topology", Topology::SPACE),
        ("Ballot", Ballot::SPACE),
    ] {
        assert!(
            space <= MAX_PERMITTED_DATA_INCREASE,
            "{name} is {space} bytes"
        );
    }
}
