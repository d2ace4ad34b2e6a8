//! Follows a network's Topology account: a WebSocket subscription for low latency, with
//! a polling loop as fallback (and to heal a dropped subscription). Publishes each newer
//! epoch on a `watch` channel; never goes back to an older epoch.
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use futures_util::StreamExt;
use solana_account_decoder_client_types::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::RpcAccountInfoConfig;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::view::TopologyView;
use crate::{accounts, pda};

#[derive(Clone, Debug)]
pub struct WatcherConfig {
    pub rpc_url: String,
    /// PubSub URL; None = polling only.
    pub ws_url: Option<String>,
    /// The Network account (the topology address is derived from it).
    pub network: Pubkey,
    pub poll_interval: Duration,
    pub commitment: CommitmentConfig,
}

impl WatcherConfig {
    pub fn new(rpc_url: impl Into<String>, ws_url: Option<String>, network: Pubkey) -> Self {
        Self {
            rpc_url: rpc_url.into(),
            ws_url,
            network,
            poll_interval: Duration::from_secs(2),
            commitment: CommitmentConfig::confirmed(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot read the topology {topology}: {reason}")]
    Fetch { topology: Pubkey, reason: String },
}

/// The most the watcher reads of one answer (a Topology account is 6,976 bytes; base64
/// and the JSON around it make ~10 KB).
const TOPOLOGY_READ_BYTES: usize = 256 << 10;

/// A running watcher. Dropping it stops the background tasks.
pub struct TopologyWatcher {
    rx: watch::Receiver<Arc<TopologyView>>,
    tasks: Vec<JoinHandle<()>>,
}

async fn fetch(
    rpc: &RpcClient,
    topology: &Pubkey,
    commitment: CommitmentConfig,
) -> Result<TopologyView, String> {
    let resp = rpc
        .get_account_with_commitment(topology, commitment)
        .await
        .map_err(|e| e.to_string())?;
    let account = resp.value.ok_or_else(|| "account not found".to_string())?;
    let t = accounts::topology(&account.data).map_err(|e| e.to_string())?;
    Ok(TopologyView::from_account(&t, resp.context.slot))
}

/// Publishes `view` if it is a newer epoch than the current one.
fn publish(tx: &watch::Sender<Arc<TopologyView>>, view: TopologyView) {
    tx.send_if_modified(|current| {
        if view.epoch > current.epoch {
            *current = Arc::new(view);
            true
        } else {
            false
        }
    });
}

impl TopologyWatcher {
    /// Reads the topology once (so `current()` is always valid), then follows it.
    pub async fn start(config: WatcherConfig) -> Result<Self, WatchError> {
        let topology = pda::topology(&config.network).0;
        // The topology's reads, bounded: a topology account is 7 KB.
        let rpc = crate::FailoverRpc::with_urls(
            vec![config.rpc_url.clone()],
            crate::RouterConfig {
                timeout: Duration::from_secs(10),
                max_answer_bytes: Some(TOPOLOGY_READ_BYTES),
                ..crate::RouterConfig::default()
            },
        )
        .into_rpc_client(config.commitment);
        let first = fetch(&rpc, &topology, config.commitment)
            .await
            .map_err(|reason| WatchError::Fetch { topology, reason })?;
        let (tx, rx) = watch::channel(Arc::new(first));
        let tx = Arc::new(tx);
        let mut tasks = Vec::new();

        let poll_tx = tx.clone();
        let poll_config = config.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(poll_config.poll_interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match fetch(&rpc, &topology, poll_config.commitment).await {
                    Ok(view) => publish(&poll_tx, view),
                    Err(e) => tracing::debug!("topology poll failed: {e}"),
                }
            }
        }));

        if let Some(ws_url) = config.ws_url.clone() {
            let sub_tx = tx.clone();
            let commitment = config.commitment;
            tasks.push(tokio::spawn(async move {
                let mut backoff = Duration::from_millis(250);
                loop {
                    if let Ok(client) = PubsubClient::new(ws_url.as_str()).await {
                        let cfg = RpcAccountInfoConfig {
                            encoding: Some(UiAccountEncoding::Base64),
                            commitment: Some(commitment),
                            ..Default::default()
                        };
                        if let Ok((mut stream, _unsubscribe)) =
                            client.account_subscribe(&topology, Some(cfg)).await
                        {
                            backoff = Duration::from_millis(250);
                            while let Some(update) = stream.next().await {
                                let Some(data) = update.value.data.decode() else {
                                    continue;
                                };
                                if let Ok(t) = accounts::topology(&data) {
                                    publish(
                                        &sub_tx,
                                        TopologyView::from_account(&t, update.context.slot),
                                    );
                                }
                            }
                        }
                    }
                    // The subscription dropped: polling keeps the view fresh meanwhile.
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }));
        }
        Ok(Self { rx, tasks })
    }

    pub fn current(&self) -> Arc<TopologyView> {
        self.rx.borrow().clone()
    }

    /// A receiver that sees every newer epoch.
    pub fn subscribe(&self) -> watch::Receiver<Arc<TopologyView>> {
        self.rx.clone()
    }
}

impl Drop for TopologyWatcher {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
