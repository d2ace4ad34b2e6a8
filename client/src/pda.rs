//! Program-derived addresses. Seeds come from the program crate's constants.
use anchor_lang::prelude::Pubkey;
use lifeline::constants::{BALLOT_SEED, NETWORK_SEED, TOPOLOGY_SEED};

pub fn network(creator: &Pubkey, name: &str) -> (Pubkey, u8) {
    Pubkey::find_program_address(
        &[NETWORK_SEED, creator.as_ref(), name.as_bytes()],
        &lifeline::ID,
    )
}

pub fn topology(network: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[TOPOLOGY_SEED, network.as_ref()], &lifeline::ID)
}

/// Every keeper's latest attestation (one row per keeper slot).
pub fn ballot(network: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[BALLOT_SEED, network.as_ref()], &lifeline::ID)
}

/// The PDA that signs the program's self-CPI events.
pub fn event_authority() -> Pubkey {
    Pubkey::find_program_address(&[b"__event_authority"], &lifeline::ID).0
}
