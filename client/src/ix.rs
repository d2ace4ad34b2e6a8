//! One builder per instruction. Each returns a ready `Instruction`; callers add signers.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::{AccountMeta, Instruction};
use anchor_lang::{system_program, InstructionData, ToAccountMetas};
use lifeline::instructions::*;
use lifeline::state::PolicyParams;
use lifeline::{accounts as acc, instruction as data};

use crate::pda;

fn build(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: lifeline::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

fn with_reports(mut ix: Instruction, reports: &[Pubkey]) -> Instruction {
    ix.accounts
        .extend(reports.iter().map(|r| AccountMeta::new_readonly(*r, false)));
    ix
}

pub fn create_network(creator: &Pubkey, args: CreateNetworkArgs) -> Instruction {
    let network = pda::network(creator, &args.name).0;
    build(
        acc::CreateNetwork {
            creator: *creator,
            network,
            topology: pda::topology(&network).0,
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::CreateNetwork { args },
    )
}

pub fn update_policy(network: &Pubkey, authority: &Pubkey, args: PolicyParams) -> Instruction {
    build(
        acc::UpdatePolicy {
            network: *network,
            topology: pda::topology(network).0,
            authority: *authority,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::UpdatePolicy { args },
    )
}

pub fn add_endpoint(network: &Pubkey, authority: &Pubkey, args: AddEndpointArgs) -> Instruction {
    build(
        acc::AddEndpoint {
            network: *network,
            topology: pda::topology(network).0,
            authority: *authority,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::AddEndpoint { args },
    )
}

pub fn update_endpoint(
    network: &Pubkey,
    authority: &Pubkey,
    args: UpdateEndpointArgs,
) -> Instruction {
    build(
        acc::UpdateEndpoint {
            network: *network,
            topology: pda::topology(network).0,
            authority: *authority,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::UpdateEndpoint { args },
    )
}

pub fn remove_endpoint(network: &Pubkey, authority: &Pubkey, endpoint_id: u32) -> Instruction {
    build(
        acc::RemoveEndpoint {
            network: *network,
            topology: pda::topology(network).0,
            authority: *authority,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::RemoveEndpoint { endpoint_id },
    )
}

pub fn add_keeper(network: &Pubkey, authority: &Pubkey, args: AddKeeperArgs) -> Instruction {
    let report = pda::report(network, &args.keeper).0;
    build(
        acc::AddKeeper {
            network: *network,
            authority: *authority,
            report,
            system_program: system_program::ID,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::AddKeeper { args },
    )
}

pub fn remove_keeper(network: &Pubkey, authority: &Pubkey, keeper: &Pubkey) -> Instruction {
    build(
        acc::RemoveKeeper {
            network: *network,
            authority: *authority,
            report: pda::report(network, keeper).0,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::RemoveKeeper { keeper: *keeper },
    )
}

pub fn propose_authority(
    network: &Pubkey,
    authority: &Pubkey,
    new_authority: &Pubkey,
) -> Instruction {
    build(
        acc::ProposeAuthority {
            network: *network,
            authority: *authority,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::ProposeAuthority {
            new_authority: *new_authority,
        },
    )
}

pub fn accept_authority(network: &Pubkey, new_authority: &Pubkey) -> Instruction {
    build(
        acc::AcceptAuthority {
            network: *network,
            new_authority: *new_authority,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::AcceptAuthority {},
    )
}

pub fn set_guardian(network: &Pubkey, authority: &Pubkey, guardian: &Pubkey) -> Instruction {
    build(
        acc::SetGuardian {
            network: *network,
            authority: *authority,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::SetGuardian {
            guardian: *guardian,
        },
    )
}

pub fn set_paused(network: &Pubkey, signer: &Pubkey, paused: bool) -> Instruction {
    build(
        acc::SetPaused {
            network: *network,
            signer: *signer,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::SetPaused { paused },
    )
}

pub fn force_failover(
    network: &Pubkey,
    authority: &Pubkey,
    args: ForceFailoverArgs,
) -> Instruction {
    build(
        acc::ForceFailover {
            network: *network,
            topology: pda::topology(network).0,
            authority: *authority,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::ForceFailover { args },
    )
}

pub fn submit_attestation(
    network: &Pubkey,
    keeper: &Pubkey,
    args: SubmitAttestationArgs,
) -> Instruction {
    build(
        acc::SubmitAttestation {
            network: *network,
            topology: pda::topology(network).0,
            report: pda::report(network, keeper).0,
            keeper: *keeper,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::SubmitAttestation { args },
    )
}

/// `reports`: the keepers' report addresses (see `pda::report`).
pub fn trigger_migration(
    network: &Pubkey,
    caller: &Pubkey,
    args: TriggerMigrationArgs,
    reports: &[Pubkey],
) -> Instruction {
    with_reports(
        build(
            acc::TriggerMigration {
                network: *network,
                topology: pda::topology(network).0,
                caller: *caller,
                event_authority: pda::event_authority(),
                program: lifeline::ID,
            },
            data::TriggerMigration { args },
        ),
        reports,
    )
}

pub fn readmit_endpoint(
    network: &Pubkey,
    caller: &Pubkey,
    args: ReadmitEndpointArgs,
    reports: &[Pubkey],
) -> Instruction {
    with_reports(
        build(
            acc::ReadmitEndpoint {
                network: *network,
                topology: pda::topology(network).0,
                caller: *caller,
                event_authority: pda::event_authority(),
                program: lifeline::ID,
            },
            data::ReadmitEndpoint { args },
        ),
        reports,
    )
}
