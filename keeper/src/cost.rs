//! What running a keeper costs, from the transactions the keeper really sends: the
//! quiet attestation for a full topology (its size, its signature, its compute budget), how
//! often a keeper attests when nothing changes (the heartbeat rule in attest.rs), the
//! base fee and the priority fee at the keeper's cap, and the rent of the accounts a
//! network holds. `lifeline cost` prints it; docs/operator-guide.md holds its output.
use anchor_lang::prelude::Pubkey;
use lifeline::constants::MAX_ENDPOINTS;
use lifeline::instructions::SubmitAttestationArgs;
use lifeline::state::{Ballot, Network, ObservationInput, Policy, Topology};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::attest::heartbeat_slots;
use crate::send::with_budget;
use lifeline_client::budget::QUIET_ATTESTATION as QUIET_ATTESTATION_COMPUTE_UNITS;

/// Solana's base fee per signature, lamports.
pub const LAMPORTS_PER_SIGNATURE: u64 = 5_000;
/// Mainnet's slot target, for turning slots into time.
pub const SLOT_MS: u64 = 400;
/// A 30-day month, in slots.
pub const SLOTS_PER_MONTH: u64 = 30 * 24 * 3_600 * 1_000 / SLOT_MS;
pub const LAMPORTS_PER_SOL: u64 = 1_000_000_000;

/// One keeper's steady-state cost under a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeeperCost {
    /// The attestation for a full topology: bytes on the wire and signatures.
    pub attestation_bytes: usize,
    pub signatures: u64,
    /// The compute units the keeper asks for (the priority fee is charged on these).
    pub compute_unit_limit: u32,
    /// Attestations per month when nothing changes (one per heartbeat).
    pub attestations_per_month: u64,
    /// Lamports per month: base fees, and the priority fee if every attestation paid the
    /// keeper's cap.
    pub base_per_month: u64,
    pub priority_at_cap_per_month: u64,
}

/// The attestation a keeper sends for `endpoints` endpoints, as the keeper builds it.
fn attestation(endpoints: usize, fee_cap: u64) -> solana_transaction::Transaction {
    let keeper = Keypair::new();
    let args = SubmitAttestationArgs {
        seq: u64::MAX,
        topology_epoch: u64::MAX,
        reference_slot: u64::MAX,
        observations: (0..endpoints as u32)
            .map(|id| ObservationInput {
                endpoint_id: id,
                ..ObservationInput::default()
            })
            .collect(),
    };
    let ix = lifeline_client::ix::submit_attestation(&Pubkey::new_unique(), &keeper.pubkey(), args);
    solana_transaction::Transaction::new_signed_with_payer(
        &with_budget(ix, QUIET_ATTESTATION_COMPUTE_UNITS, fee_cap),
        Some(&keeper.pubkey()),
        &[&keeper],
        solana_hash::Hash::default(),
    )
}

/// One keeper's cost at steady state under `policy`, attesting `endpoints` endpoints,
/// with a priority fee cap of `fee_cap` micro-lamports per compute unit.
pub fn keeper_cost(policy: &Policy, endpoints: usize, fee_cap: u64) -> KeeperCost {
    let tx = attestation(endpoints.min(MAX_ENDPOINTS), fee_cap);
    let attestation_bytes = bincode::serialized_size(&tx).unwrap_or(0) as usize;
    let signatures = tx.signatures.len() as u64;
    let per_month = SLOTS_PER_MONTH / heartbeat_slots(policy);
    let priority = (QUIET_ATTESTATION_COMPUTE_UNITS as u64 * fee_cap).div_ceil(1_000_000);
    KeeperCost {
        attestation_bytes,
        signatures,
        compute_unit_limit: QUIET_ATTESTATION_COMPUTE_UNITS,
        attestations_per_month: per_month,
        base_per_month: per_month * signatures * LAMPORTS_PER_SIGNATURE,
        priority_at_cap_per_month: per_month * priority,
    }
}

/// The accounts a network holds, with their size and rent-exempt deposit (refunded by
/// `close_network`).
pub fn rent() -> Vec<(&'static str, usize, u64)> {
    let rent = solana_rent::Rent::default();
    [
        ("Network", Network::SPACE),
        ("Topology", Topology::SPACE),
        ("Ballot", Ballot::SPACE),
    ]
    .into_iter()
    .map(|(name, size)| (name, size, rent.minimum_balance(size)))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifeline::state::PolicyParams;

    #[test]
    fn a_full_attestation_fits_a_transaction_and_the_heartbeat_sets_the_bill() {
        let policy: Policy = PolicyParams::default().into();
        let c = keeper_cost(&policy, MAX_ENDPOINTS, 100_000);
        assert!(c.attestation_bytes <= 1_232, "{c:?}");
        assert_eq!(c.signatures, 1);
        // a heartbeat every 250 slots (100 s): 25,920 a month
        assert_eq!(c.attestations_per_month, 25_920);
        assert_eq!(c.base_per_month, 25_920 * 5_000);
        // the quiet budget (30,000 units) at the cap of 100,000 micro-lamports a unit
        assert_eq!(c.priority_at_cap_per_month, 25_920 * 3_000);
        // a policy with twice the liveness window halves it
        let slower: Policy = PolicyParams {
            liveness_slots: 1_500,
            ..PolicyParams::default()
        }
        .into();
        assert_eq!(keeper_cost(&slower, 32, 0).attestations_per_month, 12_960);
        assert_eq!(keeper_cost(&slower, 32, 0).priority_at_cap_per_month, 0);
    }
}
