use anchor_lang::prelude::*;

use crate::ensure;

use crate::constants::*;
use crate::errors::LifelineError;
use crate::events::EndpointAdded;
use crate::instructions::shared::*;
use crate::state::{text, Ballot, Endpoint, EndpointKind, Network, Role, Topology};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct AddEndpointArgs {
    pub group: u8,
    /// `EndpointKind` code.
    pub kind: u8,
    /// `Role` code: Primary (only if the group has none), Standby or Retired.
    pub role: u8,
    pub priority: u8,
    pub url: String,
    pub region: String,
    pub provider: String,
}

#[event_cpi]
#[derive(Accounts)]
pub struct AddEndpoint<'info> {
    #[account(has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    /// The endpoint's column of the ballot follows it.
    #[account(mut, has_one = network @ LifelineError::WrongBallot)]
    pub ballot: AccountLoader<'info, Ballot>,
    pub authority: Signer<'info>,
}

impl AddEndpoint<'_> {
    pub fn validate(&self, args: &AddEndpointArgs) -> Result<()> {
        check_group(args.group)?;
        check_url(&args.url)?;
        check_label(&args.region)?;
        check_label(&args.provider)?;
        ensure!(
            EndpointKind::from_u8(args.kind).is_some(),
            LifelineError::InvalidKind
        );
        ensure!(
            matches!(
                Role::from_u8(args.role),
                Some(Role::Primary | Role::Standby | Role::Retired)
            ),
            LifelineError::InvalidRole
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<AddEndpoint>, args: AddEndpointArgs) -> Result<()> {
    let slot = Clock::get()?.slot;
    let mut topology = ctx.accounts.topology.load_mut()?;
    ensure!(
        (topology.endpoint_count as usize) < MAX_ENDPOINTS,
        LifelineError::TooManyEndpoints
    );
    ensure!(
        !topology
            .endpoints()
            .iter()
            .any(|e| e.group == args.group && e.url() == args.url),
        LifelineError::DuplicateEndpoint
    );
    if args.role == Role::Primary as u8 {
        ensure!(
            topology.primary_of(args.group).is_none(),
            LifelineError::PrimaryExists
        );
    }
    let id = topology.next_endpoint_id;
    topology.next_endpoint_id = id.checked_add(1).ok_or(LifelineError::Overflow)?;
    let idx = topology.endpoint_count as usize;
    topology.endpoints[idx] = Endpoint {
        since_slot: slot,
        id,
        group: args.group,
        kind: args.kind,
        role: args.role,
        priority: args.priority,
        url_len: args.url.len() as u8,
        url: text::to_fixed(&args.url),
        region: text::to_fixed(&args.region),
        provider: text::to_fixed(&args.provider),
        ..Endpoint::default()
    };
    topology.endpoint_count += 1;
    let epoch = topology.touch_group(args.group)?;
    topology.endpoints[idx].config_epoch = epoch;
    topology.invariant()?;
    drop(topology);
    ctx.accounts.ballot.load_mut()?.clear_column(idx);

    emit_event(
        &ctx.accounts.event_authority,
        &EndpointAdded {
            header: header(ctx.accounts.network.key(), epoch)?,
            endpoint_id: id,
            group: args.group,
            kind: args.kind,
            role: args.role,
            priority: args.priority,
            url: args.url,
            region: args.region,
            provider: args.provider,
        },
    )?;
    Ok(())
}
