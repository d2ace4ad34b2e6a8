use anchor_lang::prelude::*;

use crate::engine::{self, decide_migration, MigrationPlan, Refusal, Snapshot};
use crate::errors::LifelineError;
use crate::events::MigrationExecuted;
use crate::instructions::shared::*;
use crate::state::{Ballot, MigrationCause, Network, Topology};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct TriggerMigrationArgs {
    pub group: u8,
    /// The group's epoch the caller decided on; a racing caller that lost gets
    /// EpochMismatch, and changes to other groups do not matter.
    pub expected_group_epoch: u64,
}

/// Permissionless. The decision reads the whole on-chain ballot: no report accounts are
/// passed, so no caller can choose which votes count.
#[event_cpi]
#[derive(Accounts)]
pub struct TriggerMigration<'info> {
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    #[account(has_one = network @ LifelineError::WrongBallot)]
    pub ballot: AccountLoader<'info, Ballot>,
    pub caller: Signer<'info>,
}

pub fn handler(ctx: Context<TriggerMigration>, args: TriggerMigrationArgs) -> Result<()> {
    let now = Clock::get()?.slot;
    let network_key = ctx.accounts.network.key();
    let network = ctx.accounts.network.load()?;
    let (plan, voter_keys) = {
        let topology = ctx.accounts.topology.load()?;
        require_group_epoch(&topology, args.group, args.expected_group_epoch)?;
        let ballot = ctx.accounts.ballot.load()?;
        let snap = Snapshot {
            network: &network,
            topology: &topology,
            ballot: &ballot,
            now,
        };
        let electorate = engine::collect(&snap);
        let plan = decide_migration(&snap, &electorate, args.group).map_err(refusal_error)?;
        (plan, voters(&network, plan.voters))
    };
    drop(network);

    let (old_epoch, new_epoch) = ctx.accounts.topology.load_mut()?.apply_failover(
        plan.record(),
        plan.from_id.map(|_| plan.quarantine_until_slot),
        now,
    )?;
    emit_migration(
        &ctx.accounts.event_authority,
        network_key,
        &plan,
        old_epoch,
        new_epoch,
        voter_keys,
        ctx.accounts.caller.key(),
    )
}

/// The MigrationExecuted event of an automatic migration (trigger or attestation).
pub fn emit_migration(
    event_authority: &AccountInfo,
    network: Pubkey,
    plan: &MigrationPlan,
    old_epoch: u64,
    new_epoch: u64,
    voters: Vec<Pubkey>,
    triggered_by: Pubkey,
) -> Result<()> {
    emit_event(
        event_authority,
        &MigrationExecuted {
            header: header(network, new_epoch)?,
            old_epoch,
            group: plan.group,
            from_id: plan.from_id,
            to_id: plan.to_id,
            rule: plan.rule as u8,
            cause: MigrationCause::Automatic as u8,
            voters,
            median_latency_ms: plan.evidence.median_latency_ms,
            median_slot_lag: plan.evidence.median_slot_lag,
            median_error_bps: plan.evidence.median_error_bps,
            quarantine_until_slot: plan.quarantine_until_slot,
            triggered_by,
        },
    )
}

/// Each engine refusal has a named program error.
pub fn refusal_error(r: Refusal) -> Error {
    crate::errors::err(LifelineError::from(r))
}
