//! What the keeper's tasks share: the configuration, the key, the network, the keeper's
//! own RPCs and HTTP client, the counters, and reads of the chain. Every task imports this
//! module; nothing here imports a task.
use std::sync::Arc;

use anchor_lang::prelude::Pubkey;
use lifeline_client::state::{ChainState, ReadError};
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;

use crate::config::KeeperConfig;
use crate::stats::KeeperStats;

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
        self.read_chain_at(self.commitment).await
    }

    /// The chain at `commitment` (`processed`: what a transaction sent now executes
    /// against).
    pub async fn read_chain_at(
        &self,
        commitment: CommitmentConfig,
    ) -> Result<ChainState, ReadError> {
        ChainState::read(&self.rpc, &self.network, commitment).await
    }
}
