//! Which reports count, and what they say about one endpoint.
use crate::constants::MAX_KEEPERS;
use crate::engine::{policy::effective_quorum, Snapshot};
use crate::state::{KeeperReport, Observation, Reason, Verdict};

/// A report that counts: fresh, for the current epoch, from a keeper in the set.
#[derive(Clone, Copy)]
pub struct CountedReport<'a> {
    /// The keeper's slot in `Network.keepers` (the bit in voter bitmaps).
    pub keeper_index: usize,
    pub report: &'a KeeperReport,
    /// The keeper sees every in-rotation endpoint down: it is more likely cut off itself
    /// than the whole topology failed, so its down votes are discounted.
    pub cut_off: bool,
}

pub struct Ballot<'a> {
    /// At most one per keeper, ordered by keeper index (independent of input order).
    pub counted: Vec<CountedReport<'a>>,
    pub quorum: usize,
}

/// Filters `reports` down to those that count. Stale, future-dated, wrong-epoch,
/// wrong-network and unknown-keeper reports are dropped; a keeper counts once (if the
/// same keeper appears twice, the higher seq wins, so input order never matters).
pub fn collect<'a>(snap: &Snapshot, reports: &[&'a KeeperReport]) -> Ballot<'a> {
    let policy = &snap.network.policy;
    let mut slots: [Option<&'a KeeperReport>; MAX_KEEPERS] = [None; MAX_KEEPERS];
    for &r in reports {
        if r.network != snap.topology.network || r.topology_epoch != snap.topology.epoch {
            continue;
        }
        if r.reference_slot > snap.now
            || r.reference_slot.saturating_add(policy.staleness_slots) < snap.now
        {
            continue;
        }
        let Some(idx) = snap.network.keeper_index(&r.keeper) else {
            continue;
        };
        match slots[idx] {
            Some(prev) if prev.seq >= r.seq => {}
            _ => slots[idx] = Some(r),
        }
    }
    let counted = slots
        .iter()
        .enumerate()
        .filter_map(|(keeper_index, r)| {
            r.map(|report| CountedReport {
                keeper_index,
                report,
                cut_off: is_cut_off(snap, report),
            })
        })
        .collect();
    Ballot {
        counted,
        quorum: effective_quorum(policy, snap.network.keeper_count as usize),
    }
}

fn is_cut_off(snap: &Snapshot, report: &KeeperReport) -> bool {
    let mut seen = 0usize;
    for e in snap.topology.endpoints().iter().filter(|e| e.in_rotation()) {
        match report.observation(e.id) {
            Some(o) if o.verdict() == Verdict::Down => seen += 1,
            _ => return false,
        }
    }
    seen >= 2
}

/// What the counted reports say about one endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Counted reports that observed the endpoint (cut-off keepers excluded).
    pub observed: u8,
    /// Keepers voting "down" after `breach_windows` bad windows (bitmap over keeper slots).
    pub down_voters: u16,
    pub down: u8,
    /// Keepers voting "healthy" after `recovery_windows` good windows.
    pub healthy_voters: u16,
    pub healthy: u8,
    /// Healthy voters whose verdict has held for at least `probation_slots`.
    pub probation_voters: u16,
    pub probation: u8,
    /// Medians over every counted observation (lower median): a minority of liars cannot
    /// move them beyond the honest range.
    pub median_latency_ms: u32,
    pub median_slot_lag: u32,
    pub median_error_bps: u16,
    /// The reason most down voters give (ties: the most severe).
    pub reason: Reason,
}

pub fn tally(snap: &Snapshot, ballot: &Ballot, endpoint_id: u32) -> Tally {
    let p = &snap.network.policy;
    let mut t = Tally::default();
    let mut latency: Vec<u32> = Vec::with_capacity(ballot.counted.len());
    let mut lag: Vec<u32> = Vec::with_capacity(ballot.counted.len());
    let mut errors: Vec<u16> = Vec::with_capacity(ballot.counted.len());
    let mut reasons = [0u8; 5];
    for c in ballot.counted.iter().filter(|c| !c.cut_off) {
        let Some(o) = c.report.observation(endpoint_id) else {
            continue;
        };
        let bit = 1u16 << c.keeper_index;
        t.observed += 1;
        latency.push(o.latency_ms);
        lag.push(o.slot_lag);
        errors.push(o.error_bps);
        if votes_down(p.breach_windows, o) {
            t.down_voters |= bit;
            t.down += 1;
            reasons[(o.reason as usize).min(4)] += 1;
        }
        if votes_healthy(p.recovery_windows, o) {
            t.healthy_voters |= bit;
            t.healthy += 1;
            if o.verdict_since_slot.saturating_add(p.probation_slots) <= snap.now {
                t.probation_voters |= bit;
                t.probation += 1;
            }
        }
    }
    t.median_latency_ms = lower_median(&mut latency);
    t.median_slot_lag = lower_median(&mut lag);
    t.median_error_bps = lower_median(&mut errors);
    t.reason = (1..=4u8)
        .rev()
        .max_by_key(|&r| (reasons[r as usize], r))
        .filter(|&r| reasons[r as usize] > 0)
        .map(Reason::from_u8)
        .unwrap_or(Reason::None);
    t
}

fn votes_down(breach_windows: u8, o: &Observation) -> bool {
    o.verdict() == Verdict::Down && o.consecutive_bad >= breach_windows
}

fn votes_healthy(recovery_windows: u8, o: &Observation) -> bool {
    o.verdict() == Verdict::Healthy && o.consecutive_good >= recovery_windows
}

/// Lower median (deterministic for even counts); 0 for no values.
pub fn lower_median<T: Copy + Ord + Default>(v: &mut [T]) -> T {
    if v.is_empty() {
        return T::default();
    }
    v.sort_unstable();
    v[(v.len() - 1) / 2]
}
