//! Which transaction made each recorded migration: the topology's ring keeps the evidence,
//! this finds the transaction (and its MigrationExecuted event) on chain for it.
use anchor_lang::prelude::Pubkey;
use lifeline::state::MigrationRecord;
use solana_commitment_config::CommitmentConfig;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client::rpc_client::GetConfirmedSignaturesForAddress2Config;
use solana_rpc_client_api::config::RpcTransactionConfig;
use solana_transaction_status_client_types::UiTransactionEncoding;

use crate::events::{from_transaction, LifelineEvent};
use crate::pda;

/// For each record, the signature of the transaction that executed it, when the RPC
/// still has it. Looks only at transactions in the slots the records name.
pub async fn migration_signatures(
    rpc: &RpcClient,
    network: &Pubkey,
    records: &[MigrationRecord],
) -> Vec<Option<String>> {
    let mut found: Vec<Option<String>> = vec![None; records.len()];
    if records.is_empty() {
        return found;
    }
    let oldest = records.iter().map(|r| r.slot).min().unwrap_or(0);
    let topology = pda::topology(network).0;
    let mut before = None;
    for _page in 0..10 {
        let Ok(page) = rpc
            .get_signatures_for_address_with_config(
                &topology,
                GetConfirmedSignaturesForAddress2Config {
                    before,
                    limit: Some(1_000),
                    commitment: Some(CommitmentConfig::confirmed()),
                    ..Default::default()
                },
            )
            .await
        else {
            break;
        };
        let Some(last) = page.last() else { break };
        before = last.signature.parse().ok();
        let past_oldest = last.slot < oldest;
        for entry in page.iter().filter(|e| e.err.is_none()) {
            let wanted: Vec<usize> = (0..records.len())
                .filter(|&i| found[i].is_none() && records[i].slot == entry.slot)
                .collect();
            if wanted.is_empty() {
                continue;
            }
            let Ok(sig) = entry.signature.parse() else {
                continue;
            };
            let Ok(tx) = rpc
                .get_transaction_with_config(
                    &sig,
                    RpcTransactionConfig {
                        encoding: Some(UiTransactionEncoding::Base64),
                        commitment: Some(CommitmentConfig::confirmed()),
                        max_supported_transaction_version: Some(0),
                    },
                )
                .await
            else {
                continue;
            };
            for event in from_transaction(&tx) {
                if let LifelineEvent::MigrationExecuted(m) = event {
                    for &i in &wanted {
                        if records[i].group == m.group && records[i].new_epoch == m.header.epoch {
                            found[i] = Some(entry.signature.clone());
                        }
                    }
                }
            }
        }
        if past_oldest || found.iter().all(Option::is_some) {
            break;
        }
    }
    found
}
