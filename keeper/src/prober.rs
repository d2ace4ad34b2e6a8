//! The prober: probes every endpoint on its own schedule (a suspect one again at the
//! confirm cadence, an unusually slow one with an overlapping second probe), folds each
//! probe into the endpoint's observation, and after each batch hands the attester what
//! the chain should hear and nudges the migrator.
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline::state::{EndpointKind, Role};
use lifeline_client::describe;
use lifeline_client::state::ChainState;
use solana_signer::Signer;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::attest::should_attest;
use crate::attester::AttestRequest;
use crate::probe::{Probers, Target};
use crate::reference::References;
use crate::shared::Shared;
use crate::stats::{unix_ms, EndpointGauges, KeeperStats};
use crate::window::{Freshness, Outcome, Probe, Tracker};

pub struct Prober {
    shared: Arc<Shared>,
    probers: Arc<Probers>,
    references: Arc<References>,
    tracker: Tracker,
    /// Next probe due per endpoint.
    schedule: BTreeMap<u32, Instant>,
    /// Probes in flight per endpoint: when each started.
    in_flight: BTreeMap<u32, Vec<Instant>>,
    probes: JoinSet<(Probe, Instant, Target)>,
    /// What each endpoint id is (URL and kind) as last read: a probe started before it
    /// changed says nothing about what it is now.
    identities: BTreeMap<u32, (String, EndpointKind)>,
    /// The chain as last read, and when.
    state: Option<(ChainState, Instant)>,
    attest: watch::Sender<Option<AttestRequest>>,
    nudge: watch::Sender<u64>,
    /// The tracker's clock starts here (stalls are measured in time).
    started: Instant,
    /// Per endpoint, from the chain's ballot: counted keepers reaching it, and not.
    reachability: BTreeMap<u32, (u8, u8)>,
    /// The slots endpoints reported lately (what corroborates another endpoint's).
    recent_slots: RecentSlots,
}

impl Prober {
    pub fn new(
        shared: Arc<Shared>,
        probers: Arc<Probers>,
        references: Arc<References>,
        attest: watch::Sender<Option<AttestRequest>>,
        nudge: watch::Sender<u64>,
    ) -> Self {
        Self {
            shared,
            probers,
            references,
            tracker: Tracker::default(),
            schedule: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            probes: JoinSet::new(),
            state: None,
            attest,
            nudge,
            started: Instant::now(),
            reachability: BTreeMap::new(),
            identities: BTreeMap::new(),
            recent_slots: RecentSlots::default(),
        }
    }

    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let interval = Duration::from_millis(self.shared.config.probe_interval_ms);
        let confirm = self.shared.config.confirm_interval();
        loop {
            if *shutdown.borrow() {
                self.probes.abort_all();
                return;
            }
            if self.refresh(interval).await {
                self.launch_due(confirm);
            }
            let wake = self.next_wake(confirm);
            tokio::select! {
                _ = tokio::time::sleep_until(wake.into()) => {}
                Some(done) = self.probes.join_next(), if !self.probes.is_empty() => {
                    if let Ok((probe, started, target)) = done {
                        self.complete_for(probe, started, &target, interval, confirm);
                    }
                    while let Some(Ok((probe, started, target))) = self.probes.try_join_next() {
                        self.complete_for(probe, started, &target, interval, confirm);
                    }
                    self.decide();
                }
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Re-reads the chain when the last read is older than a probe interval. Returns
    /// whether there is a state to probe against.
    async fn refresh(&mut self, interval: Duration) -> bool {
        let fresh = self
            .state
            .as_ref()
            .is_some_and(|(_, at)| at.elapsed() < interval);
        if fresh {
            return true;
        }
        match self.shared.read_chain().await {
            Ok(state) => {
                self.shared
                    .stats
                    .last_ok_unix_ms
                    .store(unix_ms(), Ordering::Relaxed);
                self.note_membership(&state);
                note_keepers(&self.shared.stats, &state);
                self.reachability = reachability(&state);
                let live: Vec<u32> = state.topology.endpoints().iter().map(|e| e.id).collect();
                self.tracker.retain(|id| live.contains(&id));
                // An endpoint whose URL (or kind) changed is another server: forget what
                // was seen of the old one.
                for e in state.topology.endpoints() {
                    let identity = (e.url().to_string(), e.kind().unwrap_or(EndpointKind::Other));
                    let known = self.identities.insert(e.id, identity.clone());
                    if known.is_some_and(|k| k != identity) {
                        self.tracker.retain(|id| id != e.id);
                        self.schedule.remove(&e.id);
                    }
                }
                self.identities.retain(|id, _| live.contains(id));
                if let Some((_, row)) = state.report_of(&self.shared.keypair.pubkey()) {
                    for (j, e) in state.topology.endpoints().iter().enumerate() {
                        let cell = &row.votes[j];
                        if cell.is_observed() && e.config_epoch <= row.topology_epoch {
                            self.tracker.seed(e.id, cell.verdict(), cell.streak);
                        }
                    }
                }
                self.schedule.retain(|id, _| live.contains(id));
                if let Some((before, _)) = &self.state {
                    log_changes(before, &state);
                }
                self.state = Some((state, Instant::now()));
                self.probers.retain(&self.targets());
                true
            }
            Err(e) => {
                tracing::warn!("cannot read the network: {e}");
                self.state.is_some()
            }
        }
    }

    /// Says once when this key leaves (or rejoins) the keeper set.
    fn note_membership(&self, state: &ChainState) {
        let in_set = state.report_of(&self.shared.keypair.pubkey()).is_some();
        let was = self.shared.stats.in_set.swap(in_set, Ordering::Relaxed);
        match (was, in_set) {
            (true, false) => tracing::error!(
                keeper = %self.shared.keypair.pubkey(),
                "this keeper was removed from the network's keeper set: attestations stop until it is added again"
            ),
            (false, true) => tracing::info!("this keeper is in the keeper set again: attesting"),
            _ => {}
        }
    }

    fn targets(&self) -> Vec<Target> {
        let Some((state, _)) = &self.state else {
            return Vec::new();
        };
        state
            .topology
            .endpoints()
            .iter()
            .filter(|e| e.role() != Some(Role::Retired))
            .map(|e| Target {
                id: e.id,
                url: e.url().to_string(),
                kind: e.kind().unwrap_or(EndpointKind::Other),
            })
            .collect()
    }

    /// Starts the probes that are due. A probe still unanswered after the confirm
    /// interval from an endpoint that usually answers faster gets a second, overlapping
    /// probe, so a slow endpoint is confirmed slow without waiting for the first timeout.
    fn launch_due(&mut self, confirm: Duration) {
        let now = Instant::now();
        let policy = match &self.state {
            Some((s, _)) => s.network.policy,
            None => return,
        };
        let timeout = self.shared.config.probe_timeout(&policy);
        let max = self.shared.config.max_concurrency;
        for t in self.targets() {
            let due = self.schedule.get(&t.id).is_none_or(|d| *d <= now);
            let flying = self.in_flight.get(&t.id).map_or(&[][..], Vec::as_slice);
            let last_ms = self
                .tracker
                .state(t.id)
                .and_then(|s| s.last)
                .map(|o| o.latency_ms);
            let usually_fast = last_ms.is_some_and(|ms| (ms as u128) < confirm.as_millis());
            let overdue = flying.len() == 1
                && usually_fast
                && now.duration_since(flying[0]) >= overdue_after(last_ms.unwrap_or(0), confirm);
            if !(due && flying.is_empty() || overdue) || self.probes.len() >= max {
                continue;
            }
            let probers = self.probers.clone();
            self.in_flight.entry(t.id).or_default().push(now);
            self.schedule.insert(
                t.id,
                now + Duration::from_millis(self.shared.config.probe_interval_ms),
            );
            self.probes
                .spawn(async move { (probers.probe(&t, timeout).await, now, t) });
        }
    }

    fn next_wake(&self, confirm: Duration) -> Instant {
        let now = Instant::now();
        let next_due = self.schedule.values().min().copied();
        // Wake soon while probes are in flight (to start overlapping probes), and at the
        // confirm cadence before the chain state goes stale.
        let flying = self.in_flight.values().any(|v| !v.is_empty());
        let cadence = now
            + if flying {
                OVERDUE_MIN.min(confirm)
            } else {
                confirm
            };
        match next_due {
            Some(d) if d > now => d.min(cadence),
            Some(_) => now + Duration::from_millis(5),
            None => cadence,
        }
    }

    /// A finished probe of `target`: folded in, unless the endpoint is no longer what was
    /// probed (its URL or kind changed meanwhile).
    fn complete_for(
        &mut self,
        probe: Probe,
        started: Instant,
        target: &Target,
        interval: Duration,
        confirm: Duration,
    ) {
        let current = self.identities.get(&target.id);
        if current.is_some_and(|(url, kind)| *url != target.url || *kind != target.kind) {
            if let Some(v) = self.in_flight.get_mut(&target.id) {
                v.retain(|s| *s != started);
            }
            return;
        }
        self.complete(probe, started, interval, confirm);
    }

    /// Folds a finished probe into the tracker and schedules the endpoint's next probe:
    /// at the confirm cadence while it looks bad, else a full interval after this one.
    fn complete(
        &mut self,
        mut probe: Probe,
        started: Instant,
        interval: Duration,
        confirm: Duration,
    ) {
        if let Some(v) = self.in_flight.get_mut(&probe.endpoint_id) {
            v.retain(|s| *s != started);
        }
        let Some((state, _)) = &self.state else {
            return;
        };
        let Some(endpoint) = state.topology.endpoint(probe.endpoint_id) else {
            return;
        };
        let policy = state.network.policy;
        // A timeout shorter than the policy's latency_down_ms cannot measure how slow the
        // endpoint is: the probe failed (it counts in the error rate), as in most health
        // checkers. At the default timeout it is judged by its latency.
        if probe.outcome == Outcome::TimedOut
            && self.shared.config.probe_timeout(&policy).as_millis()
                < policy.latency_down_ms as u128
        {
            probe.outcome = Outcome::Failed;
        }
        let reference = self.references.for_endpoint(endpoint.url());
        // A slot beyond what the keeper trusts (and what the other endpoints corroborate)
        // is an answer from the future: failed, and never used as anything's floor.
        if let Some(slot) = probe.slot() {
            let others = self
                .recent_slots
                .others(probe.endpoint_id, self.references.slot_ms());
            self.recent_slots.record(probe.endpoint_id, slot);
            if crate::window::from_the_future(slot, reference, others) {
                probe.outcome = Outcome::Future;
            }
        }
        self.shared.stats.record_probe(&probe);
        let window = self.shared.config.error_window(&policy);
        let clock = crate::window::Clock {
            at_ms: self.started.elapsed().as_millis() as u64,
            slot_ms: self.references.slot_ms(),
        };
        let o = self
            .tracker
            .observe_at(&policy, &probe, reference, window, clock);
        let judged = lifeline::engine::ballot::judge(&policy, &o);
        tracing::trace!(
            endpoint = probe.endpoint_id,
            outcome = ?probe.outcome,
            latency_ms = o.latency_ms,
            reference,
            lag = o.slot_lag,
            stalled = o.stalled_slots,
            verdict = ?judged.verdict,
            bad = o.consecutive_bad,
            good = o.consecutive_good,
            "probe"
        );
        let suspect = judged.verdict != lifeline::state::Verdict::Healthy
            || o.stalled_slots > 0
            || !matches!(probe.outcome, Outcome::Ok(_));
        // The next probe, a little early or late (up to a tenth of the interval): an
        // endpoint cannot pick keepers out by a fixed cadence.
        let spread = (interval / 10).as_millis() as u64;
        let jitter = Duration::from_millis(crate::probe::variant() % (spread + 1));
        let next = if suspect {
            Instant::now() + confirm
        } else {
            started + interval - interval / 20 + jitter
        };
        self.schedule.insert(probe.endpoint_id, next);
        self.shared.stats.endpoints.lock().unwrap().insert(
            probe.endpoint_id,
            EndpointGauges {
                url: endpoint.url().to_string(),
                group: endpoint.group,
                kind: format!("{:?}", endpoint.kind().unwrap_or(EndpointKind::Other))
                    .to_lowercase(),
                latency_ms: o.latency_ms,
                slot_lag: match probe.outcome {
                    Outcome::Ok(Freshness::Slot(_)) => reference.map(|_| o.slot_lag as u64),
                    Outcome::Ok(Freshness::AgeSlots(_)) => Some(o.slot_lag as u64),
                    _ => None,
                },
                unreachable: probe.outcome == Outcome::Unreachable,
                verdict: judged.verdict as u8,
                consecutive_bad: o.consecutive_bad,
                consecutive_good: o.consecutive_good,
                keepers_reaching: self.reachability.get(&probe.endpoint_id).map_or(0, |r| r.0),
                keepers_not_reaching: self.reachability.get(&probe.endpoint_id).map_or(0, |r| r.1),
            },
        );
    }

    /// After a batch of probes: hand the attester the latest observations if the chain
    /// should hear about them, and nudge the migrator.
    fn decide(&mut self) {
        self.shared.stats.rounds.fetch_add(1, Ordering::Relaxed);
        if let Some(best) = self.references.best() {
            self.shared
                .stats
                .reference_slot
                .store(best, Ordering::Relaxed);
        }
        let Some((state, _)) = &self.state else {
            return;
        };
        if !self.shared.stats.in_set.load(Ordering::Relaxed) {
            return;
        }
        let ids: Vec<u32> = self.targets().iter().map(|t| t.id).collect();
        let Some(observations) = self.tracker.observations(&ids) else {
            // not every endpoint probed yet (a start, or a new endpoint): the probes are
            // on their way, within the probe timeout
            self.nudge.send_modify(|n| *n += 1);
            return;
        };
        let row = state
            .report_of(&self.shared.keypair.pubkey())
            .map(|(_, r)| r);
        let now = state.slot + slots_since(state, self.state_age());
        if let Some(trigger) = should_attest(
            &state.network.policy,
            &state.topology,
            row,
            now,
            &observations,
        ) {
            let reference = self.references.best().unwrap_or(state.slot);
            self.attest.send_replace(Some(AttestRequest {
                observations,
                reference,
                trigger,
            }));
        }
        self.nudge.send_modify(|n| *n += 1);
    }

    fn state_age(&self) -> Duration {
        self.state
            .as_ref()
            .map_or(Duration::ZERO, |(_, at)| at.elapsed())
    }
}

/// The slot each endpoint last reported and when it first did: what corroborates another
/// endpoint's claim to be ahead of the keeper's own reference. A slot an endpoint reported
/// proves the cluster had reached it then, and the cluster has moved on at its pace since:
/// a frozen endpoint's last slot still vouches for a live one.
#[derive(Default)]
struct RecentSlots {
    latest: BTreeMap<u32, (u64, Instant)>,
}

impl RecentSlots {
    /// Reports older than this vouch for nothing.
    const FRESH: Duration = Duration::from_secs(60);

    fn record(&mut self, endpoint_id: u32, slot: u64) {
        let e = self
            .latest
            .entry(endpoint_id)
            .or_insert((slot, Instant::now()));
        if e.0 != slot {
            *e = (slot, Instant::now());
        }
    }

    /// The furthest the other endpoints' reports vouch the cluster is now, at `slot_ms`.
    fn others(&self, endpoint_id: u32, slot_ms: u64) -> Option<u64> {
        self.latest
            .iter()
            .filter(|(id, (_, at))| **id != endpoint_id && at.elapsed() <= Self::FRESH)
            .map(|(_, (slot, at))| {
                slot.saturating_add(at.elapsed().as_millis() as u64 / slot_ms.max(1))
            })
            .max()
    }
}

/// The soonest a second, overlapping probe starts.
const OVERDUE_MIN: Duration = Duration::from_millis(50);

/// How long a probe of an endpoint that usually answers fast may run before a second,
/// overlapping probe starts: four times its last latency, at least 50 ms, at most the
/// confirm interval. A slow endpoint is then confirmed slow by two time-outs about 50 ms
/// apart instead of a confirm interval apart.
fn overdue_after(last_ms: u32, confirm: Duration) -> Duration {
    Duration::from_millis((last_ms as u64 * 4).max(OVERDUE_MIN.as_millis() as u64)).min(confirm)
}

/// One readable line for each migration and readmission between two reads of the chain,
/// whoever sent it (an attestation, a trigger, the authority).
fn log_changes(before: &ChainState, now: &ChainState) {
    let (b, t) = (&before.topology, &now.topology);
    let new = t.history_total.saturating_sub(b.history_total) as usize;
    let mut records: Vec<_> = t.recent_migrations().take(new).collect();
    records.reverse();
    for m in records {
        tracing::info!("{}", describe::record(&now.network, t, m));
    }
    for e in t.endpoints() {
        let was = b.endpoint(e.id).and_then(|x| x.role());
        if was == Some(Role::Quarantined) && e.role() == Some(Role::Standby) {
            tracing::info!(
                "{} readmitted as a standby of group {} after its quarantine and probation",
                describe::endpoint(t, e.id),
                e.group
            );
        }
    }
}

/// Per endpoint: how many counted keepers' latest attestations reached it, and how many
/// could not (from the chain's ballot).
fn reachability(state: &ChainState) -> BTreeMap<u32, (u8, u8)> {
    let snap = state.snapshot();
    let electorate = lifeline::engine::collect(&snap);
    let mut out = BTreeMap::new();
    for (j, e) in state.topology.endpoints().iter().enumerate() {
        let (mut reached, mut not) = (0u8, 0u8);
        for c in &electorate.counted {
            if lifeline::engine::ballot::cell_verdict(&state.topology, c.report, j)
                == lifeline::state::Verdict::Unknown
            {
                continue;
            }
            if c.report.votes[j].unreachable() {
                not += 1;
            } else {
                reached += 1;
            }
        }
        out.insert(e.id, (reached, not));
    }
    out
}

/// Publishes when each keeper in the set last attested.
fn note_keepers(stats: &KeeperStats, state: &ChainState) {
    let mut seen = stats.keepers_last_attested.lock().unwrap();
    seen.clear();
    for (i, k) in state.network.keepers.iter().enumerate() {
        if !k.is_empty() {
            let row = &state.ballot.reports[i];
            let slot = if row.keeper == k.keeper {
                row.submitted_slot
            } else {
                0
            };
            seen.insert(k.keeper.to_string(), slot);
        }
    }
}

/// Slots elapsed since `state` was read, assuming 400 ms slots (only used to age the
/// cached view between reads; every decision that matters re-reads the chain).
fn slots_since(_state: &ChainState, age: Duration) -> u64 {
    (age.as_millis() / 400) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_is_overdue_at_four_times_the_usual_latency_within_bounds() {
        let confirm = Duration::from_millis(250);
        assert_eq!(overdue_after(2, confirm), Duration::from_millis(50));
        assert_eq!(overdue_after(30, confirm), Duration::from_millis(120));
        assert_eq!(overdue_after(200, confirm), confirm);
        assert_eq!(
            overdue_after(0, Duration::from_millis(40)),
            Duration::from_millis(40)
        );
    }
}
