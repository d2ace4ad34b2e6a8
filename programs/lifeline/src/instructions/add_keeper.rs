use anchor_lang::prelude::*;

use crate::ensure;

use crate::constants::*;
use crate::errors::LifelineError;
use crate::events::KeeperAdded;
use crate::instructions::shared::*;
use crate::state::{text, KeeperEntry, KeeperReport, Network};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AddKeeperArgs {
    pub keeper: Pubkey,
    pub region: String,
    pub provider: String,
}

#[event_cpi]
#[derive(Accounts)]
#[instruction(args: AddKeeperArgs)]
pub struct AddKeeper<'info> {
    #[account(mut, has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    /// Pays for the keeper's report account.
    #[account(mut)]
    pub authority: Signer<'info>,
    /// CHECK: created here; the handler requires the canonical PDA ["report", network, keeper].
    #[account(mut)]
    pub report: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
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

/// Adds a keeper to the set and creates its report account, so attestations never pay for
/// account creation and no stranger can front-run it.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<AddKeeper>, args: AddKeeperArgs) -> Result<()> {
    let network_key = ctx.accounts.network.key();
    let slot_index = {
        let network = ctx.accounts.network.load()?;
        ensure!(
            network.keeper_index(&args.keeper).is_none(),
            LifelineError::KeeperExists
        );
        network
            .keepers
            .iter()
            .position(|k| k.is_empty())
            .ok_or(LifelineError::TooManyKeepers)?
    };
    let (report_key, report_bump) = Pubkey::find_program_address(
        &[REPORT_SEED, network_key.as_ref(), args.keeper.as_ref()],
        &crate::ID,
    );
    ensure!(
        ctx.accounts.report.key() == report_key,
        LifelineError::InvalidPda
    );
    create_pda(
        &ctx.accounts.authority.to_account_info(),
        ctx.accounts.report.as_ref(),
        KeeperReport::SPACE,
        &[
            REPORT_SEED,
            network_key.as_ref(),
            args.keeper.as_ref(),
            &[report_bump],
        ],
    )?;
    init_zero_copy::<KeeperReport>(ctx.accounts.report.as_ref(), |report| {
        report.network = network_key;
        report.keeper = args.keeper;
        report.version = ACCOUNT_VERSION;
        report.bump = report_bump;
        Ok(())
    })?;

    let mut network = ctx.accounts.network.load_mut()?;
    network.keepers[slot_index] = KeeperEntry {
        keeper: args.keeper,
        region: text::to_fixed(&args.region),
        provider: text::to_fixed(&args.provider),
    };
    network.keeper_count += 1;
    network.invariant()?;
    let keeper_count = network.keeper_count;
    drop(network);

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
