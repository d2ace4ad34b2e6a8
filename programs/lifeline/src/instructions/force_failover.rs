use anchor_lang::prelude::*;

use crate::ensure;

use crate::engine::policy::quarantine_slots;
use crate::errors::LifelineError;
use crate::events::MigrationExecuted;
use crate::instructions::shared::*;
use crate::state::{MigrationCause, MigrationRecord, Network, Reason, Role, Topology};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ForceFailoverArgs {
    pub group: u8,
    /// Must be a standby of the group (readmit or update a quarantined one first).
    pub to_id: u32,
    /// The group's epoch the authority decided on.
    pub expected_group_epoch: u64,
    /// Quarantine the old primary (as an automatic migration would) instead of demoting
    /// it to standby.
    pub quarantine_old: bool,
}

#[event_cpi]
#[derive(Accounts)]
pub struct ForceFailover<'info> {
    #[account(has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    pub authority: Signer<'info>,
}

/// The authority's manual override. Works while paused (pausing stops automation, not the
/// humans), ignores quorum and cooldown, and is recorded as manual in history and event.
pub fn handler(ctx: Context<ForceFailover>, args: ForceFailoverArgs) -> Result<()> {
    check_group(args.group)?;
    let now = Clock::get()?.slot;
    let network = ctx.accounts.network.load()?;
    let policy = network.policy;
    drop(network);
    let mut topology = ctx.accounts.topology.load_mut()?;
    require_group_epoch(&topology, args.group, args.expected_group_epoch)?;
    let target = topology
        .endpoint(args.to_id)
        .ok_or(LifelineError::EndpointNotFound)?;
    ensure!(
        target.group == args.group && target.role() == Some(Role::Standby),
        LifelineError::InvalidFailoverTarget
    );
    let from = topology.primary_of(args.group).copied();
    let quarantine_until = match (&from, args.quarantine_old) {
        (Some(p), true) => Some(now.saturating_add(quarantine_slots(
            &policy,
            p.ejection_count.saturating_add(1),
        ))),
        _ => None,
    };
    let from_id = from.map(|p| p.id);
    let (old_epoch, new_epoch) = topology.apply_failover(
        MigrationRecord {
            group: args.group,
            from_id: from_id.unwrap_or(u32::MAX),
            to_id: args.to_id,
            rule: Reason::Manual as u8,
            cause: MigrationCause::Manual as u8,
            ..MigrationRecord::default()
        },
        quarantine_until,
        now,
    )?;
    drop(topology);

    emit_event(
        &ctx.accounts.event_authority,
        &MigrationExecuted {
            header: header(ctx.accounts.network.key(), new_epoch)?,
            old_epoch,
            group: args.group,
            from_id,
            to_id: args.to_id,
            rule: Reason::Manual as u8,
            cause: MigrationCause::Manual as u8,
            voters: Vec::new(),
            median_latency_ms: 0,
            median_slot_lag: 0,
            median_error_bps: 0,
            quarantine_until_slot: quarantine_until.unwrap_or(0),
            triggered_by: ctx.accounts.authority.key(),
        },
    )?;
    Ok(())
}
