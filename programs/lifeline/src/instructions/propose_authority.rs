use anchor_lang::prelude::*;

use crate::errors::LifelineError;
use crate::events::AuthorityProposed;
use crate::instructions::shared::*;
use crate::state::Network;

#[event_cpi]
#[derive(Accounts)]
pub struct ProposeAuthority<'info> {
    #[account(mut, has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    pub authority: Signer<'info>,
}

/// First step of a two-step transfer: nothing changes hands until the new authority signs
/// accept_authority, so a typo cannot lock the network. `Pubkey::default()` cancels.
pub fn handler(ctx: Context<ProposeAuthority>, new_authority: Pubkey) -> Result<()> {
    let mut network = ctx.accounts.network.load_mut()?;
    network.pending_authority = new_authority;
    let authority = network.authority;
    drop(network);
    emit_event(
        &ctx.accounts.event_authority,
        &AuthorityProposed {
            header: header(ctx.accounts.network.key(), 0)?,
            authority,
            pending_authority: new_authority,
        },
    )?;
    Ok(())
}
