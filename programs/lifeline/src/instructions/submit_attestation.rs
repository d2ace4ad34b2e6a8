use anchor_lang::prelude::*;

use crate::ensure;

use crate::constants::*;
use crate::engine::{self, decide_migration, record, Attestation, MigrationPlan, Snapshot};
use crate::errors::LifelineError;
use crate::events::AttestationSubmitted;
use crate::instructions::shared::*;
use crate::instructions::trigger_migration::emit_migration;
use crate::state::{Ballot, KeeperReport, Network, ObservationInput, Role, Topology, OBS_FLAGS};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SubmitAttestationArgs {
    /// Strictly greater than the keeper's current seq.
    pub seq: u64,
    /// The topology epoch the keeper read before probing: not in the future, not older
    /// than the policy.
    pub topology_epoch: u64,
    /// The highest cluster slot the keeper saw (its lag reference); not in the future and
    /// not older than the policy's staleness window.
    pub reference_slot: u64,
    pub observations: Vec<ObservationInput>,
}

/// The topology and ballot are writable: the attestation that completes a breach quorum
/// executes the migration in the same transaction.
#[event_cpi]
#[derive(Accounts)]
pub struct SubmitAttestation<'info> {
    pub network: AccountLoader<'info, Network>,
    #[account(mut, has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    #[account(mut, has_one = network @ LifelineError::WrongBallot)]
    pub ballot: AccountLoader<'info, Ballot>,
    pub keeper: Signer<'info>,
}

impl SubmitAttestation<'_> {
    pub fn validate(&self, args: &SubmitAttestationArgs) -> Result<()> {
        let network = self.network.load()?;
        let idx = network
            .keeper_index(&self.keeper.key())
            .ok_or(LifelineError::KeeperNotInSet)?;
        let topology = self.topology.load()?;
        ensure!(
            args.topology_epoch <= topology.epoch,
            LifelineError::EpochMismatch
        );
        ensure!(
            args.topology_epoch >= topology.policy_epoch,
            LifelineError::PolicyChanged
        );
        let ballot = self.ballot.load()?;
        ensure!(
            args.seq > ballot.reports[idx].seq,
            LifelineError::StaleSequence
        );

        let now = Clock::get()?.slot;
        ensure!(args.reference_slot <= now, LifelineError::FutureSlot);
        ensure!(
            now - args.reference_slot <= network.policy.staleness_slots,
            LifelineError::StaleAttestation
        );
        ensure!(
            args.observations.len() <= MAX_ENDPOINTS,
            LifelineError::TooManyObservations
        );
        // Each observation names an endpoint of the topology, at most once (one bit per
        // topology position: MAX_ENDPOINTS fits a u32).
        const _: () = assert!(MAX_ENDPOINTS <= 32);
        let mut seen = 0u32;
        for (i, o) in args.observations.iter().enumerate() {
            let j = topology
                .index_of_near(o.endpoint_id, i)
                .ok_or(LifelineError::EndpointNotFound)?;
            ensure!(seen & (1 << j) == 0, LifelineError::DuplicateObservation);
            seen |= 1 << j;
            ensure!(
                o.error_bps <= BPS_MAX && o.flags & !OBS_FLAGS == 0,
                LifelineError::InvalidObservation
            );
        }
        Ok(())
    }
}

/// Records a keeper's attestation as its row of the ballot (verdicts computed here from
/// the figures, see `engine::ballot::record`), then executes every migration this
/// attestation completes: for each group whose primary this keeper now votes down (or
/// that has no primary), the engine decides on the complete ballot exactly as
/// `trigger_migration` would.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<SubmitAttestation>, args: SubmitAttestationArgs) -> Result<()> {
    let now = Clock::get()?.slot;
    let keeper = ctx.accounts.keeper.key();
    let network_key = ctx.accounts.network.key();
    let network = ctx.accounts.network.load()?;
    let idx = network
        .keeper_index(&keeper)
        .ok_or(LifelineError::KeeperNotInSet)?;
    let att = Attestation {
        seq: args.seq,
        topology_epoch: args.topology_epoch,
        reference_slot: args.reference_slot,
        observations: &args.observations,
    };
    let counts = {
        let topology = ctx.accounts.topology.load()?;
        let mut ballot = ctx.accounts.ballot.load_mut()?;
        record(
            &network.policy,
            &topology,
            &mut ballot.reports[idx],
            keeper,
            &att,
            now,
        )
    };
    let plans = completed_migrations(&ctx, &network, idx, now)?;
    let voter_keys: Vec<Vec<Pubkey>> = plans.iter().map(|p| voters(&network, p.voters)).collect();
    drop(network);

    emit_event(
        &ctx.accounts.event_authority,
        &AttestationSubmitted {
            header: header(network_key, args.topology_epoch)?,
            keeper,
            seq: args.seq,
            reference_slot: args.reference_slot,
            healthy: counts.healthy,
            degraded: counts.degraded,
            down: counts.down,
        },
    )?;
    for (plan, voters) in plans.iter().zip(voter_keys) {
        let (old_epoch, new_epoch) = {
            let mut topology = ctx.accounts.topology.load_mut()?;
            topology.apply_failover(
                plan.record(),
                plan.from_id.map(|_| plan.quarantine_until_slot),
                now,
            )?
        };
        emit_migration(
            &ctx.accounts.event_authority,
            network_key,
            plan,
            old_epoch,
            new_epoch,
            voters,
            keeper,
        )?;
    }
    Ok(())
}

/// The migrations the ballot now supports in the groups this attestation voted on.
fn completed_migrations(
    ctx: &Context<SubmitAttestation>,
    network: &Network,
    idx: usize,
    now: u64,
) -> Result<Vec<MigrationPlan>> {
    let topology = ctx.accounts.topology.load()?;
    let ballot = ctx.accounts.ballot.load()?;
    let row = &ballot.reports[idx];
    let snap = Snapshot {
        network,
        topology: &topology,
        ballot: &ballot,
        now,
    };
    let electorate = engine::collect(&snap);
    let mut plans = Vec::new();
    for group in 0..MAX_GROUPS as u8 {
        if !votes_on(&topology, row, group) {
            continue;
        }
        if let Ok(plan) = decide_migration(&snap, &electorate, group) {
            plans.push(plan);
        }
    }
    Ok(plans)
}

/// Whether `row` casts a vote that could complete a migration of `group`: a down vote on
/// its primary, or, for a group without primary, a healthy vote on one of its standbys.
fn votes_on(topology: &Topology, row: &KeeperReport, group: u8) -> bool {
    let in_group = || {
        topology
            .endpoints()
            .iter()
            .enumerate()
            .filter(move |(_, e)| e.group == group)
    };
    match in_group().find(|(_, e)| e.role() == Some(Role::Primary)) {
        Some((j, _)) => row.votes[j].votes_down(),
        None => {
            in_group().any(|(j, e)| e.role() == Some(Role::Standby) && row.votes[j].votes_healthy())
        }
    }
}
