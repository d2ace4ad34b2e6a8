use anchor_lang::prelude::*;

use crate::ensure;

use crate::engine::policy;
use crate::errors::LifelineError;
use crate::events::PolicyUpdated;
use crate::instructions::shared::*;
use crate::state::{Network, PolicyParams, Topology};

#[event_cpi]
#[derive(Accounts)]
pub struct UpdatePolicy<'info> {
    #[account(mut, has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    /// Streaks in the ballot were judged under the old thresholds: `policy_epoch` moves
    /// to the new epoch, and only reports read at or after it count.
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    pub authority: Signer<'info>,
}

impl UpdatePolicy<'_> {
    pub fn validate(&self, args: &PolicyParams) -> Result<()> {
        let network = self.network.load()?;
        policy::validate(&(*args).into(), network.keeper_count as usize)
            .map_err(|_| crate::errors::err(LifelineError::InvalidPolicy))
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<UpdatePolicy>, args: PolicyParams) -> Result<()> {
    let mut network = ctx.accounts.network.load_mut()?;
    ensure!(
        PolicyParams::from(&network.policy) != args,
        LifelineError::NoChange
    );
    network.policy = args.into();
    network.invariant()?;
    drop(network);
    let mut topology = ctx.accounts.topology.load_mut()?;
    let epoch = topology.bump_epoch()?;
    topology.policy_epoch = epoch;
    drop(topology);
    emit_event(
        &ctx.accounts.event_authority,
        &PolicyUpdated {
            header: header(ctx.accounts.network.key(), epoch)?,
            policy: args,
        },
    )?;
    Ok(())
}
