use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::EndpointRemoved;
use crate::instructions::shared::*;
use crate::state::{Ballot, Network, Role, Topology};

#[event_cpi]
#[derive(Accounts)]
pub struct RemoveEndpoint<'info> {
    #[account(has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    /// The endpoint's column of the ballot follows it.
    #[account(mut, has_one = network @ LifelineError::WrongBallot)]
    pub ballot: AccountLoader<'info, Ballot>,
    pub authority: Signer<'info>,
}

/// Removes an endpoint. A primary can only be removed when it is the last endpoint of its
/// group (decommissioning the group); otherwise fail over first.
pub fn handler(ctx: Context<RemoveEndpoint>, endpoint_id: u32) -> Result<()> {
    let mut topology = ctx.accounts.topology.load_mut()?;
    let idx = topology
        .index_of(endpoint_id)
        .ok_or(LifelineError::EndpointNotFound)?;
    let e = topology.endpoints[idx];
    if e.role() == Some(Role::Primary) {
        let others = topology
            .endpoints()
            .iter()
            .filter(|o| o.group == e.group && o.id != e.id)
            .count();
        ensure!(others == 0, LifelineError::PrimaryInUse);
    }
    let moved_from = topology.remove_at(idx);
    let epoch = topology.touch_group(e.group)?;
    topology.invariant()?;
    drop(topology);
    ctx.accounts
        .ballot
        .load_mut()?
        .remove_column(idx, moved_from);
    emit_event(
        &ctx.accounts.event_authority,
        &EndpointRemoved {
            header: header(ctx.accounts.network.key(), epoch)?,
            endpoint_id,
            group: e.group,
        },
    )?;
    Ok(())
}
