use anchor_lang::prelude::*;

use crate::ensure;

use crate::constants::*;
use crate::engine::policy;
use crate::errors::LifelineError;
use crate::events::NetworkCreated;
use crate::instructions::shared::*;
use crate::state::{text, Ballot, Network, PolicyParams, Topology};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct CreateNetworkArgs {
    /// 1–32 bytes of printable ASCII; part of the network's address.
    pub name: String,
    pub policy: PolicyParams,
    /// May pause and resume automation. None = no guardian.
    pub guardian: Option<Pubkey>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct CreateNetwork<'info> {
    /// Pays for the three accounts and becomes the first authority.
    #[account(mut)]
    pub creator: Signer<'info>,
    /// CHECK: created here; the handler requires the canonical PDA ["network", creator, name].
    #[account(mut)]
    pub network: UncheckedAccount<'info>,
    /// CHECK: created here; the handler requires the canonical PDA ["topology", network].
    #[account(mut)]
    pub topology: UncheckedAccount<'info>,
    /// CHECK: created here; the handler requires the canonical PDA ["ballot", network].
    #[account(mut)]
    pub ballot: UncheckedAccount<'info>,
    pub system_program: Program<'info, System>,
}

impl CreateNetwork<'_> {
    pub fn validate(&self, args: &CreateNetworkArgs) -> Result<()> {
        check_name(&args.name)?;
        policy::validate(&args.policy.into(), 0)
            .map_err(|_| crate::errors::err(LifelineError::InvalidPolicy))?;
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<CreateNetwork>, args: CreateNetworkArgs) -> Result<()> {
    let creator = ctx.accounts.creator.key();
    let (network_key, network_bump) = Pubkey::find_program_address(
        &[NETWORK_SEED, creator.as_ref(), args.name.as_bytes()],
        &crate::ID,
    );
    ensure!(
        ctx.accounts.network.key() == network_key,
        LifelineError::InvalidPda
    );
    let payer = ctx.accounts.creator.to_account_info();
    create_pda(
        &payer,
        ctx.accounts.network.as_ref(),
        Network::SPACE,
        &[
            NETWORK_SEED,
            creator.as_ref(),
            args.name.as_bytes(),
            &[network_bump],
        ],
    )?;
    let topology_bump = create_child(
        &payer,
        ctx.accounts.topology.as_ref(),
        Topology::SPACE,
        TOPOLOGY_SEED,
        &network_key,
    )?;
    let ballot_bump = create_child(
        &payer,
        ctx.accounts.ballot.as_ref(),
        Ballot::SPACE,
        BALLOT_SEED,
        &network_key,
    )?;

    let slot = Clock::get()?.slot;
    let guardian = args.guardian.unwrap_or_default();
    init_zero_copy::<Network>(ctx.accounts.network.as_ref(), |network| {
        network.creator = creator;
        network.authority = creator;
        network.guardian = guardian;
        network.policy = args.policy.into();
        network.name = text::to_fixed(&args.name);
        network.created_slot = slot;
        network.version = ACCOUNT_VERSION;
        network.bump = network_bump;
        network.topology_bump = topology_bump;
        network.ballot_bump = ballot_bump;
        network.invariant()
    })?;
    init_zero_copy::<Topology>(ctx.accounts.topology.as_ref(), |topology| {
        topology.network = network_key;
        topology.epoch = 1;
        topology.policy_epoch = 1;
        topology.version = ACCOUNT_VERSION;
        topology.bump = topology_bump;
        topology.invariant()
    })?;
    init_zero_copy::<Ballot>(ctx.accounts.ballot.as_ref(), |ballot| {
        ballot.network = network_key;
        ballot.version = ACCOUNT_VERSION;
        ballot.bump = ballot_bump;
        Ok(())
    })?;

    emit_event(
        &ctx.accounts.event_authority,
        &NetworkCreated {
            header: header(network_key, 1)?,
            creator,
            name: args.name,
            guardian,
            policy: args.policy,
        },
    )?;
    Ok(())
}

/// Creates the network's account at the canonical PDA `[seed, network]`; returns its bump.
#[inline(never)]
fn create_child<'info>(
    payer: &AccountInfo<'info>,
    target: &AccountInfo<'info>,
    space: usize,
    seed: &[u8],
    network: &Pubkey,
) -> Result<u8> {
    let (key, bump) = Pubkey::find_program_address(&[seed, network.as_ref()], &crate::ID);
    ensure!(*target.key == key, LifelineError::InvalidPda);
    create_pda(payer, target, space, &[seed, network.as_ref(), &[bump]])?;
    Ok(bump)
}
