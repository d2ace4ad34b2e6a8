//! Sending the keeper's transactions: a compute budget, a capped priority fee, and a
//! typed result that tells a lost race from a real failure.
use anchor_lang::prelude::Pubkey;
use lifeline_client::errors::SendError;
use solana_commitment_config::CommitmentConfig;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::stats::KeeperStats;

/// The priority fee to pay: the 75th percentile of recent fees on `accounts`, capped.
pub async fn priority_fee(rpc: &RpcClient, accounts: &[Pubkey], cap: u64) -> u64 {
    let Ok(fees) = rpc.get_recent_prioritization_fees(accounts).await else {
        return 0;
    };
    let mut fees: Vec<u64> = fees.iter().map(|f| f.prioritization_fee).collect();
    fees.sort_unstable();
    let p75 = fees
        .get(fees.len().saturating_sub(1) * 3 / 4)
        .copied()
        .unwrap_or(0);
    p75.min(cap)
}

/// `ix` behind its compute budget: the unit limit, and the price when there is one.
pub fn with_budget(
    ix: solana_instruction::Instruction,
    compute_units: u32,
    micro_lamports_per_cu: u64,
) -> Vec<solana_instruction::Instruction> {
    use solana_compute_budget_interface::ComputeBudgetInstruction;
    let mut ixs = vec![ComputeBudgetInstruction::set_compute_unit_limit(
        compute_units,
    )];
    if micro_lamports_per_cu > 0 {
        ixs.push(ComputeBudgetInstruction::set_compute_unit_price(
            micro_lamports_per_cu,
        ));
    }
    ixs.push(ix);
    ixs
}

/// Sends `ix` with a compute budget and a capped priority fee, and waits until it is
/// processed. Only the first send is simulated (preflight, at `processed`): a decision
/// another keeper already landed is refused there and costs no fee. Preflight cannot see
/// a transaction still on its way to the leader, so two keepers sending in the same slot
/// can both pass it and the loser fails on chain — and pays its fee. The migrator's turns
/// make that rare (`jitter.rs`); when it happens the fee is counted in `stats`
/// (`failed_transactions`, `failed_transaction_fees_lamports`). Re-sends of the same
/// signed transaction skip preflight (it cannot execute twice), so a transaction that
/// already landed is never reported as failed because its re-send no longer simulates.
/// Gives up when the blockhash expires; the caller retries with fresh figures.
pub async fn send(
    rpc: &RpcClient,
    payer: &Keypair,
    ix: Instruction,
    compute_units: u32,
    fee_cap: u64,
    stats: &KeeperStats,
) -> Result<solana_signature::Signature, SendError> {
    use solana_rpc_client_api::config::RpcSendTransactionConfig;
    let writable: Vec<Pubkey> = ix
        .accounts
        .iter()
        .filter(|m| m.is_writable)
        .map(|m| m.pubkey)
        .collect();
    let fee = priority_fee(rpc, &writable, fee_cap).await;
    let ixs = with_budget(ix, compute_units, fee);
    let processed = CommitmentConfig::processed();
    let (blockhash, last_valid) = rpc
        .get_latest_blockhash_with_commitment(processed)
        .await
        .map_err(|e| SendError::classify(&e))?;
    let tx = solana_transaction::Transaction::new_signed_with_payer(
        &ixs,
        Some(&payer.pubkey()),
        &[payer],
        blockhash,
    );
    let first = RpcSendTransactionConfig {
        skip_preflight: false,
        preflight_commitment: Some(processed.commitment),
        ..RpcSendTransactionConfig::default()
    };
    let again = RpcSendTransactionConfig {
        skip_preflight: true,
        ..first
    };
    let sig = rpc
        .send_transaction_with_config(&tx, first)
        .await
        .map_err(|e| SendError::classify(&e))?;
    let started = Instant::now();
    let mut last_send = started;
    loop {
        tokio::time::sleep(Duration::from_millis(40)).await;
        if let Ok(statuses) = rpc.get_signature_statuses(&[sig]).await {
            if let Some(Some(status)) = statuses.value.first() {
                return match &status.err {
                    None => {
                        stats.paid(fee_of(&tx, compute_units, fee));
                        Ok(sig)
                    }
                    Some(e) => {
                        let paid = fee_paid(rpc, &tx, compute_units, fee).await;
                        tracing::debug!(%sig, paid, "landed and failed: {e}");
                        stats.paid(paid);
                        stats.failed_transactions.fetch_add(1, Ordering::Relaxed);
                        stats
                            .failed_transaction_fees_lamports
                            .fetch_add(paid, Ordering::Relaxed);
                        Err(SendError::from_transaction_error(e))
                    }
                };
            }
        }
        if last_send.elapsed() >= RESEND_EVERY {
            last_send = Instant::now();
            let height = rpc.get_block_height_with_commitment(processed).await;
            if height.is_ok_and(|h| h > last_valid) {
                return Err(SendError::Other(format!(
                    "transaction {sig} expired before it landed"
                )));
            }
            let _ = rpc.send_transaction_with_config(&tx, again).await;
        }
        if started.elapsed() > GIVE_UP_AFTER {
            return Err(SendError::Other(format!(
                "transaction {sig} not seen after {GIVE_UP_AFTER:?}"
            )));
        }
    }
}

/// The fee a transaction pays: the base fee per signature plus the priority fee it asked
/// for.
fn fee_of(
    tx: &solana_transaction::Transaction,
    compute_units: u32,
    micro_lamports_per_cu: u64,
) -> u64 {
    let priority = (compute_units as u64)
        .saturating_mul(micro_lamports_per_cu)
        .div_ceil(1_000_000);
    BASE_FEE_PER_SIGNATURE
        .saturating_mul(tx.signatures.len() as u64)
        .saturating_add(priority)
}

/// The fee a transaction that landed (and failed) paid: what the cluster says its message
/// costs, else `fee_of`.
async fn fee_paid(
    rpc: &RpcClient,
    tx: &solana_transaction::Transaction,
    compute_units: u32,
    micro_lamports_per_cu: u64,
) -> u64 {
    if let Ok(fee) = rpc.get_fee_for_message(&tx.message).await {
        return fee;
    }
    fee_of(tx, compute_units, micro_lamports_per_cu)
}

/// Lamports per signature on every cluster today.
pub const BASE_FEE_PER_SIGNATURE: u64 = 5_000;

/// How often an unconfirmed transaction is sent again.
const RESEND_EVERY: Duration = Duration::from_secs(1);
/// A bound on the wait even if the RPC never reports the block height.
const GIVE_UP_AFTER: Duration = Duration::from_secs(90);
