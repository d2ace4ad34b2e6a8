//! One builder per instruction. Each returns a ready `Instruction`; callers add signers.
use anchor_lang::prelude::Pubkey;
use anchor_lang::solana_program::instruction::Instruction;
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

/// The addresses every builder derives from the network.
struct Addrs {
    topology: Pubkey,
    ballot: Pubkey,
    event_authority: Pubkey,
}

fn addrs(network: &Pubkey) -> Addrs {
    Addrs {
        topology: pda::topology(network).0,
        ballot: pda::ballot(network).0,
        event_authority: pda::event_authority(),
    }
}

pub fn create_network(creator: &Pubkey, args: CreateNetworkArgs) -> Instruction {
    let network = pda::network(creator, &args.name).0;
    let a = addrs(&network);
    build(
        acc::CreateNetwork {
            creator: *creator,
            network,
            topology: a.topology,
            ballot: a.ballot,
            system_program: system_program::ID,
            event_authority: a.event_authority,
            program: lifeline::ID,
        },
        data::CreateNetwork { args },
    )
}

pub fn close_network(network: &Pubkey, authority: &Pubkey) -> Instruction {
    let a = addrs(network);
    build(
        acc::CloseNetwork {
            network: *network,
            topology: a.topology,
            ballot: a.ballot,
            authority: *authority,
            event_authority: a.event_authority,
            program: lifeline::ID,
        },
        data::CloseNetwork {},
    )
}

pub fn update_policy(network: &Pubkey, authority: &Pubkey, args: PolicyParams) -> Instruction {
    let a = addrs(network);
    build(
        acc::UpdatePolicy {
            network: *network,
            topology: a.topology,
            authority: *authority,
            event_authority: a.event_authority,
            program: lifeline::ID,
        },
        data::UpdatePolicy { args },
    )
}

pub fn add_endpoint(network: &Pubkey, authority: &Pubkey, args: AddEndpointArgs) -> Instruction {
    let a = addrs(network);
    build(
        acc::AddEndpoint {
            network: *network,
            topology: a.topology,
            ballot: a.ballot,
            authority: *authority,
            event_authority: a.event_authority,
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
    let a = addrs(network);
    build(
        acc::UpdateEndpoint {
            network: *network,
            topology: a.topology,
            ballot: a.ballot,
            authority: *authority,
            event_authority: a.event_authority,
            program: lifeline::ID,
        },
        data::UpdateEndpoint { args },
    )
}

pub fn remove_endpoint(network: &Pubkey, authority: &Pubkey, endpoint_id: u32) -> Instruction {
    let a = addrs(network);
    build(
        acc::RemoveEndpoint {
            network: *network,
            topology: a.topology,
            ballot: a.ballot,
            authority: *authority,
            event_authority: a.event_authority,
            program: lifeline::ID,
        },
        data::RemoveEndpoint { endpoint_id },
    )
}

pub fn add_keeper(network: &Pubkey, authority: &Pubkey, args: AddKeeperArgs) -> Instruction {
    let a = addrs(network);
    build(
        acc::AddKeeper {
            network: *network,
            ballot: a.ballot,
            authority: *authority,
            event_authority: a.event_authority,
            program: lifeline::ID,
        },
        data::AddKeeper { args },
    )
}

pub fn update_keeper(network: &Pubkey, authority: &Pubkey, args: UpdateKeeperArgs) -> Instruction {
    build(
        acc::UpdateKeeper {
            network: *network,
            authority: *authority,
            event_authority: pda::event_authority(),
            program: lifeline::ID,
        },
        data::UpdateKeeper { args },
    )
}

pub fn remove_keeper(network: &Pubkey, authority: &Pubkey, keeper: &Pubkey) -> Instruction {
    let a = addrs(network);
    build(
        acc::RemoveKeeper {
            network: *network,
            ballot: a.ballot,
            authority: *authority,
            event_authority: a.event_authority,
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
    let a = addrs(network);
    build(
        acc::ForceFailover {
            network: *network,
            topology: a.topology,
            authority: *authority,
            event_authority: a.event_authority,
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
    let a = addrs(network);
    build(
        acc::SubmitAttestation {
            network: *network,
            topology: a.topology,
            ballot: a.ballot,
            keeper: *keeper,
            event_authority: a.event_authority,
            program: lifeline::ID,
        },
        data::SubmitAttestation { args },
    )
}

/// Permissionless: the program decides on the whole on-chain ballot.
pub fn trigger_migration(
    network: &Pubkey,
    caller: &Pubkey,
    args: TriggerMigrationArgs,
) -> Instruction {
    let a = addrs(network);
    build(
        acc::TriggerMigration {
            network: *network,
            topology: a.topology,
            ballot: a.ballot,
            caller: *caller,
            event_authority: a.event_authority,
            program: lifeline::ID,
        },
        data::TriggerMigration { args },
    )
}

pub fn readmit_endpoint(
    network: &Pubkey,
    caller: &Pubkey,
    args: ReadmitEndpointArgs,
) -> Instruction {
    let a = addrs(network);
    build(
        acc::ReadmitEndpoint {
            network: *network,
            topology: a.topology,
            ballot: a.ballot,
            caller: *caller,
            event_authority: a.event_authority,
            program: lifeline::ID,
        },
        data::ReadmitEndpoint { args },
    )
}
