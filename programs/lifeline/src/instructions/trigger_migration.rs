use anchor_lang::prelude::*;

use crate::engine::{self, decide_migration, Refusal, Snapshot};
use crate::errors::LifelineError;
use crate::events::MigrationExecuted;
use crate::instructions::shared::*;
use crate::state::{MigrationCause, MigrationRecord, Network, Topology};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct TriggerMigrationArgs {
    pub group: u8,
    /// The epoch the caller decided on; a racing caller that lost gets EpochMismatch.
    pub expected_epoch: u64,
}

/// Permissionless. Remaining accounts: the keepers' reports (any order; duplicates,
/// stale and foreign-epoch reports simply do not count).
#[event_cpi]
#[derive(Accounts)]
pub struct TriggerMigration<'info> {
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    pub caller: Signer<'info>,
}

pub fn handler(ctx: Context<TriggerMigration>, args: TriggerMigrationArgs) -> Result<()> {
    let now = Clock::get()?.slot;
    let network_key = ctx.accounts.network.key();
    let loaders = load_reports(&network_key, ctx.remaining_accounts)?;
    let reports = loaders
        .iter()
        .map(|l| l.load())
        .collect::<Result<Vec<_>>>()?;
    let report_refs: Vec<&_> = reports.iter().map(|r| &**r).collect();

    let network = ctx.accounts.network.load()?;
    let topology = ctx.accounts.topology.load()?;
    require_epoch(&topology, args.expected_epoch)?;
    let snap = Snapshot {
        network: &network,
        topology: &topology,
        now,
    };
    let ballot = engine::collect(&snap, &report_refs);
    let plan = decide_migration(&snap, &ballot, args.group).map_err(refusal_error)?;
    let voters = voters(&network, plan.evidence.down_voters);
    drop(topology);
    drop(network);

    let mut topology = ctx.accounts.topology.load_mut()?;
    let (old_epoch, new_epoch) = topology.apply_failover(
        plan.group,
        plan.from_id,
        plan.to_id,
        plan.from_id.map(|_| plan.quarantine_until_slot),
        plan.rule,
        MigrationCause::Automatic,
        MigrationRecord {
            median_latency_ms: plan.evidence.median_latency_ms,
            median_slot_lag: plan.evidence.median_slot_lag,
            median_error_bps: plan.evidence.median_error_bps,
            voters: plan.evidence.down_voters,
            voter_count: plan.evidence.down,
            ..MigrationRecord::default()
        },
        now,
    )?;
    drop(topology);

    emit_event(
        &ctx.accounts.event_authority,
        &MigrationExecuted {
            header: header(network_key, new_epoch)?,
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
            triggered_by: ctx.accounts.caller.key(),
        },
    )?;
    Ok(())
}

/// Each engine refusal has a named program error.
pub fn refusal_error(r: Refusal) -> Error {
    match r {
        Refusal::InvalidGroup => crate::errors::err(LifelineError::InvalidGroup),
        Refusal::EndpointNotFound => crate::errors::err(LifelineError::EndpointNotFound),
        Refusal::Paused => crate::errors::err(LifelineError::NetworkPaused),
        Refusal::NoPrimary => crate::errors::err(LifelineError::NoPrimary),
        Refusal::NoBreachQuorum => crate::errors::err(LifelineError::NoBreachQuorum),
        Refusal::Cooldown { .. } => crate::errors::err(LifelineError::CooldownActive),
        Refusal::NoHealthyStandby => crate::errors::err(LifelineError::NoHealthyStandby),
        Refusal::NotQuarantined => crate::errors::err(LifelineError::NotQuarantined),
        Refusal::QuarantineActive { .. } => crate::errors::err(LifelineError::QuarantineActive),
        Refusal::ProbationIncomplete => crate::errors::err(LifelineError::ProbationIncomplete),
    }
}
