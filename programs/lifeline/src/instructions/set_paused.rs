use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::PausedSet;
use crate::instructions::shared::*;
use crate::state::Network;

#[event_cpi]
#[derive(Accounts)]
pub struct SetPaused<'info> {
    #[account(mut)]
    pub network: AccountLoader<'info, Network>,
    pub signer: Signer<'info>,
}

impl SetPaused<'_> {
    pub fn validate(&self) -> Result<()> {
        let network = self.network.load()?;
        let who = self.signer.key();
        ensure!(
            who == network.authority
                || (network.guardian != Pubkey::default() && who == network.guardian),
            LifelineError::NotAuthorityOrGuardian
        );
        Ok(())
    }
}

/// The emergency brake: while paused no automatic migration or readmission happens;
/// keepers keep attesting and the authority can still force a failover. A pause records
/// who set it: the guardian may lift only its own, the authority any (including one the
/// guardian set, and one a previous authority set).
#[access_control(ctx.accounts.validate())]
pub fn handler(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
    let who = ctx.accounts.signer.key();
    let mut network = ctx.accounts.network.load_mut()?;
    ensure!(network.is_paused() != paused, LifelineError::NoChange);
    if !paused {
        ensure!(
            who == network.authority || network.paused_by == who,
            LifelineError::PausedByAuthority
        );
    }
    network.paused = u8::from(paused);
    network.paused_by = if paused { who } else { Pubkey::default() };
    drop(network);
    emit_event(
        &ctx.accounts.event_authority,
        &PausedSet {
            header: header(ctx.accounts.network.key(), 0)?,
            paused,
            by: ctx.accounts.signer.key(),
        },
    )?;
    Ok(())
}
