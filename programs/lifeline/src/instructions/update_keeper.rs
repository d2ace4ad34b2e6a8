use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::KeeperUpdated;
use crate::instructions::shared::*;
use crate::state::{text, Network};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct UpdateKeeperArgs {
    pub keeper: Pubkey,
    pub region: String,
    pub provider: String,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateKeeper<'info> {
    #[account(mut, has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    pub authority: Signer<'info>,
}

impl UpdateKeeper<'_> {
    pub fn validate(&self, args: &UpdateKeeperArgs) -> Result<()> {
        check_label(&args.region)?;
        check_label(&args.provider)
    }
}

/// Changes a keeper's region and provider labels. Labels describe where a keeper runs;
/// no vote depends on them, so nothing is invalidated.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<UpdateKeeper>, args: UpdateKeeperArgs) -> Result<()> {
    let mut network = ctx.accounts.network.load_mut()?;
    let idx = network
        .keeper_index(&args.keeper)
        .ok_or(LifelineError::KeeperNotInSet)?;
    let entry = &mut network.keepers[idx];
    let (region, provider) = (text::to_fixed(&args.region), text::to_fixed(&args.provider));
    ensure!(
        entry.region != region || entry.provider != provider,
        LifelineError::NoChange
    );
    entry.region = region;
    entry.provider = provider;
    network.invariant()?;
    drop(network);
    emit_event(
        &ctx.accounts.event_authority,
        &KeeperUpdated {
            header: header(ctx.accounts.network.key(), 0)?,
            keeper: args.keeper,
            region: args.region,
            provider: args.provider,
        },
    )
}
