use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::KeeperRemoved;
use crate::instructions::shared::*;
use crate::state::{Ballot, KeeperEntry, KeeperReport, Network};

#[event_cpi]
#[derive(Accounts)]
pub struct RemoveKeeper<'info> {
    #[account(mut, has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    /// The keeper's row of the ballot is cleared: its votes stop counting at once.
    #[account(mut, has_one = network @ LifelineError::WrongBallot)]
    pub ballot: AccountLoader<'info, Ballot>,
    pub authority: Signer<'info>,
}

/// Removes a keeper and clears its row of the ballot. Refused if an explicit quorum would
/// then exceed the keeper count (lower the quorum first), so failover never becomes
/// impossible by accident. Every other keeper's votes stay as they are; the quorum they
/// are measured against follows the new keeper count.
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
    ctx.accounts.ballot.load_mut()?.reports[idx] = KeeperReport::default();
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
