//! The keeper loop. Each tick: read the network, topology and reports (one RPC round
//! trip each, through the keeper's own failover RPC), probe every endpoint, and at the end
//! of a window attest if something changed (or as a heartbeat); then run the engine over
//! the chain state and, after this keeper's jitter, send the migrations and readmissions
//! the chain would accept. Losing a race to another keeper is a quiet, counted non-event.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use lifeline::engine::{pending_actions, Action, Snapshot};
use lifeline::instructions::{ReadmitEndpointArgs, SubmitAttestationArgs, TriggerMigrationArgs};
use lifeline::state::{KeeperReport, Network, Role, Topology};
use lifeline_client::{accounts, ix, pda, FailoverRpc, RouterConfig};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use tokio::sync::watch;

use crate::attest::{should_attest, Submitted};
use crate::config::KeeperConfig;
use crate::jitter::jitter;
use crate::probe;
use crate::window::{aggregate, Probe, Tracker};

#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    #[error("invalid configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("RPC: {0}")]
    Rpc(String),
    #[error("network {0} not found (or not a Lifeline network)")]
    NoNetwork(Pubkey),
    #[error("this keeper ({0}) is not in the network's keeper set")]
    NotInSet(Pubkey),
}

/// Compute budgets requested. Native execution does not meter compute units, so these are
/// upper bounds argued from the bounded loops (MAX_KEEPERS × MAX_ENDPOINTS); measure them
/// once on a validator after `anchor build`.
const ATTESTATION_COMPUTE_UNITS: u32 = 200_000;
const DECISION_COMPUTE_UNITS: u32 = 600_000;

/// Counters a caller (tests, metrics) can read while the keeper runs.
#[derive(Debug, Default)]
pub struct KeeperStats {
    pub ticks: AtomicU64,
    pub probes: AtomicU64,
    pub attestations_sent: AtomicU64,
    pub attestations_failed: AtomicU64,
    pub migrations_sent: AtomicU64,
    pub readmissions_sent: AtomicU64,
    /// Permissionless transactions another keeper landed first (or the chain refused).
    pub races_lost: AtomicU64,
    /// Ticks on which a primary was down by quorum but no standby was quorum-healthy, so
    /// the chain would (rightly) not migrate.
    pub blocked_failovers: AtomicU64,
    /// Unix time (ms) of the last tick that completed without an RPC error.
    pub last_ok_unix_ms: AtomicU64,
    /// Probe latency histogram (cumulative buckets, see `LATENCY_BUCKETS_MS`).
    pub probe_latency_buckets: [AtomicU64; LATENCY_BUCKETS_MS.len()],
    pub probe_latency_sum_ms: AtomicU64,
    pub probe_failures: AtomicU64,
    /// The last window's view of each endpoint.
    pub endpoints: std::sync::Mutex<std::collections::BTreeMap<u32, EndpointGauges>>,
}

/// Upper bounds of the probe latency histogram buckets, ms (+Inf is the probe count).
pub const LATENCY_BUCKETS_MS: [u64; 8] = [10, 25, 50, 100, 250, 500, 1_000, 2_500];

/// What this keeper last concluded about one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointGauges {
    pub url: String,
    pub group: u8,
    pub latency_ms: u32,
    pub slot_lag: u64,
    /// 0 unknown, 1 healthy, 2 degraded, 3 down (the program's `Verdict`).
    pub verdict: u8,
    pub consecutive_bad: u8,
    pub consecutive_good: u8,
}

impl KeeperStats {
    fn record_probe(&self, p: &Probe) {
        self.probes.fetch_add(1, Ordering::Relaxed);
        if p.slot.is_none() {
            self.probe_failures.fetch_add(1, Ordering::Relaxed);
        }
        self.probe_latency_sum_ms
            .fetch_add(p.latency_ms as u64, Ordering::Relaxed);
        for (bucket, bound) in self.probe_latency_buckets.iter().zip(LATENCY_BUCKETS_MS) {
            if p.latency_ms as u64 <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What the chain said at one slot.
struct ChainState {
    slot: u64,
    network: Box<Network>,
    topology: Box<Topology>,
    reports: Vec<(Pubkey, Box<KeeperReport>)>,
}

pub struct Keeper {
    config: KeeperConfig,
    keypair: Keypair,
    network: Pubkey,
    rpc: RpcClient,
    http: reqwest::Client,
    tracker: Tracker,
    window: Vec<Probe>,
    probes_in_window: u32,
    last: Option<Submitted>,
    seq: u64,
    stats: Arc<KeeperStats>,
    /// The epoch for which "primary down, no healthy standby" was last reported.
    blocked_reported: Option<u64>,
}

impl Keeper {
    /// Checks the network exists and this keeper is in its set, and resumes from the
    /// on-chain report (so a restart never reuses a sequence number).
    pub async fn new(config: KeeperConfig, keypair: Keypair) -> Result<Self, KeeperError> {
        config.validate()?;
        let network = config.network()?;
        let router = FailoverRpc::with_urls(
            config.rpc_urls(),
            RouterConfig {
                timeout: Duration::from_millis(config.probe_timeout_ms().max(2_000)),
                ..RouterConfig::default()
            },
        );
        let rpc = router.into_rpc_client(CommitmentConfig::processed());
        let mut keeper = Self {
            http: reqwest::Client::new(),
            tracker: Tracker::default(),
            window: Vec::new(),
            probes_in_window: 0,
            last: None,
            seq: 0,
            blocked_reported: None,
            stats: Arc::new(KeeperStats::default()),
            config,
            keypair,
            network,
            rpc,
        };
        let state = keeper.read_chain().await?;
        if state
            .network
            .keeper_index(&keeper.keypair.pubkey())
            .is_none()
        {
            return Err(KeeperError::NotInSet(keeper.keypair.pubkey()));
        }
        keeper.seq = keeper.own_report(&state).map_or(0, |r| r.seq);
        Ok(keeper)
    }

    pub fn stats(&self) -> Arc<KeeperStats> {
        self.stats.clone()
    }

    pub fn pubkey(&self) -> Pubkey {
        self.keypair.pubkey()
    }

    fn own_report<'a>(&self, state: &'a ChainState) -> Option<&'a KeeperReport> {
        let me = self.keypair.pubkey();
        state
            .reports
            .iter()
            .find(|(_, r)| r.keeper == me)
            .map(|(_, r)| &**r)
    }

    async fn read_chain(&self) -> Result<ChainState, KeeperError> {
        let topology = pda::topology(&self.network).0;
        let commitment = CommitmentConfig::processed();
        let resp = self
            .rpc
            .get_multiple_accounts_with_commitment(&[self.network, topology], commitment)
            .await
            .map_err(|e| KeeperError::Rpc(e.to_string()))?;
        let slot = resp.context.slot;
        let (Some(n), Some(t)) = (&resp.value[0], &resp.value[1]) else {
            return Err(KeeperError::NoNetwork(self.network));
        };
        let network =
            accounts::network(&n.data).map_err(|_| KeeperError::NoNetwork(self.network))?;
        let topology =
            accounts::topology(&t.data).map_err(|_| KeeperError::NoNetwork(self.network))?;
        let keys: Vec<Pubkey> = network
            .active_keepers()
            .map(|k| pda::report(&self.network, &k.keeper).0)
            .collect();
        let mut reports = Vec::with_capacity(keys.len());
        if !keys.is_empty() {
            let resp = self
                .rpc
                .get_multiple_accounts_with_commitment(&keys, commitment)
                .await
                .map_err(|e| KeeperError::Rpc(e.to_string()))?;
            for (key, acc) in keys.iter().zip(resp.value) {
                if let Some(r) = acc.and_then(|a| accounts::report(&a.data).ok()) {
                    reports.push((*key, r));
                }
            }
        }
        Ok(ChainState {
            slot,
            network,
            topology,
            reports,
        })
    }

    /// The priority fee to pay: the 75th percentile of recent fees on `accounts`, capped.
    async fn priority_fee(&self, accounts: &[Pubkey]) -> u64 {
        let Ok(fees) = self.rpc.get_recent_prioritization_fees(accounts).await else {
            return 0;
        };
        let mut fees: Vec<u64> = fees.iter().map(|f| f.prioritization_fee).collect();
        fees.sort_unstable();
        let p75 = fees
            .get(fees.len().saturating_sub(1) * 3 / 4)
            .copied()
            .unwrap_or(0);
        p75.min(self.config.priority_fee_cap_microlamports)
    }

    /// Sends `ix` with a compute budget and a capped priority fee, and waits for
    /// confirmation. The client re-sends until the blockhash expires; a failed send is
    /// retried by the caller with a fresh blockhash (re-signed only after expiry).
    async fn send(
        &self,
        ix: solana_instruction::Instruction,
        compute_units: u32,
    ) -> Result<(), String> {
        use solana_compute_budget_interface::ComputeBudgetInstruction;
        let writable: Vec<Pubkey> = ix
            .accounts
            .iter()
            .filter(|m| m.is_writable)
            .map(|m| m.pubkey)
            .collect();
        let fee = self.priority_fee(&writable).await;
        let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_limit(
            compute_units,
        )];
        if fee > 0 {
            ixs.push(ComputeBudgetInstruction::set_compute_unit_price(fee));
        }
        ixs.push(ix);
        let blockhash = self
            .rpc
            .get_latest_blockhash()
            .await
            .map_err(|e| e.to_string())?;
        let tx = solana_transaction::Transaction::new_signed_with_payer(
            &ixs,
            Some(&self.keypair.pubkey()),
            &[&self.keypair],
            blockhash,
        );
        self.rpc
            .send_and_confirm_transaction(&tx)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// One tick: probe, maybe attest, maybe migrate.
    pub async fn tick(&mut self) -> Result<(), KeeperError> {
        self.stats.ticks.fetch_add(1, Ordering::Relaxed);
        let state = self.read_chain().await?;
        if let Some(r) = self.own_report(&state) {
            self.seq = self.seq.max(r.seq);
        }
        let targets: Vec<(u32, String)> = state
            .topology
            .endpoints()
            .iter()
            .filter(|e| e.role() != Some(Role::Retired))
            .map(|e| (e.id, e.url().to_string()))
            .collect();
        let timeout = Duration::from_millis(self.config.probe_timeout_ms());
        let probes =
            probe::probe_all(&self.http, &targets, timeout, self.config.max_concurrency).await;
        for p in &probes {
            self.stats.record_probe(p);
        }
        self.window.extend(probes);
        self.probes_in_window += 1;
        if self.probes_in_window >= self.config.window_probes {
            self.close_window(&state, &targets).await;
        }
        self.migrate().await
    }

    async fn close_window(&mut self, state: &ChainState, targets: &[(u32, String)]) {
        let ids: Vec<u32> = targets.iter().map(|(id, _)| *id).collect();
        let windows = aggregate(&ids, &self.window);
        self.window.clear();
        self.probes_in_window = 0;
        // Lag is measured against the cluster (this keeper's own RPC), never against what
        // a possibly frozen endpoint claims; it cannot exceed the chain's slot either.
        let reference_slot = state.slot;
        let policy = state.network.policy;
        let observations = self.tracker.close_window(&policy, reference_slot, &windows);
        self.publish_gauges(state, reference_slot, &observations);
        let epoch = state.topology.epoch;
        if should_attest(
            &policy,
            self.last.as_ref(),
            epoch,
            reference_slot,
            &observations,
        )
        .is_none()
        {
            return;
        }
        let seq = self.seq + 1;
        let args = SubmitAttestationArgs {
            seq,
            topology_epoch: epoch,
            reference_slot,
            observations: observations.clone(),
        };
        let ix = ix::submit_attestation(&self.network, &self.keypair.pubkey(), args);
        // Bounded by MAX_ENDPOINTS observations; generous for SBF (measure with a validator).
        match self.send(ix, ATTESTATION_COMPUTE_UNITS).await {
            Ok(()) => {
                self.seq = seq;
                self.last = Some(Submitted {
                    topology_epoch: epoch,
                    reference_slot,
                    observations,
                });
                self.stats.attestations_sent.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                // Retried with fresh figures next window; the seq was not consumed.
                tracing::warn!("attestation failed: {e}");
                self.stats
                    .attestations_failed
                    .fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn publish_gauges(
        &self,
        state: &ChainState,
        reference_slot: u64,
        observations: &[lifeline::instructions::ObservationInput],
    ) {
        let mut gauges = self.stats.endpoints.lock().unwrap();
        gauges.clear();
        for o in observations {
            let Some(e) = state.topology.endpoint(o.endpoint_id) else {
                continue;
            };
            let slot_lag = reference_slot.saturating_sub(o.endpoint_slot);
            let (verdict, _) = lifeline::engine::verdict::classify(
                &state.network.policy,
                &lifeline::engine::verdict::Figures {
                    latency_ms: o.latency_ms,
                    slot_lag: slot_lag.min(u32::MAX as u64) as u32,
                    error_bps: o.error_bps,
                    unreachable: o.flags & lifeline::state::OBS_UNREACHABLE != 0,
                },
            );
            gauges.insert(
                o.endpoint_id,
                EndpointGauges {
                    url: e.url().to_string(),
                    group: e.group,
                    latency_ms: o.latency_ms,
                    slot_lag,
                    verdict: verdict as u8,
                    consecutive_bad: o.consecutive_bad,
                    consecutive_good: o.consecutive_good,
                },
            );
        }
    }

    fn actions(state: &ChainState) -> Vec<Action> {
        let reports: Vec<&KeeperReport> = state.reports.iter().map(|(_, r)| &**r).collect();
        let snap = Snapshot {
            network: &state.network,
            topology: &state.topology,
            now: state.slot,
        };
        pending_actions(&snap, &reports)
    }

    /// Says why nothing moves when a primary is down by quorum but no standby is healthy
    /// (once per epoch in the log; every tick in the counter).
    fn report_blocked(&mut self, state: &ChainState) {
        let reports: Vec<&KeeperReport> = state.reports.iter().map(|(_, r)| &**r).collect();
        let snap = Snapshot {
            network: &state.network,
            topology: &state.topology,
            now: state.slot,
        };
        let ballot = lifeline::engine::collect(&snap, &reports);
        for group in 0..lifeline::constants::MAX_GROUPS as u8 {
            if let Err(lifeline::engine::Refusal::NoHealthyStandby) =
                lifeline::engine::decide_migration(&snap, &ballot, group)
            {
                self.stats.blocked_failovers.fetch_add(1, Ordering::Relaxed);
                if self.blocked_reported != Some(state.topology.epoch) {
                    self.blocked_reported = Some(state.topology.epoch);
                    tracing::warn!(group, "the primary is down by quorum but no standby is quorum-healthy: no failover (the last healthy endpoint is never ejected)");
                }
            }
        }
    }

    async fn migrate(&mut self) -> Result<(), KeeperError> {
        let state = self.read_chain().await?;
        if Self::actions(&state).is_empty() {
            self.report_blocked(&state);
            return Ok(());
        }
        // Let the keepers spread out; whoever is first wins, the rest see a new epoch.
        tokio::time::sleep(jitter(
            &self.keypair.pubkey(),
            Duration::from_millis(self.config.jitter_ms),
        ))
        .await;
        let state = self.read_chain().await?;
        let reports: Vec<Pubkey> = state.reports.iter().map(|(k, _)| *k).collect();
        let me = self.keypair.pubkey();
        // One action per epoch: the next one needs the new epoch, seen on the next tick.
        if let Some(action) = Self::actions(&state).into_iter().next() {
            let (ix, counter) = match &action {
                Action::Migrate(plan) => (
                    ix::trigger_migration(
                        &self.network,
                        &me,
                        TriggerMigrationArgs {
                            group: plan.group,
                            expected_epoch: state.topology.epoch,
                        },
                        &reports,
                    ),
                    &self.stats.migrations_sent,
                ),
                Action::Readmit(plan) => (
                    ix::readmit_endpoint(
                        &self.network,
                        &me,
                        ReadmitEndpointArgs {
                            endpoint_id: plan.endpoint_id,
                            expected_epoch: state.topology.epoch,
                        },
                        &reports,
                    ),
                    &self.stats.readmissions_sent,
                ),
            };
            match self.send(ix, DECISION_COMPUTE_UNITS).await {
                Ok(()) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                    tracing::info!("sent {action:?}");
                }
                Err(e) => {
                    tracing::debug!("lost the race or refused: {e}");
                    self.stats.races_lost.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        Ok(())
    }

    /// Runs ticks every `probe_interval_ms` until `shutdown` turns true. RPC trouble is
    /// logged and retried on the next tick; it never stops the keeper.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        let mut tick = tokio::time::interval(Duration::from_millis(self.config.probe_interval_ms));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            match self.tick().await {
                Ok(()) => self
                    .stats
                    .last_ok_unix_ms
                    .store(unix_ms(), Ordering::Relaxed),
                Err(e) => tracing::warn!("tick failed: {e}"),
            }
        }
    }
}
