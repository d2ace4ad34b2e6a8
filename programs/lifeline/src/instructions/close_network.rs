use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::NetworkClosed;
use crate::instructions::shared::*;
use crate::state::{Ballot, Network, Topology};

#[event_cpi]
#[derive(Accounts)]
pub struct CloseNetwork<'info> {
    #[account(mut, has_one = authority @ LifelineError::Unauthorized, close = authority)]
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology, close = authority)]
    pub topology: AccountLoader<'info, Topology>,
    #[account(mut, has_one = network @ LifelineError::WrongBallot, close = authority)]
    pub ballot: AccountLoader<'info, Ballot>,
    /// Receives the rent of the three accounts.
    #[account(mut)]
    pub authority: Signer<'info>,
}

impl CloseNetwork<'_> {
    pub fn validate(&self) -> Result<()> {
        let network = self.network.load()?;
        let topology = self.topology.load()?;
        ensure!(
            network.keeper_count == 0 && topology.endpoint_count == 0,
            LifelineError::NetworkNotEmpty
        );
        Ok(())
    }
}

/// Closes an empty network (no keepers, no endpoints) and refunds its rent to the
/// authority: the way out of a network created by mistake. A network that still has
/// keepers or endpoints is refused, so nothing that followers or keepers rely on can
/// vanish in one step.
#[access_control(ctx.accounts.validate())]
pub fn handler(ctx: Context<CloseNetwork>) -> Result<()> {
    emit_event(
        &ctx.accounts.event_authority,
        &NetworkClosed {
            header: header(ctx.accounts.network.key(), 0)?,
            authority: ctx.accounts.authority.key(),
        },
    )
}
