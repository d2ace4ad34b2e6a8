use anchor_lang::prelude::*;

use crate::engine::{self, decide_readmission, Snapshot};
use crate::errors::LifelineError;
use crate::events::EndpointReadmitted;
use crate::instructions::shared::*;
use crate::instructions::trigger_migration::refusal_error;
use crate::state::{Network, Role, Topology};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ReadmitEndpointArgs {
    pub endpoint_id: u32,
    pub expected_epoch: u64,
}

/// Permissionless. Remaining accounts: the keepers' reports.
#[event_cpi]
#[derive(Accounts)]
pub struct ReadmitEndpoint<'info> {
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    pub caller: Signer<'info>,
}

/// Returns a quarantined endpoint to the standby pool once its quarantine elapsed and a
/// quorum of keepers has seen it healthy for the whole probation period.
pub fn handler(ctx: Context<ReadmitEndpoint>, args: ReadmitEndpointArgs) -> Result<()> {
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
    let plan = decide_readmission(&snap, &ballot, args.endpoint_id).map_err(refusal_error)?;
    let voters = voters(&network, plan.evidence.probation_voters);
    drop(topology);
    drop(network);

    let mut topology = ctx.accounts.topology.load_mut()?;
    let idx = topology
        .index_of(args.endpoint_id)
        .ok_or(LifelineError::EndpointNotFound)?;
    let e = &mut topology.endpoints[idx];
    e.role = Role::Standby as u8;
    e.since_slot = now;
    e.quarantine_until_slot = 0;
    let group = e.group;
    let epoch = topology.bump_epoch()?;
    topology.invariant()?;
    drop(topology);

    emit_event(
        &ctx.accounts.event_authority,
        &EndpointReadmitted {
            header: header(network_key, epoch)?,
            endpoint_id: args.endpoint_id,
            group,
            voters,
            triggered_by: ctx.accounts.caller.key(),
        },
    )?;
    Ok(())
}
