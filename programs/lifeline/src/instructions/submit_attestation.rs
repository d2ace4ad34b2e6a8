use anchor_lang::prelude::*;

use crate::ensure;

use crate::constants::*;
use crate::engine::verdict::{classify, Figures};
use crate::errors::LifelineError;
use crate::events::AttestationSubmitted;
use crate::instructions::shared::*;
use crate::state::{KeeperReport, Network, Observation, Topology, Verdict, OBS_UNREACHABLE};

/// One endpoint as measured by the keeper over its last probe window. 21 bytes, so an
/// attestation covering MAX_ENDPOINTS endpoints still fits one transaction.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ObservationInput {
    pub endpoint_id: u32,
    pub latency_ms: u32,
    /// The endpoint's own slot; lag is computed on chain against `reference_slot`.
    pub endpoint_slot: u64,
    pub error_bps: u16,
    pub consecutive_bad: u8,
    pub consecutive_good: u8,
    /// Bit 0: unreachable.
    pub flags: u8,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SubmitAttestationArgs {
    /// Strictly greater than the report's current seq.
    pub seq: u64,
    /// The topology epoch the keeper probed against.
    pub topology_epoch: u64,
    /// The highest cluster slot the keeper saw (its lag reference); not in the future and
    /// not older than the policy's staleness window.
    pub reference_slot: u64,
    pub observations: Vec<ObservationInput>,
}

#[event_cpi]
#[derive(Accounts)]
pub struct SubmitAttestation<'info> {
    pub network: AccountLoader<'info, Network>,
    #[account(has_one = network @ LifelineError::WrongTopology)]
    pub topology: AccountLoader<'info, Topology>,
    #[account(
        mut,
        has_one = network @ LifelineError::WrongReport,
        has_one = keeper @ LifelineError::WrongReport,
    )]
    pub report: AccountLoader<'info, KeeperReport>,
    pub keeper: Signer<'info>,
}

impl SubmitAttestation<'_> {
    pub fn validate(&self, args: &SubmitAttestationArgs) -> Result<()> {
        let network = self.network.load()?;
        ensure!(
            network.keeper_index(&self.keeper.key()).is_some(),
            LifelineError::KeeperNotInSet
        );
        let topology = self.topology.load()?;
        require_epoch(&topology, args.topology_epoch)?;
        let report = self.report.load()?;
        ensure!(args.seq > report.seq, LifelineError::StaleSequence);

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
        for (i, o) in args.observations.iter().enumerate() {
            ensure!(
                topology.endpoint(o.endpoint_id).is_some(),
                LifelineError::EndpointNotFound
            );
            ensure!(
                !args.observations[..i]
                    .iter()
                    .any(|p| p.endpoint_id == o.endpoint_id),
                LifelineError::DuplicateObservation
            );
            ensure!(
                o.error_bps <= BPS_MAX && o.flags & !OBS_UNREACHABLE == 0,
                LifelineError::InvalidObservation
            );
        }
        Ok(())
    }
}

/// Records a keeper's attestation. The verdict of each observation is computed here from
/// the figures (engine::verdict), and the slot since which the verdict has held is tracked
/// here, so probation cannot be claimed, only earned.
#[access_control(ctx.accounts.validate(&args))]
pub fn handler(ctx: Context<SubmitAttestation>, args: SubmitAttestationArgs) -> Result<()> {
    let now = Clock::get()?.slot;
    let network = ctx.accounts.network.load()?;
    let policy = network.policy;
    drop(network);
    let mut report = ctx.accounts.report.load_mut()?;
    let mut counts = [0u8; 4];
    // Built on the heap first: the previous observations are needed while computing the new ones.
    let mut next: Vec<Observation> = Vec::with_capacity(args.observations.len());
    for input in &args.observations {
        let slot_lag = args
            .reference_slot
            .saturating_sub(input.endpoint_slot)
            .min(u32::MAX as u64) as u32;
        let (verdict, reason) = classify(
            &policy,
            &Figures {
                latency_ms: input.latency_ms,
                slot_lag,
                error_bps: input.error_bps,
                unreachable: input.flags & OBS_UNREACHABLE != 0,
            },
        );
        let since = match report.observation(input.endpoint_id) {
            Some(prev) if prev.verdict() == verdict => prev.verdict_since_slot,
            _ => args.reference_slot,
        };
        next.push(Observation {
            verdict_since_slot: since,
            endpoint_slot: input.endpoint_slot,
            endpoint_id: input.endpoint_id,
            latency_ms: input.latency_ms,
            slot_lag,
            error_bps: input.error_bps,
            verdict: verdict as u8,
            flags: input.flags,
            consecutive_bad: input.consecutive_bad,
            consecutive_good: input.consecutive_good,
            reason: reason as u8,
            padding: [0; 5],
        });
        counts[verdict as usize] += 1;
    }
    report.observations.fill(Observation::default());
    report.observations[..next.len()].copy_from_slice(&next);
    report.observation_count = args.observations.len() as u8;
    report.seq = args.seq;
    report.submitted_slot = now;
    report.reference_slot = args.reference_slot;
    report.topology_epoch = args.topology_epoch;
    drop(report);

    emit_event(
        &ctx.accounts.event_authority,
        &AttestationSubmitted {
            header: header(ctx.accounts.network.key(), args.topology_epoch)?,
            keeper: ctx.accounts.keeper.key(),
            seq: args.seq,
            reference_slot: args.reference_slot,
            healthy: counts[Verdict::Healthy as usize],
            degraded: counts[Verdict::Degraded as usize],
            down: counts[Verdict::Down as usize],
        },
    )?;
    Ok(())
}
