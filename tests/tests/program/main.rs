//! Every instruction of the program, run natively in solana-program-test's real bank:
//! happy paths, events, and the attacks that apply to each. One module per concern; one
//! test binary (linking agave once).
use anchor_lang::prelude::Pubkey;
use lifeline::instructions::CreateNetworkArgs;
use lifeline::state::PolicyParams;

mod attestation;
mod endpoints;
mod failover;
mod keepers;
mod network;
mod readmission;
mod signers;
mod steering;

fn create_args(name: &str) -> CreateNetworkArgs {
    CreateNetworkArgs {
        name: name.into(),
        policy: PolicyParams::default(),
        guardian: None,
    }
}

/// An address derived from `seeds` with a valid but non-canonical bump.
fn non_canonical(seeds: &[&[u8]]) -> Pubkey {
    let (_, canonical) = Pubkey::find_program_address(seeds, &lifeline::ID);
    (0..canonical)
        .rev()
        .find_map(|bump| {
            let mut s = seeds.to_vec();
            let b = [bump];
            s.push(&b);
            Pubkey::create_program_address(&s, &lifeline::ID).ok()
        })
        .expect("some lower bump is off the curve")
}

/// A policy with short windows, for tests that move through cooldown, quarantine and
/// probation by warping.
fn fast_policy() -> PolicyParams {
    PolicyParams {
        staleness_slots: 50,
        liveness_slots: 400,
        cooldown_slots: 100,
        quarantine_base_slots: 200,
        quarantine_max_slots: 1_000,
        probation_slots: 100,
        ..PolicyParams::default()
    }
}
