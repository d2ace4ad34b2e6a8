use anchor_lang::prelude::*;

use crate::ensure;

use crate::errors::LifelineError;
use crate::events::EndpointUpdated;
use crate::instructions::shared::*;
use crate::state::{text, Ballot, Network, Role, Topology};

/// Every field is optional; only the given ones change.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct UpdateEndpointArgs {
    pub endpoint_id: u32,
    pub url: Option<String>,
    pub region: Option<String>,
    pub provider: Option<String>,
    pub priority: Option<u8>,
    /// Standby (also readmits a quarantined endpoint by hand) or Retired (maintenance).
    /// Promotion goes through force_failover, never here.
    pub role: Option<u8>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct UpdateEndpoint<'info> {
    #[account(has_one = authority @ LifelineError::Unauthorized)]
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    /// The endpoint's column of the ballot follows it.
    #[account(mut, has_one = network @ LifelineError::WrongBallot)]
    pub ballot: AccountLoader<'info, Ballot>,
    pub authority: Signer<'info>,
}

impl UpdateEndpoint<'_> {
    pub fn validate(&self, args: &UpdateEndpointArgs) -> Result<()> {
        if let Some(url) = &args.url {
            check_url(url)?;
        }
        if let Some(region) = &args.region {
            check_label(region)?;
        }
        if let Some(provider) = &args.provider {
            check_label(provider)?;
        }
        if let Some(role) = args.role {
            ensure!(
                matches!(Role::from_u8(role), Some(Role::Standby | Role::Retired)),
                LifelineError::InvalidRole
            );
        }
        ensure!(
            args.url.is_some()
                || args.region.is_some()
                || args.provider.is_some()
                || args.priority.is_some()
                || args.role.is_some(),
            LifelineError::NoChange
        );
        Ok(())
    }
}

#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<UpdateEndpoint>, args: UpdateEndpointArgs) -> Result<()> {
    let slot = Clock::get()?.slot;
    let mut topology = ctx.accounts.topology.load_mut()?;
    let idx = topology
        .index_of(args.endpoint_id)
        .ok_or(LifelineError::EndpointNotFound)?;
    let group = topology.endpoints[idx].group;
    if let Some(url) = &args.url {
        ensure!(
            !topology
                .endpoints()
                .iter()
                .any(|e| e.id != args.endpoint_id && e.group == group && e.url() == url),
            LifelineError::DuplicateEndpoint
        );
    }
    let e = &mut topology.endpoints[idx];
    if let Some(role) = args.role {
        ensure!(e.role() != Some(Role::Primary), LifelineError::PrimaryInUse);
        if e.role != role {
            e.role = role;
            e.since_slot = slot;
            e.quarantine_until_slot = 0;
        }
    }
    if let Some(url) = &args.url {
        e.url = text::to_fixed(url);
        e.url_len = url.len() as u8;
    }
    if let Some(region) = &args.region {
        e.region = text::to_fixed(region);
    }
    if let Some(provider) = &args.provider {
        e.provider = text::to_fixed(provider);
    }
    if let Some(priority) = args.priority {
        e.priority = priority;
    }
    let (endpoint_id, role, priority) = (e.id, e.role, e.priority);
    let (url, region, provider) = (
        e.url().to_string(),
        e.region().to_string(),
        e.provider().to_string(),
    );
    let epoch = topology.touch_group(group)?;
    // A new URL is another server: every keeper's votes about the old one go, and its
    // healthy streak (probation) starts again.
    let url_changed = args.url.is_some();
    if url_changed {
        topology.endpoints[idx].config_epoch = epoch;
    }
    topology.invariant()?;
    drop(topology);
    if url_changed {
        ctx.accounts.ballot.load_mut()?.clear_column(idx);
    }
    emit_event(
        &ctx.accounts.event_authority,
        &EndpointUpdated {
            header: header(ctx.accounts.network.key(), epoch)?,
            endpoint_id,
            role,
            priority,
            url,
            region,
            provider,
        },
    )?;
    Ok(())
}
