//! The keeper, assembled: the prober (this file) probes every endpoint on its schedule and
//! turns probes into observations; the attester (`attester.rs`) puts them on chain when
//! they change; the migrator (`migrator.rs`) sends the permissionless decisions the chain
//! would accept; the reference poller (`reference.rs`) keeps the lag reference current.
//! Each is a task that stops on the shutdown signal.
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use lifeline::state::{EndpointKind, Role};
use lifeline_client::state::{ChainState, ReadError};
use lifeline_client::{FailoverRpc, RouterConfig};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::attest::should_attest;
use crate::attester::{AttestRequest, Attester};
use crate::config::KeeperConfig;
use crate::migrator::Migrator;
use crate::probe::{Forks, Probers, SlotStream, Target};
use crate::reference::References;
use crate::stats::{unix_ms, EndpointGauges, KeeperStats};
use crate::window::{Freshness, Outcome, Probe, Tracker};

#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    #[error("invalid configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("this keeper ({0}) is not in the network's keeper set")]
    NotInSet(Pubkey),
}

/// What the tasks share.
pub struct Shared {
    pub config: KeeperConfig,
    pub keypair: Keypair,
    pub network: Pubkey,
    /// The keeper's own RPCs, failing over in order.
    pub rpc: RpcClient,
    pub http: reqwest::Client,
    pub stats: Arc<KeeperStats>,
    pub commitment: CommitmentConfig,
}

impl Shared {
    pub async fn read_chain(&self) -> Result<ChainState, ReadError> {
        ChainState::read(&self.rpc, &self.network, self.commitment).await
    }
}

pub struct Keeper {
    shared: Arc<Shared>,
    /// The seq of this keeper's row when it started.
    start_seq: u64,
    /// The network's policy when it started (the daemon follows later changes).
    policy: lifeline::state::Policy,
}

impl Keeper {
    /// Checks the network exists and this keeper is in its set; the attester resumes
    /// from the on-chain seq, so a restart never reuses a sequence number.
    pub async fn new(config: KeeperConfig, keypair: Keypair) -> Result<Self, KeeperError> {
        config.validate()?;
        let network = config.network()?;
        let router = FailoverRpc::with_urls(
            config.rpc_urls(),
            RouterConfig {
                timeout: Duration::from_secs(5),
                ..RouterConfig::default()
            },
        );
        let commitment = config.commitment_config();
        let shared = Arc::new(Shared {
            rpc: router.into_rpc_client(commitment),
            http: reqwest::Client::new(),
            stats: Arc::new(KeeperStats::default()),
            commitment,
            config,
            keypair,
            network,
        });
        let state = shared.read_chain().await?;
        let Some((_, row)) = state.report_of(&shared.keypair.pubkey()) else {
            return Err(KeeperError::NotInSet(shared.keypair.pubkey()));
        };
        shared.stats.in_set.store(true, Ordering::Relaxed);
        Ok(Self {
            start_seq: row.seq,
            policy: state.network.policy,
            shared,
        })
    }

    pub fn stats(&self) -> Arc<KeeperStats> {
        self.shared.stats.clone()
    }

    /// The network's policy as read at start (what the derived settings follow).
    pub fn policy(&self) -> &lifeline::state::Policy {
        &self.policy
    }

    pub fn pubkey(&self) -> Pubkey {
        self.shared.keypair.pubkey()
    }

    /// Runs every task until `shutdown` turns true. RPC trouble is logged and retried; it
    /// never stops the keeper.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let shared = self.shared;
        let config = &shared.config;
        let mut trusted = config.rpc_urls();
        trusted.extend(
            config
                .reference_rpc_urls
                .iter()
                .map(|u| lifeline_client::urls::resolve_url(u)),
        );
        let ws_url = config.ws_url();
        trusted.push(ws_url.clone());
        let confirm = config.confirm_interval();
        let references = References::new(&trusted, (confirm * 8).max(Duration::from_secs(2)));
        let forks = Arc::new(Forks::default());
        let (attest_tx, attest_rx) = watch::channel(None::<AttestRequest>);
        let (nudge_tx, nudge_rx) = watch::channel(0u64);
        let mut tasks = JoinSet::new();
        tasks.spawn(references.clone().follow(
            SlotStream::pubsub(&ws_url, Duration::from_secs(5)),
            shutdown.clone(),
        ));
        tasks.spawn(references.clone().poll(
            shared.http.clone(),
            forks.clone(),
            confirm,
            Duration::from_millis(config.probe_interval_ms.max(1_000)),
            shutdown.clone(),
        ));
        tasks.spawn(Attester::new(shared.clone(), self.start_seq).run(attest_rx, shutdown.clone()));
        tasks.spawn(Migrator::new(shared.clone()).run(nudge_rx, shutdown.clone()));
        let prober = Prober {
            shared: shared.clone(),
            probers: Arc::new(Probers::new(shared.http.clone(), references.clone(), forks)),
            references,
            tracker: Tracker::default(),
            schedule: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            probes: JoinSet::new(),
            state: None,
            attest: attest_tx,
            nudge: nudge_tx,
        };
        prober.run(shutdown).await;
        while tasks.join_next().await.is_some() {}
    }
}

struct Prober {
    shared: Arc<Shared>,
    probers: Arc<Probers>,
    references: Arc<References>,
    tracker: Tracker,
    /// Next probe due per endpoint.
    schedule: BTreeMap<u32, Instant>,
    /// Probes in flight per endpoint: when each started.
    in_flight: BTreeMap<u32, Vec<Instant>>,
    probes: JoinSet<(Probe, Instant)>,
    /// The chain as last read, and when.
    state: Option<(ChainState, Instant)>,
    attest: watch::Sender<Option<AttestRequest>>,
    nudge: watch::Sender<u64>,
}

impl Prober {
    async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
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
                    if let Ok((probe, started)) = done {
                        self.complete(probe, started, interval, confirm);
                    }
                    while let Some(Ok((probe, started))) = self.probes.try_join_next() {
                        self.complete(probe, started, interval, confirm);
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
                let live: Vec<u32> = state.topology.endpoints().iter().map(|e| e.id).collect();
                self.tracker.retain(|id| live.contains(&id));
                if let Some((_, row)) = state.report_of(&self.shared.keypair.pubkey()) {
                    for (j, e) in state.topology.endpoints().iter().enumerate() {
                        let cell = &row.votes[j];
                        if cell.is_observed() && e.config_epoch <= row.topology_epoch {
                            self.tracker.seed(e.id, cell.verdict(), cell.streak);
                        }
                    }
                }
                self.schedule.retain(|id, _| live.contains(id));
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
            let usually_fast = self
                .tracker
                .state(t.id)
                .and_then(|s| s.last)
                .is_some_and(|o| (o.latency_ms as u128) < confirm.as_millis());
            let overdue =
                flying.len() == 1 && usually_fast && now.duration_since(flying[0]) >= confirm;
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
                .spawn(async move { (probers.probe(&t, timeout).await, now) });
        }
    }

    fn next_wake(&self, confirm: Duration) -> Instant {
        let now = Instant::now();
        let next_due = self.schedule.values().min().copied();
        // Wake at the confirm cadence while probes are in flight (to start overlapping
        // probes) and before the chain state goes stale.
        let cadence = now + confirm;
        match next_due {
            Some(d) if d > now => d.min(cadence),
            Some(_) => now + Duration::from_millis(5),
            None => cadence,
        }
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
        self.shared.stats.record_probe(&probe);
        let reference = self.references.for_endpoint(endpoint.url());
        let window = self.shared.config.error_window(&policy);
        let o = self
            .tracker
            .observe_with_window(&policy, &probe, reference, window);
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
        let next = if suspect {
            Instant::now() + confirm
        } else {
            started + interval
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
        let observations = self.tracker.observations(&ids);
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
