use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::AuthorityAccepted;
use crate::instructions::shared::*;
use crate::state::Network;

#[event_cpi]
#[derive(Accounts)]
pub struct AcceptAuthority<'info> {
    #[account(
        mut,
        constraint = network.load()?.pending_authority == new_authority.key()
            @ LifelineError::NotPendingAuthority,
    )]
    pub network: AccountLoader<'info, Network>,
    pub new_authority: Signer<'info>,
}

pub fn handler(ctx: Context<AcceptAuthority>) -> Result<()> {
    let new_authority = ctx.accounts.new_authority.key();
    ensure!(
        new_authority != Pubkey::default(),
        LifelineError::NotPendingAuthority
    );
    let mut network = ctx.accounts.network.load_mut()?;
    let previous_authority = network.authority;
    network.authority = new_authority;
    network.pending_authority = Pubkey::default();
    drop(network);
    emit_event(
        &ctx.accounts.event_authority,
        &AuthorityAccepted {
            header: header(ctx.accounts.network.key(), 0)?,
            previous_authority,
            authority: new_authority,
        },
    )?;
    Ok(())
}
