use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::GuardianSet;
use crate::instructions::shared::*;
use crate::state::Network;

#[event_cpi]
#[derive(Accounts)]
pub struct SetGuardian<'info> {
    #[account(mut, has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    pub authority: Signer<'info>,
}

/// The guardian may only pause and resume. `Pubkey::default()` removes it.
pub fn handler(ctx: Context<SetGuardian>, guardian: Pubkey) -> Result<()> {
    let mut network = ctx.accounts.network.load_mut()?;
    ensure!(network.guardian != guardian, LifelineError::NoChange);
    network.guardian = guardian;
    drop(network);
    emit_event(
        &ctx.accounts.event_authority,
        &GuardianSet {
            header: header(ctx.accounts.network.key(), 0)?,
            guardian,
        },
    )?;
    Ok(())
}
