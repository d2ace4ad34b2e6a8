//! A network's state at one slot, read in one round trip: what the keeper, the CLI and
//! the demo decide on.
use anchor_lang::prelude::Pubkey;
use lifeline::engine::Snapshot;
use lifeline::state::{Ballot, KeeperReport, Network, Topology};
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;

use crate::{accounts, pda};

/// Network, topology and ballot as one RPC read saw them.
pub struct ChainState {
    /// The context slot of the read.
    pub slot: u64,
    pub network: Box<Network>,
    pub topology: Box<Topology>,
    pub ballot: Box<Ballot>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("RPC: {message}")]
    Rpc {
        message: String,
        /// The RPC could not be reached at all.
        unreachable: bool,
    },
    #[error("{0} is not a Lifeline network (no such account)")]
    Missing(Pubkey),
    #[error("{address} is not a Lifeline {what}: {reason}")]
    Invalid {
        address: Pubkey,
        what: &'static str,
        reason: accounts::DecodeError,
    },
}

impl ChainState {
    /// Reads the three accounts with one `getMultipleAccounts`.
    pub async fn read(
        rpc: &RpcClient,
        network: &Pubkey,
        commitment: CommitmentConfig,
    ) -> Result<Self, ReadError> {
        let topology = pda::topology(network).0;
        let ballot = pda::ballot(network).0;
        let resp = rpc
            .get_multiple_accounts_with_commitment(&[*network, topology, ballot], commitment)
            .await
            .map_err(|e| ReadError::Rpc {
                message: e.to_string(),
                unreachable: crate::errors::is_unreachable(&e),
            })?;
        let [n, t, b] = [&resp.value[0], &resp.value[1], &resp.value[2]];
        let (Some(n), Some(t), Some(b)) = (n, t, b) else {
            return Err(ReadError::Missing(*network));
        };
        let invalid = |address, what| {
            move |reason| ReadError::Invalid {
                address,
                what,
                reason,
            }
        };
        Ok(Self {
            slot: resp.context.slot,
            network: accounts::network(&n.data).map_err(invalid(*network, "network"))?,
            topology: accounts::topology(&t.data).map_err(invalid(topology, "topology"))?,
            ballot: accounts::ballot(&b.data).map_err(invalid(ballot, "ballot"))?,
        })
    }

    pub fn snapshot(&self) -> Snapshot<'_> {
        Snapshot {
            network: &self.network,
            topology: &self.topology,
            ballot: &self.ballot,
            now: self.slot,
        }
    }

    /// `keeper`'s slot in the set and its row of the ballot (None: not in the set).
    pub fn report_of(&self, keeper: &Pubkey) -> Option<(usize, &KeeperReport)> {
        let i = self.network.keeper_index(keeper)?;
        Some((i, &self.ballot.reports[i]))
    }
}
