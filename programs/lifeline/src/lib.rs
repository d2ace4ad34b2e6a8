//! Lifeline: an authorized endpoint topology on chain, keeper health attestations, and
//! permissionless quorum-backed failover.
//!
//! The engine (`engine/`) decides, the program enforces, keepers observe, clients follow.
#![deny(arithmetic_overflow)]
// SBF stack frames are 4 KiB (threshold in clippy.toml); host-side crates do not need this.
#![warn(clippy::large_stack_frames)]
#![allow(ambiguous_glob_reexports)] // every instruction module exports its own `handler`
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod engine;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod state;

use instructions::*;
pub use state::PolicyParams;

declare_id!("5fFtQJk9m4BH217PNfKfcQEhMHBPS7GVgDtvBp1zH6eJ");

#[program]
pub mod lifeline {
    use super::*;

    // --- authority ---

    pub fn create_network(ctx: Context<CreateNetwork>, args: CreateNetworkArgs) -> Result<()> {
        create_network::handler(ctx, args)
    }

    pub fn update_policy(ctx: Context<UpdatePolicy>, args: PolicyParams) -> Result<()> {
        update_policy::handler(ctx, args)
    }

    pub fn add_endpoint(ctx: Context<AddEndpoint>, args: AddEndpointArgs) -> Result<()> {
        add_endpoint::handler(ctx, args)
    }

    pub fn update_endpoint(ctx: Context<UpdateEndpoint>, args: UpdateEndpointArgs) -> Result<()> {
        update_endpoint::handler(ctx, args)
    }

    pub fn remove_endpoint(ctx: Context<RemoveEndpoint>, endpoint_id: u32) -> Result<()> {
        remove_endpoint::handler(ctx, endpoint_id)
    }

    pub fn add_keeper(ctx: Context<AddKeeper>, args: AddKeeperArgs) -> Result<()> {
        add_keeper::handler(ctx, args)
    }

    pub fn remove_keeper(ctx: Context<RemoveKeeper>, keeper: Pubkey) -> Result<()> {
        remove_keeper::handler(ctx, keeper)
    }

    pub fn update_keeper(ctx: Context<UpdateKeeper>, args: UpdateKeeperArgs) -> Result<()> {
        update_keeper::handler(ctx, args)
    }

    pub fn close_network(ctx: Context<CloseNetwork>) -> Result<()> {
        close_network::handler(ctx)
    }

    pub fn propose_authority(ctx: Context<ProposeAuthority>, new_authority: Pubkey) -> Result<()> {
        propose_authority::handler(ctx, new_authority)
    }

    pub fn accept_authority(ctx: Context<AcceptAuthority>) -> Result<()> {
        accept_authority::handler(ctx)
    }

    pub fn set_guardian(ctx: Context<SetGuardian>, guardian: Pubkey) -> Result<()> {
        set_guardian::handler(ctx, guardian)
    }

    pub fn force_failover(ctx: Context<ForceFailover>, args: ForceFailoverArgs) -> Result<()> {
        force_failover::handler(ctx, args)
    }

    // --- authority or guardian ---

    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        set_paused::handler(ctx, paused)
    }

    // --- keeper ---

    pub fn submit_attestation(
        ctx: Context<SubmitAttestation>,
        args: SubmitAttestationArgs,
    ) -> Result<()> {
        submit_attestation::handler(ctx, args)
    }

    // --- anyone ---

    pub fn trigger_migration(
        ctx: Context<TriggerMigration>,
        args: TriggerMigrationArgs,
    ) -> Result<()> {
        trigger_migration::handler(ctx, args)
    }

    pub fn readmit_endpoint(
        ctx: Context<ReadmitEndpoint>,
        args: ReadmitEndpointArgs,
    ) -> Result<()> {
        readmit_endpoint::handler(ctx, args)
    }
}
