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
