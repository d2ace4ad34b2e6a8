//! The chaos harness: a localnet with fault endpoints, a network whose group 0 is ep0
//! (primary) and ep1 (standby), real keepers (the daemon, in-process), and scripted
//! keeper "actors" that attest whatever a scenario needs (a liar, a partitioned keeper).
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anchor_lang::prelude::Pubkey;
use lifeline::instructions::*;
use lifeline::state::{MigrationRecord, PolicyParams, Role, Topology};
use lifeline_client::{accounts, ix, pda};
use lifeline_keeper::{Keeper, KeeperStats};
use lifeline_localnet::{Localnet, LocalnetConfig};
use solana_account::ReadableAccount;
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// 100 ms slots: a node 8 slots behind is down; quarantine 10 s; probation 2 s.
pub fn chaos_policy() -> PolicyParams {
    PolicyParams {
        staleness_slots: 30,
        cooldown_slots: 30,
        quarantine_base_slots: 100,
        quarantine_max_slots: 1_000,
        probation_slots: 20,
        lag_degraded_slots: 4,
        lag_down_slots: 8,
        latency_degraded_ms: 150,
        latency_down_ms: 200,
        ..PolicyParams::default()
    }
}

pub struct Chaos {
    pub net: Localnet,
    pub authority: Keypair,
    pub network: Pubkey,
    pub keepers: Vec<Keypair>,
    pub stats: Vec<Option<Arc<KeeperStats>>>,
    tasks: Vec<Option<JoinHandle<()>>>,
    stop: watch::Sender<bool>,
    actor_seq: Vec<u64>,
}

impl Chaos {
    /// `keepers` keys in the set; the first `real` of them run the keeper daemon, the
    /// rest are actors the scenario drives by hand.
    pub async fn start(keepers: usize, real: usize, endpoints: usize) -> Self {
        let net = Localnet::start(LocalnetConfig {
            endpoints,
            slot_duration: Duration::from_millis(100),
            ..LocalnetConfig::ephemeral()
        })
        .await
        .expect("localnet");
        let authority = net
            .funded_keypairs(1, 20_000_000_000)
            .unwrap()
            .pop()
            .unwrap();
        let keys = net.funded_keypairs(keepers, 5_000_000_000).unwrap();
        let network = pda::network(&authority.pubkey(), "chaos").0;
        let (stop, _) = watch::channel(false);
        let mut c = Self {
            net,
            authority,
            network,
            keepers: keys,
            stats: vec![],
            tasks: vec![],
            stop,
            actor_seq: vec![0; keepers],
        };
        c.send(ix::create_network(
            &c.authority.pubkey(),
            CreateNetworkArgs {
                name: "chaos".into(),
                policy: chaos_policy(),
                guardian: None,
            },
        ));
        for (i, k) in c.keepers.iter().enumerate() {
            c.send(ix::add_keeper(
                &network,
                &c.authority.pubkey(),
                AddKeeperArgs {
                    keeper: k.pubkey(),
                    region: format!("r{i}"),
                    provider: format!("p{}", i % 2),
                },
            ));
        }
        for (i, url) in c.net.endpoint_urls().iter().enumerate() {
            let role = if i == 0 { Role::Primary } else { Role::Standby };
            c.send(ix::add_endpoint(
                &network,
                &c.authority.pubkey(),
                AddEndpointArgs {
                    group: 0,
                    kind: 0,
                    role: role as u8,
                    priority: i as u8,
                    url: url.clone(),
                    region: format!("r{i}"),
                    provider: format!("p{i}"),
                },
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        for k in 0..keepers {
            c.stats.push(None);
            c.tasks.push(None);
            if k < real {
                c.start_keeper(k, c.net.rpc_url.clone()).await;
            }
        }
        c
    }

    /// `node <script>` in app/, with this network's addresses in the environment the
    /// dashboard's browser scripts read (LIFELINE_RPC_URL, _WS_URL, _ADMIN_URL,
    /// _NETWORK). Checks first that what they need is installed, naming the fix.
    pub fn dashboard_script(&self, script: &str) -> std::process::Command {
        let app = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../app");
        assert!(
            app.join("node_modules/playwright-core").exists(),
            "the dashboard's dependencies are not installed: run `npm ci --prefix app` (the README's test command does)"
        );
        assert!(
            std::path::Path::new("/usr/bin/chromium").exists(),
            "Chromium is not installed: `apt-get install chromium` (.ci/run does)"
        );
        let mut node = std::process::Command::new("node");
        node.arg(script)
            .current_dir(&app)
            .env("LIFELINE_RPC_URL", &self.net.rpc_url)
            .env("LIFELINE_WS_URL", &self.net.ws_url)
            .env(
                "LIFELINE_ADMIN_URL",
                self.net.admin_url.as_deref().expect("admin API"),
            )
            .env("LIFELINE_NETWORK", self.network.to_string());
        node
    }

    fn send(&self, ix: solana_instruction::Instruction) {
        self.net
            .send(&self.authority, &[ix])
            .expect("authority transaction lands");
    }

    /// Starts (or restarts) the keeper daemon for keeper `k`, with `url` as its own RPC
    /// (more RPCs after it: the localnet's, so a dead first URL is survivable).
    pub async fn start_keeper(&mut self, k: usize, url: String) {
        let cfg = lifeline_keeper::config::load(
            None,
            Vec::<(String, String)>::new(),
            &[
                ("network", self.network.to_string()),
                ("url", url),
                ("rpc_urls", format!("[\"{}\"]", self.net.rpc_url)),
                ("probe_interval_ms", "300".into()),
                ("jitter_ms", "300".into()),
            ],
        )
        .expect("keeper config");
        let keeper = Keeper::new(cfg, self.keepers[k].insecure_clone())
            .await
            .expect("keeper starts");
        self.stats[k] = Some(keeper.stats());
        self.tasks[k] = Some(tokio::spawn(keeper.run(self.stop.subscribe())));
    }

    /// Kills keeper `k`'s daemon at once (whatever it was doing: probing or sending).
    pub fn kill_keeper(&mut self, k: usize) {
        if let Some(t) = self.tasks[k].take() {
            t.abort();
        }
    }

    pub fn topology(&self) -> Box<Topology> {
        let acc = self
            .net
            .cluster
            .working_bank()
            .get_account(&pda::topology(&self.network).0)
            .expect("topology");
        accounts::topology(acc.data()).expect("decodes")
    }

    pub fn network_state(&self) -> Box<lifeline::state::Network> {
        let acc = self
            .net
            .cluster
            .working_bank()
            .get_account(&self.network)
            .expect("network");
        accounts::network(acc.data()).expect("decodes")
    }

    /// Keeper `k`'s row of the ballot.
    pub fn report(&self, k: usize) -> lifeline::state::KeeperReport {
        let acc = self
            .net
            .cluster
            .working_bank()
            .get_account(&pda::ballot(&self.network).0)
            .expect("ballot");
        let ballot = accounts::ballot(acc.data()).expect("decodes");
        let i = self
            .network_state()
            .keeper_index(&self.keepers[k].pubkey())
            .expect("in the set");
        ballot.reports[i]
    }

    pub fn report_seq(&self, k: usize) -> u64 {
        self.report(k).seq
    }

    pub fn stat(&self, k: usize, f: fn(&KeeperStats) -> &std::sync::atomic::AtomicU64) -> u64 {
        self.stats[k]
            .as_ref()
            .map_or(0, |s| f(s).load(Ordering::Relaxed))
    }

    /// Waits until every real keeper attested at least once.
    pub async fn settle(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self
            .stats
            .iter()
            .flatten()
            .any(|s| s.attestations_sent.load(Ordering::Relaxed) == 0)
        {
            assert!(Instant::now() < deadline, "keepers never attested");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The first migration after `since_total` recorded migrations, if one lands in `limit`.
    pub async fn wait_migration(
        &self,
        since_total: u64,
        limit: Duration,
    ) -> Option<MigrationRecord> {
        let deadline = Instant::now() + limit;
        loop {
            let t = self.topology();
            if t.history_total > since_total {
                return t.recent_migrations().last_of(t.history_total - since_total);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Keeper `k` (an actor, not a daemon) attests `views`: endpoint id → (slots behind,
    /// unreachable), with a long streak so its votes count.
    pub fn act(&mut self, k: usize, views: &[(u32, u64, bool)]) {
        let bank = self.net.cluster.working_bank();
        let now = bank.slot();
        let epoch = self.topology().epoch;
        let policy = self.network_state().policy;
        self.actor_seq[k] = self.actor_seq[k].max(self.report_seq(k)) + 1;
        let observations = views
            .iter()
            .map(|(id, lag, unreachable)| {
                crate::Seen {
                    latency_ms: 20,
                    lag: *lag,
                    // an actor's lagging endpoint is a frozen one
                    stalled: *lag,
                    error_bps: if *unreachable { 10_000 } else { 0 },
                    unreachable: *unreachable,
                    divergent: false,
                    windows: 10,
                }
                .observation(&policy, *id)
            })
            .collect();
        let ix = ix::submit_attestation(
            &self.network,
            &self.keepers[k].pubkey(),
            SubmitAttestationArgs {
                seq: self.actor_seq[k],
                topology_epoch: epoch,
                reference_slot: now,
                observations,
            },
        );
        self.net
            .send(&self.keepers[k], &[ix])
            .expect("actor attestation lands");
    }

    /// Runs `act` for keeper `k` every 200 ms for `duration` (an actor keeps its story
    /// fresh the way a daemon would).
    pub async fn keep_acting(&mut self, k: usize, duration: Duration, views: &[(u32, u64, bool)]) {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            // the topology may change under the actor (a migration): re-read ids each time
            self.act(k, views);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

trait LastOf {
    fn last_of(self, n: u64) -> Option<MigrationRecord>;
}

impl<'a, I: Iterator<Item = &'a MigrationRecord>> LastOf for I {
    /// The oldest of the newest `n` records (the first new migration).
    fn last_of(self, n: u64) -> Option<MigrationRecord> {
        self.take(n as usize).last().copied()
    }
}

impl Drop for Chaos {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        for t in self.tasks.iter().flatten() {
            t.abort();
        }
    }
}
