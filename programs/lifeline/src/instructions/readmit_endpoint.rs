use anchor_lang::prelude::*;

use crate::engine::{self, decide_readmission, Snapshot};
use crate::errors::LifelineError;
use crate::events::EndpointReadmitted;
use crate::instructions::shared::*;
use crate::instructions::trigger_migration::refusal_error;
use crate::state::{Ballot, Network, Role, Topology};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug)]
pub struct ReadmitEndpointArgs {
    pub endpoint_id: u32,
    /// The epoch of the endpoint's group the caller decided on.
    pub expected_group_epoch: u64,
}

/// Permissionless; decides on the whole on-chain ballot.
#[event_cpi]
#[derive(Accounts)]
pub struct ReadmitEndpoint<'info> {
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    #[account(has_one = network @ LifelineError::WrongBallot)]
    pub ballot: AccountLoader<'info, Ballot>,
    pub caller: Signer<'info>,
}

/// Returns a quarantined endpoint to the standby pool once its quarantine elapsed and a
/// quorum of keepers has seen it healthy for the whole probation period.
pub fn handler(ctx: Context<ReadmitEndpoint>, args: ReadmitEndpointArgs) -> Result<()> {
    let now = Clock::get()?.slot;
    let network_key = ctx.accounts.network.key();
    let network = ctx.accounts.network.load()?;
    let (plan, voter_keys) = {
        let topology = ctx.accounts.topology.load()?;
        let group = topology
            .endpoint(args.endpoint_id)
            .ok_or(LifelineError::EndpointNotFound)?
            .group;
        require_group_epoch(&topology, group, args.expected_group_epoch)?;
        let ballot = ctx.accounts.ballot.load()?;
        let snap = Snapshot {
            network: &network,
            topology: &topology,
            ballot: &ballot,
            now,
        };
        let electorate = engine::collect(&snap);
        let plan =
            decide_readmission(&snap, &electorate, args.endpoint_id).map_err(refusal_error)?;
        (plan, voters(&network, plan.evidence.probation_voters))
    };
    drop(network);

    let epoch = {
        let mut topology = ctx.accounts.topology.load_mut()?;
        let idx = topology
            .index_of(args.endpoint_id)
            .ok_or(LifelineError::EndpointNotFound)?;
        let e = &mut topology.endpoints[idx];
        e.role = Role::Standby as u8;
        e.since_slot = now;
        e.quarantine_until_slot = 0;
        let epoch = topology.touch_group(plan.group)?;
        topology.roles_invariant()?;
        epoch
    };
    emit_event(
        &ctx.accounts.event_authority,
        &EndpointReadmitted {
            header: header(network_key, epoch)?,
            endpoint_id: args.endpoint_id,
            group: plan.group,
            voters: voter_keys,
            triggered_by: ctx.accounts.caller.key(),
        },
    )
}
