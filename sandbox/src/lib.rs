//! The sandbox: a localnet with fault endpoints, a Lifeline network created from a
//! topology spec through the same planner `lifeline apply` uses, and keepers running the
//! real daemon in-process (plus scripted "actor" keepers a scenario drives by hand). The
//! demo, the chaos suite, the keeper, client and dashboard tests and the benchmarks all
//! start here.
//!
//! ```no_run
//! # async fn f() {
//! use lifeline_sandbox::{Sandbox, SandboxConfig};
//! let sb = Sandbox::start(SandboxConfig { endpoints: 2, keepers: 4, ..SandboxConfig::default() })
//!     .await
//!     .unwrap();
//! sb.fault("ep0", lifeline_localnet::Fault::Frozen);
//! let record = sb.wait_migration(0, std::time::Duration::from_secs(10)).await;
//! # }
//! ```
//!
//! (Over 400 lines: one type whose methods are the vocabulary of every scenario; the
//! topology it applies is in setup.rs.)
mod seen;
mod setup;

use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use lifeline::instructions::SubmitAttestationArgs;
use lifeline::state::{Ballot, KeeperReport, MigrationRecord, Network, PolicyParams, Topology};
use lifeline_client::plan::{self, Spec};
use lifeline_client::{accounts, ix, pda, ChainState};
use lifeline_keeper::{Keeper, KeeperStats};
use lifeline_localnet::{Fault, Localnet, LocalnetConfig};
use solana_account::ReadableAccount;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use seen::Seen;
use setup::{read, spec, Direct};

/// What to start.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The network's name.
    pub name: String,
    pub slot: Duration,
    /// RPC fault endpoints to start (ep0, ep1, …). Endpoints of other kinds come from
    /// `localnet` (`websocket_endpoints`, …) and follow the RPC ones in the index order
    /// of `Localnet::simulated` (rpc, websocket, oracle, gateway).
    pub endpoints: usize,
    /// Which endpoints (by index) form each group; the first of a group is its primary.
    /// Empty: every endpoint in group 0, the first one primary.
    pub groups: Vec<Vec<usize>>,
    pub policy: PolicyParams,
    /// Keys in the keeper set.
    pub keepers: usize,
    /// How many of them run the keeper daemon (the first ones); the rest are actors.
    pub daemons: usize,
    /// (region, provider) per endpoint index; default r{i} / p{i}.
    pub endpoint_labels: Vec<(String, String)>,
    /// (region, provider) per keeper; default r{i} / p{i % 2}.
    pub keeper_labels: Vec<(String, String)>,
    /// Configuration every daemon gets (field, value), on top of the sandbox's own
    /// (network, url, probe interval).
    pub keeper_options: Vec<(String, String)>,
    pub probe_interval: Duration,
    /// Ports: ephemeral unless given (the demo's `--keep-running` uses the defaults).
    pub localnet: LocalnetConfig,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            name: "sandbox".into(),
            slot: Duration::from_millis(100),
            endpoints: 2,
            groups: Vec::new(),
            policy: fast_policy(),
            keepers: 4,
            daemons: usize::MAX,
            endpoint_labels: Vec::new(),
            keeper_labels: Vec::new(),
            keeper_options: Vec::new(),
            probe_interval: Duration::from_millis(300),
            localnet: LocalnetConfig::ephemeral(),
        }
    }
}

/// A policy for 100 ms slots: quarantine 10 s, probation 2 s, cooldown 3 s.
pub fn fast_policy() -> PolicyParams {
    PolicyParams {
        staleness_slots: 30,
        liveness_slots: 300,
        cooldown_slots: 30,
        quarantine_base_slots: 100,
        quarantine_max_slots: 1_000,
        probation_slots: 20,
        lag_degraded_slots: 4,
        lag_down_slots: 8,
        ..PolicyParams::default()
    }
}

pub struct Sandbox {
    pub net: Localnet,
    /// The steps `lifeline apply` would print for this sandbox's topology (all applied).
    pub applied: Vec<String>,
    pub authority: Keypair,
    pub network: Pubkey,
    /// Every key in the keeper set, daemons first.
    pub keepers: Vec<Keypair>,
    pub config: SandboxConfig,
    stats: Vec<Option<Arc<KeeperStats>>>,
    tasks: Vec<Option<JoinHandle<()>>>,
    stop: watch::Sender<bool>,
    actor_seq: Vec<u64>,
}

impl Sandbox {
    /// Starts the localnet, applies the topology the config describes through the
    /// planner, and starts the keeper daemons.
    pub async fn start(config: SandboxConfig) -> Result<Self, String> {
        let net = Localnet::start(LocalnetConfig {
            endpoints: config.endpoints,
            slot_duration: config.slot,
            ..config.localnet.clone()
        })
        .await
        .map_err(|e| e.to_string())?;
        let authority = net
            .funded_keypairs(1, 50_000_000_000)
            .map_err(|e| e.to_string())?
            .pop()
            .expect("one key");
        let keepers = net
            .funded_keypairs(config.keepers, 5_000_000_000)
            .map_err(|e| e.to_string())?;
        let spec = spec(&config, &net.simulated(), &keepers);
        let plan = plan::plan(&spec, &authority.pubkey(), None).map_err(|e| e.to_string())?;
        plan::apply(
            &Direct {
                net: &net,
                authority: &authority,
            },
            &plan,
            &authority.pubkey(),
            |_, _, _| {},
        )
        .await
        .map_err(|e| e.to_string())?;
        // Keepers read at `confirmed` by default: wait until the setup is rooted.
        let applied_at = net.cluster.working_bank().slot();
        while net.cluster.root_bank().slot() <= applied_at {
            tokio::time::sleep(config.slot / 4).await;
        }
        let (stop, _) = watch::channel(false);
        let n = config.keepers;
        let mut sb = Self {
            applied: plan.steps.iter().map(|s| s.describe()).collect(),
            network: plan.network,
            net,
            authority,
            keepers,
            stats: vec![None; n],
            tasks: (0..n).map(|_| None).collect(),
            stop,
            actor_seq: vec![0; n],
            config,
        };
        for k in 0..sb.config.daemons.min(n) {
            sb.start_keeper(k).await?;
        }
        Ok(sb)
    }

    /// The spec the sandbox applied (what a topology file for it would say).
    pub fn spec(&self) -> Spec {
        spec(&self.config, &self.net.simulated(), &self.keepers)
    }

    /// The configuration a daemon for keeper `k` gets, with `extra` (field, value) on top.
    pub fn keeper_config(
        &self,
        extra: &[(&str, String)],
    ) -> Result<lifeline_keeper::config::KeeperConfig, String> {
        let mut fields: Vec<(&str, String)> = vec![
            ("network", self.network.to_string()),
            ("url", self.net.rpc_url.clone()),
            ("ws_url", self.net.ws_url.clone()),
            (
                "probe_interval_ms",
                self.config.probe_interval.as_millis().to_string(),
            ),
            ("jitter_ms", self.config.slot.as_millis().to_string()),
        ];
        fields.extend(
            self.config
                .keeper_options
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone())),
        );
        fields.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        lifeline_keeper::config::load(None, Vec::<(String, String)>::new(), &fields)
            .map_err(|e| e.to_string())
    }

    /// Starts (or restarts) keeper `k`'s daemon.
    pub async fn start_keeper(&mut self, k: usize) -> Result<(), String> {
        self.start_keeper_with(k, &[]).await
    }

    /// Starts keeper `k`'s daemon with extra configuration.
    pub async fn start_keeper_with(
        &mut self,
        k: usize,
        extra: &[(&str, String)],
    ) -> Result<(), String> {
        self.kill_keeper(k);
        let config = self.keeper_config(extra)?;
        let keeper = Keeper::new(config, self.keepers[k].insecure_clone())
            .await
            .map_err(|e| e.to_string())?;
        self.stats[k] = Some(keeper.stats());
        self.tasks[k] = Some(tokio::spawn(keeper.run(self.stop.subscribe())));
        Ok(())
    }

    /// Kills keeper `k`'s daemon at once, whatever it was doing.
    pub fn kill_keeper(&mut self, k: usize) {
        if let Some(t) = self.tasks[k].take() {
            t.abort();
        }
    }

    /// Keeper `k`'s counters (None for an actor that never ran the daemon).
    pub fn stats(&self, k: usize) -> Option<Arc<KeeperStats>> {
        self.stats[k].clone()
    }

    /// A counter summed over every daemon.
    pub fn total(&self, f: fn(&KeeperStats) -> &AtomicU64) -> u64 {
        self.stats
            .iter()
            .flatten()
            .map(|s| KeeperStats::get(f(s)))
            .sum()
    }

    pub fn fault(&self, endpoint: &str, fault: Fault) {
        self.net
            .faults
            .set(endpoint, fault)
            .expect("known endpoint");
    }

    /// The URL of simulated endpoint `i` (ep`i` for the RPC ones).
    pub fn endpoint_url(&self, i: usize) -> String {
        self.net.simulated()[i].url.clone()
    }

    /// The index of the simulated endpoint called `name` (ep0, ws0, or0, gw0, …).
    pub fn endpoint_index(&self, name: &str) -> usize {
        self.net
            .simulated()
            .iter()
            .position(|e| e.name == name)
            .expect("a simulated endpoint")
    }

    /// The on-chain id of simulated endpoint `i`.
    pub fn endpoint_id(&self, i: usize) -> u32 {
        let url = self.endpoint_url(i);
        self.topology()
            .endpoints()
            .iter()
            .find(|e| e.url() == url)
            .expect("endpoint in the topology")
            .id
    }

    pub fn network_state(&self) -> Box<Network> {
        read(&self.net, &self.network).expect("network")
    }

    pub fn topology(&self) -> Box<Topology> {
        read(&self.net, &pda::topology(&self.network).0).expect("topology")
    }

    /// The topology as confirmed (the root bank): what a client reading at `confirmed`
    /// sees.
    pub fn confirmed_topology(&self) -> Box<Topology> {
        let key = pda::topology(&self.network).0;
        let acc = self
            .net
            .cluster
            .root_bank()
            .get_account(&key)
            .expect("topology");
        accounts::decode::<Topology>(acc.data()).expect("topology")
    }

    pub fn ballot(&self) -> Box<Ballot> {
        read(&self.net, &pda::ballot(&self.network).0).expect("ballot")
    }

    /// The chain at the working bank, as a keeper would read it.
    pub fn state(&self) -> ChainState {
        ChainState {
            slot: self.net.cluster.working_bank().slot(),
            network: self.network_state(),
            topology: self.topology(),
            ballot: self.ballot(),
        }
    }

    /// Keeper `k`'s row of the ballot.
    pub fn report(&self, k: usize) -> KeeperReport {
        let i = self
            .network_state()
            .keeper_index(&self.keepers[k].pubkey())
            .expect("in the set");
        self.ballot().reports[i]
    }

    /// Sends instructions signed by the authority.
    pub fn send(&self, ixs: &[Instruction]) -> Result<(), String> {
        self.net
            .send(&self.authority, ixs)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Keeper `k` (an actor) attests `views` (endpoint id → what it claims to see).
    pub fn act(&mut self, k: usize, views: &[(u32, Seen)]) -> Result<(), String> {
        let now = self.net.cluster.working_bank().slot();
        let policy = self.network_state().policy;
        self.actor_seq[k] = self.actor_seq[k].max(self.report(k).seq) + 1;
        let args = SubmitAttestationArgs {
            seq: self.actor_seq[k],
            topology_epoch: self.topology().epoch,
            reference_slot: now,
            observations: views
                .iter()
                .map(|(id, s)| s.observation(&policy, *id))
                .collect(),
        };
        let ix = ix::submit_attestation(&self.network, &self.keepers[k].pubkey(), args);
        self.net
            .send(&self.keepers[k], &[ix])
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Runs `act` for keeper `k` every 200 ms for `duration`, the way a daemon keeps its
    /// story fresh.
    pub async fn keep_acting(
        &mut self,
        k: usize,
        duration: Duration,
        views: &[(u32, Seen)],
    ) -> Result<(), String> {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            self.act(k, views)?;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(())
    }

    /// Polls until `done` holds for the chain state, or `limit` passes.
    pub async fn wait_for(
        &self,
        limit: Duration,
        mut done: impl FnMut(&ChainState) -> bool,
    ) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if done(&self.state()) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The first migration recorded after `since_total` migrations, if one lands in time.
    pub async fn wait_migration(
        &self,
        since_total: u64,
        limit: Duration,
    ) -> Option<MigrationRecord> {
        let deadline = Instant::now() + limit;
        loop {
            let t = self.topology();
            if t.history_total > since_total {
                let newer = (t.history_total - since_total) as usize;
                return t.recent_migrations().take(newer).last().copied();
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until every daemon has attested at least once.
    pub async fn settle(&self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        while self
            .stats
            .iter()
            .flatten()
            .any(|s| KeeperStats::get(&s.attestations_sent) == 0)
        {
            if Instant::now() > deadline {
                return Err("keepers never attested".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Stops every daemon (they finish their current step) and waits for them.
    pub async fn stop_keepers(&mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.iter_mut() {
            if let Some(t) = t.take() {
                let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
            }
        }
        let (stop, _) = watch::channel(false);
        self.stop = stop;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.iter().flatten() {
            t.abort();
        }
    }
}
