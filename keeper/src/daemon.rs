//! The keeper, assembled: the prober (`prober.rs`) probes every endpoint on its schedule
//! and turns probes into observations; the attester (`attester.rs`) puts them on chain when
//! they change; the migrator (`migrator.rs`) sends the permissionless decisions the chain
//! would accept; the feeds (`feed.rs`) keep the lag reference and the fork book current.
//! What they share is `shared.rs`; each task imports it, never this module.
//! Each is a task that stops on the shutdown signal.
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use lifeline_client::state::ReadError;
use lifeline_client::{FailoverRpc, RouterConfig};
use solana_keypair::Keypair;
use solana_signer::Signer;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::attester::{AttestRequest, Attester};
use crate::config::KeeperConfig;
use crate::feed;
use crate::forks::Forks;
use crate::migrator::Migrator;
use crate::probe::{Probers, SlotStream};
use crate::prober::Prober;
use crate::reference::References;
use crate::shared::Shared;
use crate::stats::KeeperStats;

#[derive(Debug, thiserror::Error)]
pub enum KeeperError {
    #[error("invalid configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("this keeper ({0}) is not in the network's keeper set")]
    NotInSet(Pubkey),
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
                // the keeper's own reads (network, topology, ballot: ~25 KB) and sends
                max_answer_bytes: Some(4 << 20),
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
        tasks.spawn(feed::follow(
            references.clone(),
            SlotStream::pubsub(&ws_url, Duration::from_secs(5)),
            shutdown.clone(),
        ));
        tasks.spawn(feed::poll(
            references.clone(),
            shared.http.clone(),
            forks.clone(),
            confirm,
            Duration::from_millis(config.probe_interval_ms.max(1_000)),
            shutdown.clone(),
        ));
        tasks.spawn(Attester::new(shared.clone(), self.start_seq).run(attest_rx, shutdown.clone()));
        tasks.spawn(Migrator::new(shared.clone()).run(nudge_rx, shutdown.clone()));
        tasks.spawn(crate::wallet::follow(
            shared.clone(),
            self.policy,
            shutdown.clone(),
        ));
        let probers = Arc::new(Probers::new(shared.http.clone(), references.clone(), forks));
        let prober = Prober::new(shared.clone(), probers, references, attest_tx, nudge_tx);
        prober.run(shutdown).await;
        while tasks.join_next().await.is_some() {}
    }
}
