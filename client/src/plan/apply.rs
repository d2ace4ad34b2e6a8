//! Sending a plan, step by step: each step's instruction is built from the chain as it is
//! just before (a promotion needs the target's id and its group's epoch), and the first
//! failure stops the run. Planning again picks up where it stopped.
use anchor_lang::prelude::Pubkey;
use async_trait::async_trait;
use lifeline::state::Topology;
use solana_instruction::Instruction;

use super::{Plan, Step};

/// Where a plan is applied: a cluster over RPC (the CLI) or an in-process localnet.
#[async_trait]
pub trait Target: Sync {
    /// The network's topology now (None: the network does not exist).
    async fn topology(&self, network: &Pubkey) -> Result<Option<Box<Topology>>, String>;
    /// Sends one instruction signed by the authority; returns the signature.
    async fn send(&self, ix: Instruction) -> Result<String, String>;
}

/// A cluster over RPC, the authority signing: each step sent and confirmed in turn.
pub struct RpcTarget<'a> {
    pub rpc: &'a solana_rpc_client::nonblocking::rpc_client::RpcClient,
    pub authority: &'a solana_keypair::Keypair,
}

#[async_trait]
impl Target for RpcTarget<'_> {
    async fn topology(&self, network: &Pubkey) -> Result<Option<Box<Topology>>, String> {
        let key = crate::pda::topology(network).0;
        let account = self
            .rpc
            .get_account_with_commitment(&key, self.rpc.commitment())
            .await
            .map_err(|e| e.to_string())?
            .value;
        account
            .map(|a| crate::accounts::decode::<Topology>(&a.data).map_err(|e| e.to_string()))
            .transpose()
    }

    async fn send(&self, ix: Instruction) -> Result<String, String> {
        use solana_signer::Signer;
        let blockhash = self
            .rpc
            .get_latest_blockhash()
            .await
            .map_err(|e| e.to_string())?;
        let tx = solana_transaction::Transaction::new_signed_with_payer(
            &[ix],
            Some(&self.authority.pubkey()),
            &[self.authority],
            blockhash,
        );
        self.rpc
            .send_and_confirm_transaction(&tx)
            .await
            .map(|s| s.to_string())
            .map_err(|e| match crate::errors::from_client_error(&e) {
                Some(p) => crate::errors::describe(p),
                None => e.to_string(),
            })
    }
}

/// Where a run stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step {index} of {total} ({step}) failed: {message}; the {index_before} step(s) before it landed — fix the cause and apply again (it plans from the chain)", index_before = .index - 1)]
pub struct ApplyError {
    /// 1-based.
    pub index: usize,
    pub total: usize,
    pub step: String,
    pub message: String,
}

/// Applies `plan` signed by `authority`, reporting each landed step to `landed`.
pub async fn apply(
    target: &impl Target,
    plan: &Plan,
    authority: &Pubkey,
    mut landed: impl FnMut(usize, &Step, &str),
) -> Result<(), ApplyError> {
    let total = plan.steps.len();
    for (i, step) in plan.steps.iter().enumerate() {
        let fail = |message: String| ApplyError {
            index: i + 1,
            total,
            step: step.describe(),
            message,
        };
        let topology = match step {
            Step::Promote { .. } => target.topology(&plan.network).await.map_err(fail)?,
            _ => None,
        };
        let ix = step
            .instruction(&plan.network, authority, topology.as_deref())
            .map_err(fail)?;
        let sig = target.send(ix).await.map_err(fail)?;
        landed(i + 1, step, &sig);
    }
    Ok(())
}
