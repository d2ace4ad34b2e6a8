//! The ballot: how an attestation becomes a keeper's row of votes (`record`), which rows
//! count (`collect`), and what the counted rows say about one endpoint (`tally`).
//!
//! Every decision reads the whole on-chain ballot, so nobody chooses which reports a
//! decision sees.
use anchor_lang::prelude::Pubkey;

use crate::constants::{BPS_MAX, MAX_ENDPOINTS, MAX_KEEPERS};
use crate::engine::verdict::{classify, Figures};
use crate::engine::{policy::effective_quorum, Snapshot};
use crate::state::{
    KeeperReport, ObservationInput, Policy, Reason, Topology, Verdict, Vote, OBS_DIVERGENT,
    OBS_FLAGS, OBS_FUTURE, OBS_UNREACHABLE, VOTE_DOWN, VOTE_HEALTHY,
};

/// What a keeper's attestation carries besides its key.
#[derive(Clone, Copy, Debug)]
pub struct Attestation<'a> {
    pub seq: u64,
    pub topology_epoch: u64,
    pub reference_slot: u64,
    pub observations: &'a [ObservationInput],
}

/// Verdict counts of one recorded attestation (for its event).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    pub healthy: u8,
    pub degraded: u8,
    pub down: u8,
}

/// Rewrites `row` (this keeper's ballot row) from an attestation landing at `now`. The
/// verdict of each cell is computed here from the figures, and the slot since which it
/// has held is counted here from landing slots: a healthy streak is earned, never claimed.
/// The streak restarts when the verdict changes, after a gap longer than
/// `liveness_slots`, when the policy changed, and when the endpoint's URL or kind changed.
/// Endpoints the attestation leaves out, and endpoints whose identity changed after the
/// epoch the keeper read, are left without a vote.
pub fn record(
    policy: &Policy,
    topology: &Topology,
    row: &mut KeeperReport,
    keeper: Pubkey,
    att: &Attestation,
    now: u64,
) -> Recorded {
    let continuing = row.keeper == keeper
        && row.submitted_slot != 0
        && now.saturating_sub(row.submitted_slot) <= policy.liveness_slots
        && row.topology_epoch >= topology.policy_epoch;
    let elapsed = now.saturating_sub(row.submitted_slot);
    let mut counts = Recorded::default();
    for (j, vote) in row.votes.iter_mut().enumerate() {
        let Some(e) = topology.endpoints().get(j) else {
            *vote = Vote::default();
            continue;
        };
        // Observations usually come in topology order: look at position j first.
        let input = match att.observations.get(j) {
            Some(o) if o.endpoint_id == e.id => Some(o),
            _ => att.observations.iter().find(|o| o.endpoint_id == e.id),
        }
        .filter(|_| e.config_epoch <= att.topology_epoch);
        let Some(o) = input else {
            *vote = Vote::default();
            continue;
        };
        let judged = judge(policy, o);
        let age = if continuing && vote.verdict() == judged.verdict {
            (vote.verdict_age_slots as u64).saturating_add(elapsed)
        } else {
            0
        };
        *vote = Vote {
            latency_ms: o.latency_ms,
            verdict_age_slots: age.min(u32::MAX as u64) as u32,
            slot_lag: o.slot_lag.min(u16::MAX as u32) as u16,
            error_bps: o.error_bps,
            verdict: judged.verdict as u8,
            reason: judged.reason as u8,
            flags: judged.flags,
            streak: judged.streak,
        };
        let verdict = judged.verdict;
        match verdict {
            Verdict::Healthy => counts.healthy += 1,
            Verdict::Degraded => counts.degraded += 1,
            Verdict::Down => counts.down += 1,
            Verdict::Unknown => {}
        }
    }
    row.keeper = keeper;
    row.seq = att.seq;
    row.submitted_slot = now;
    row.reference_slot = att.reference_slot;
    row.topology_epoch = att.topology_epoch;
    counts
}

/// What the program stores for one observation, before the streak's age.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Judged {
    pub verdict: Verdict,
    pub reason: Reason,
    /// Attested `OBS_*` flags plus `VOTE_DOWN` / `VOTE_HEALTHY`.
    pub flags: u8,
    pub streak: u8,
}

impl Judged {
    pub fn votes(&self) -> u8 {
        self.flags & (VOTE_DOWN | VOTE_HEALTHY)
    }
}

/// Judges one observation under `policy`: the verdict from the figures, and the vote the
/// keeper's streak earns (down after `breach_windows` bad windows, healthy after
/// `recovery_windows` good ones). Keepers call it to predict what the chain will record.
pub fn judge(policy: &Policy, o: &ObservationInput) -> Judged {
    let (verdict, reason) = classify(policy, &figures(o));
    let (vote, streak) = match verdict {
        Verdict::Down => (
            if o.consecutive_bad >= policy.breach_windows {
                VOTE_DOWN
            } else {
                0
            },
            o.consecutive_bad,
        ),
        Verdict::Healthy => (
            if o.consecutive_good >= policy.recovery_windows {
                VOTE_HEALTHY
            } else {
                0
            },
            o.consecutive_good,
        ),
        _ => (0, 0),
    };
    Judged {
        verdict,
        reason,
        flags: (o.flags & OBS_FLAGS) | vote,
        streak,
    }
}

/// The figures an observation carries, as `classify` reads them.
pub fn figures(o: &ObservationInput) -> Figures {
    Figures {
        latency_ms: o.latency_ms,
        slot_lag: o.slot_lag,
        stalled_slots: o.stalled_slots as u32,
        error_bps: o.error_bps.min(BPS_MAX),
        unreachable: o.flags & OBS_UNREACHABLE != 0,
        divergent: o.flags & OBS_DIVERGENT != 0,
        future: o.flags & OBS_FUTURE != 0,
    }
}

/// A row that counts: its keeper is in the set, it attested within `liveness_slots`, under
/// the current policy.
#[derive(Clone, Copy)]
pub struct CountedReport<'a> {
    /// The keeper's slot in `Network.keepers` (the bit in voter bitmaps).
    pub keeper_index: usize,
    pub report: &'a KeeperReport,
    /// The report's reference slot is within `staleness_slots`: its "down" votes count.
    /// (A migration is decided on fresh evidence; "healthy" votes only need a live keeper,
    /// because a keeper attests as soon as a verdict changes.)
    pub fresh: bool,
    /// The keeper could reach no endpoint at all (every cell unreachable): it is more
    /// likely cut off itself than every endpoint failed, so its down votes are discounted.
    pub cut_off: bool,
}

/// The counted rows of the ballot and the quorum they are measured against.
pub struct Electorate<'a> {
    /// At most one per keeper, by keeper index.
    pub counted: Vec<CountedReport<'a>>,
    pub quorum: usize,
}

/// Which rows of the ballot count at `snap.now`.
pub fn collect<'a>(snap: &Snapshot<'a>) -> Electorate<'a> {
    let policy = &snap.network.policy;
    let counted = snap
        .ballot
        .reports
        .iter()
        .enumerate()
        .filter(|(i, r)| {
            let k = &snap.network.keepers[*i];
            !k.is_empty()
                && r.keeper == k.keeper
                && r.submitted_slot != 0
                && r.submitted_slot <= snap.now
                && snap.now - r.submitted_slot <= policy.liveness_slots
                && r.topology_epoch >= snap.topology.policy_epoch
        })
        .map(|(keeper_index, report)| CountedReport {
            keeper_index,
            report,
            fresh: report.reference_slot <= snap.now
                && snap.now - report.reference_slot <= policy.staleness_slots,
            cut_off: is_cut_off(snap.topology, report),
        })
        .collect();
    Electorate {
        counted,
        quorum: effective_quorum(policy, snap.network.keeper_count as usize),
    }
}

/// Cut off = reached nothing: at least two endpoints observed and every one unreachable.
/// A keeper that reaches even one endpoint (of any role: a quarantined one on probation
/// counts) is not cut off, so a correlated outage of every serving endpoint cannot silence
/// the keepers that watch the recovering one.
fn is_cut_off(topology: &Topology, report: &KeeperReport) -> bool {
    let mut observed = 0usize;
    for (j, v) in report.votes[..topology.endpoints().len()]
        .iter()
        .enumerate()
    {
        if !valid_cell(topology, report, j) {
            continue;
        }
        if !v.unreachable() {
            return false;
        }
        observed += 1;
    }
    observed >= 2
}

/// A cell counts if it holds an observation of the endpoint's current identity.
pub(crate) fn valid_cell(topology: &Topology, report: &KeeperReport, j: usize) -> bool {
    report.votes[j].is_observed()
        && topology
            .endpoints()
            .get(j)
            .is_some_and(|e| e.config_epoch <= report.topology_epoch)
}

/// What the counted rows say about one endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Counted rows (not cut off) that observed the endpoint.
    pub observed: u8,
    /// Keepers voting "down" (fresh reports only) — bitmap over keeper slots.
    pub down_voters: u16,
    pub down: u8,
    /// Keepers voting "healthy".
    pub healthy_voters: u16,
    pub healthy: u8,
    /// Counted keepers whose verdict is healthy but whose good streak has not reached
    /// `recovery_windows` yet: on their way to a healthy vote.
    pub pending_healthy: u8,
    /// Healthy voters whose verdict has held for at least `probation_slots`.
    pub probation_voters: u16,
    pub probation: u8,
    /// Lower medians over the observations: with automatic quorum and at most
    /// ⌊(n−1)/3⌋ liars, any median the engine acts on lies within the honest range.
    pub median_latency_ms: u32,
    pub median_slot_lag: u32,
    pub median_error_bps: u16,
    /// The reason most down voters give (ties: the higher code).
    pub reason: Reason,
}

impl Tally {
    /// Whether the endpoint could still be voted healthy by a quorum of `keepers`: the
    /// keepers that have not judged it (silent, no row, not counted) or are on their way
    /// to a healthy vote, added to its healthy votes, reach `quorum`.
    pub fn may_become_healthy(&self, keepers: usize, quorum: usize) -> bool {
        let judged_not_healthy = (self.observed as usize)
            .saturating_sub(self.healthy as usize + self.pending_healthy as usize);
        keepers.saturating_sub(judged_not_healthy) >= quorum
    }
}

/// Tallies the endpoint with id `endpoint_id` (an unknown id tallies nothing).
pub fn tally(snap: &Snapshot, electorate: &Electorate, endpoint_id: u32) -> Tally {
    match snap.topology.index_of(endpoint_id) {
        Some(j) => tally_at(snap, electorate, j),
        None => Tally::default(),
    }
}

/// Tallies the endpoint at position `j` of the topology: everything, as evidence.
pub fn tally_at(snap: &Snapshot, electorate: &Electorate, j: usize) -> Tally {
    let p = &snap.network.policy;
    let mut t = Tally::default();
    let mut latency = [0u32; MAX_KEEPERS];
    let mut lag = [0u32; MAX_KEEPERS];
    let mut errors = [0u32; MAX_KEEPERS];
    let mut reasons = [0u8; 8];
    let mut n = 0usize;
    if j >= MAX_ENDPOINTS {
        return t;
    }
    for c in electorate.counted.iter().filter(|c| !c.cut_off) {
        if !valid_cell(snap.topology, c.report, j) {
            continue;
        }
        let v = &c.report.votes[j];
        let bit = 1u16 << c.keeper_index;
        latency[n] = v.latency_ms;
        lag[n] = v.slot_lag as u32;
        errors[n] = v.error_bps as u32;
        n += 1;
        if v.votes_down() && c.fresh {
            t.down_voters |= bit;
            t.down += 1;
            reasons[(v.reason as usize).min(7)] += 1;
        }
        if v.verdict() == Verdict::Healthy && !v.votes_healthy() {
            t.pending_healthy += 1;
        }
        if v.votes_healthy() {
            t.healthy_voters |= bit;
            t.healthy += 1;
            if c.report
                .verdict_since_slot(j)
                .saturating_add(p.probation_slots)
                <= snap.now
            {
                t.probation_voters |= bit;
                t.probation += 1;
            }
        }
    }
    t.observed = n as u8;
    t.median_latency_ms = lower_median(&mut latency[..n]);
    t.median_slot_lag = lower_median(&mut lag[..n]);
    t.median_error_bps = lower_median(&mut errors[..n]) as u16;
    t.reason = (1..8u8)
        .rev()
        .max_by_key(|&r| (reasons[r as usize], r))
        .filter(|&r| reasons[r as usize] > 0)
        .map(Reason::from_u8)
        .unwrap_or(Reason::None);
    t
}

/// Tallies the endpoints at `positions` together, with what ranking standbys reads: the
/// votes and the median latency, as `tally_at` computes them (the medians of lag and
/// error rate and the majority reason, evidence only, are left at their defaults). One
/// pass over the counted rows instead of one full tally per endpoint: deciding a group of
/// 32 costs a third of what it did.
pub fn tally_ranking(
    snap: &Snapshot,
    electorate: &Electorate,
    positions: &[u8],
    out: &mut [Tally],
) {
    let probation = snap.network.policy.probation_slots;
    let n = positions.len().min(out.len()).min(MAX_ENDPOINTS);
    let endpoints = snap.topology.endpoints();
    // The cell checks `valid_cell` makes, with each endpoint's identity epoch read once.
    let mut config_epochs = [u64::MAX; MAX_ENDPOINTS];
    for (s, &j) in positions[..n].iter().enumerate() {
        if let Some(e) = endpoints.get(j as usize) {
            config_epochs[s] = e.config_epoch;
        }
    }
    // Each endpoint's latencies, for its median (on the heap: 2 KiB at the limits).
    let mut latency = vec![[0u32; MAX_KEEPERS]; n];
    for c in electorate.counted.iter().filter(|c| !c.cut_off) {
        let bit = 1u16 << c.keeper_index;
        let row = c.report;
        for (s, &j) in positions[..n].iter().enumerate() {
            let j = j as usize;
            let Some(v) = row.votes.get(j) else { continue };
            // observed: Healthy, Degraded or Down (as `Vote::is_observed` reads the byte)
            let observed = (Verdict::Healthy as u8..=Verdict::Down as u8).contains(&v.verdict);
            if !observed || config_epochs[s] > row.topology_epoch {
                continue;
            }
            let t = &mut out[s];
            if let Some(slot) = latency[s].get_mut(t.observed as usize) {
                *slot = v.latency_ms;
            }
            t.observed += 1;
            if v.votes_down() && c.fresh {
                t.down_voters |= bit;
                t.down += 1;
            }
            if v.votes_healthy() {
                t.healthy_voters |= bit;
                t.healthy += 1;
                if row.verdict_since_slot(j).saturating_add(probation) <= snap.now {
                    t.probation_voters |= bit;
                    t.probation += 1;
                }
            } else if v.verdict == Verdict::Healthy as u8 {
                t.pending_healthy += 1;
            }
        }
    }
    for (s, t) in out[..n].iter_mut().enumerate() {
        let observed = (t.observed as usize).min(MAX_KEEPERS);
        t.median_latency_ms = lower_median(&mut latency[s][..observed]);
    }
}

/// Lower median (deterministic for even counts); 0 for no values. An insertion sort: at
/// most MAX_KEEPERS values, and std's sort has a stack frame over SBF's 4 KiB.
pub fn lower_median(v: &mut [u32]) -> u32 {
    for i in 1..v.len() {
        let mut k = i;
        while k > 0 && v[k - 1] > v[k] {
            v.swap(k - 1, k);
            k -= 1;
        }
    }
    if v.is_empty() {
        0
    } else {
        v[(v.len() - 1) / 2]
    }
}

/// The verdict a ballot cell shows, for tools (Unknown for an empty or foreign cell).
pub fn cell_verdict(topology: &Topology, report: &KeeperReport, j: usize) -> Verdict {
    if valid_cell(topology, report, j) {
        report.votes[j].verdict()
    } else {
        Verdict::Unknown
    }
}
