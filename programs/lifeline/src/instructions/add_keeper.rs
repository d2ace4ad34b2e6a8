use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::KeeperAdded;
use crate::instructions::shared::*;
use crate::state::{text, Ballot, KeeperEntry, KeeperReport, Network};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AddKeeperArgs {
    pub keeper: Pubkey,
    pub region: String,
    pub provider: String,
}

#[event_cpi]
#[derive(Accounts)]
pub struct AddKeeper<'info> {
    #[account(mut, has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    /// The keeper's row of the ballot starts empty.
    #[account(mut, has_one = network @ LifelineError::WrongBallot)]
    pub ballot: AccountLoader<'info, Ballot>,
    pub authority: Signer<'info>,
}

impl AddKeeper<'_> {
    pub fn validate(&self, args: &AddKeeperArgs) -> Result<()> {
        check_label(&args.region)?;
        check_label(&args.provider)?;
        ensure!(
            args.keeper != Pubkey::default(),
            LifelineError::KeeperNotInSet
        );
        Ok(())
    }
}

/// Adds a keeper to the first empty slot of the set; its row of the ballot starts empty
/// (seq 0, no votes), so nothing a previous holder of the slot attested can count for it.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<AddKeeper>, args: AddKeeperArgs) -> Result<()> {
    let network_key = ctx.accounts.network.key();
    let mut network = ctx.accounts.network.load_mut()?;
    ensure!(
        network.keeper_index(&args.keeper).is_none(),
        LifelineError::KeeperExists
    );
    let slot_index = network
        .keepers
        .iter()
        .position(|k| k.is_empty())
        .ok_or(LifelineError::TooManyKeepers)?;
    network.keepers[slot_index] = KeeperEntry {
        keeper: args.keeper,
        region: text::to_fixed(&args.region),
        provider: text::to_fixed(&args.provider),
    };
    network.keeper_count += 1;
    network.invariant()?;
    let keeper_count = network.keeper_count;
    drop(network);
    ctx.accounts.ballot.load_mut()?.reports[slot_index] = KeeperReport {
        keeper: args.keeper,
        ..KeeperReport::default()
    };

    emit_event(
        &ctx.accounts.event_authority,
        &KeeperAdded {
            header: header(network_key, 0)?,
            keeper: args.keeper,
            region: args.region,
            provider: args.provider,
            keeper_count,
        },
    )?;
    Ok(())
}
