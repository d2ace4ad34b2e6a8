use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::KeeperRemoved;
use crate::instructions::shared::*;
use crate::state::{KeeperEntry, KeeperReport, Network};

#[event_cpi]
#[derive(Accounts)]
#[instruction(keeper: Pubkey)]
pub struct RemoveKeeper<'info> {
    #[account(mut, has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    /// Receives the report account's rent.
    #[account(mut)]
    pub authority: Signer<'info>,
    #[account(
        mut,
        close = authority,
        constraint = report.load()?.network == network.key() @ LifelineError::WrongReport,
        constraint = report.load()?.keeper == keeper @ LifelineError::WrongReport,
    )]
    pub report: AccountLoader<'info, KeeperReport>,
}

/// Removes a keeper and closes its report. Refused if an explicit quorum would then exceed
/// the keeper count (lower the quorum first), so failover never becomes impossible by
/// accident.
pub fn handler(ctx: Context<RemoveKeeper>, keeper: Pubkey) -> Result<()> {
    let mut network = ctx.accounts.network.load_mut()?;
    let idx = network
        .keeper_index(&keeper)
        .ok_or(LifelineError::KeeperNotInSet)?;
    let remaining = network.keeper_count as usize - 1;
    ensure!(
        crate::engine::policy::quorum_reachable(&network.policy, remaining),
        LifelineError::QuorumUnreachable
    );
    network.keepers[idx] = KeeperEntry::default();
    network.keeper_count -= 1;
    network.invariant()?;
    let keeper_count = network.keeper_count;
    drop(network);
    emit_event(
        &ctx.accounts.event_authority,
        &KeeperRemoved {
            header: header(ctx.accounts.network.key(), 0)?,
            keeper,
            keeper_count,
        },
    )?;
    Ok(())
}
