//! The Solana JSON-RPC methods the localnet serves, with Solana's request and response
//! shapes (the agave client types are used for both, so they cannot drift).
//!
//! (Long by nature: one function per method, about 35, beside the dispatch table that
//! names them, so a method is found by its name.)
use std::sync::Arc;

use serde_json::{json, Value};
use solana_account::{AccountSharedData, ReadableAccount};
use solana_account_decoder::{encode_ui_account, UiAccount, UiAccountEncoding};
use solana_clock::Slot;
use solana_commitment_config::{CommitmentConfig, CommitmentLevel};
use solana_hash::Hash;
use solana_message::{SanitizedMessage, SimpleAddressLoader, VersionedMessage};
use solana_pubkey::Pubkey;
use solana_rpc_client_api::config::*;
use solana_rpc_client_api::filter::RpcFilterType;
use solana_rpc_client_api::response::*;
use solana_runtime::bank::Bank;
use solana_sha256_hasher::hashv;
use solana_transaction_status_client_types::{
    EncodedConfirmedTransactionWithStatusMeta, EncodedTransaction,
    EncodedTransactionWithStatusMeta, TransactionConfirmationStatus, TransactionStatus,
    UiCompiledInstruction, UiInnerInstructions, UiInstruction, UiMessage, UiRawMessage,
    UiTransaction, UiTransactionEncoding, UiTransactionReturnData, UiTransactionStatusMeta,
};

use super::params::{self, optional, required};
use super::RpcError;
use crate::cluster::{Cluster, SendError, Simulation, TxRecord};

const MAX_MULTIPLE_ACCOUNTS: usize = 100;
const MAX_SIGNATURE_STATUSES: usize = 256;
const MAX_SIGNATURES_FOR_ADDRESS: usize = 1_000;
const MAX_AIRDROP_LAMPORTS: u64 = 1_000 * 1_000_000_000;
pub const CORE_VERSION: &str = "3.1.12";

pub use lifeline_faults::SlotView;

/// The blockhash a node with `view` reports for the cluster's `blockhash`: itself, or on
/// another fork a different hash for the same slot (SHA-256 of a tag and the real one).
pub fn view_blockhash(view: SlotView, blockhash: Hash) -> Hash {
    if view.forked {
        hashv(&[b"lifeline-localnet: another fork", blockhash.as_ref()])
    } else {
        blockhash
    }
}

/// The method dispatcher over one cluster.
pub struct Rpc {
    cluster: Arc<Cluster>,
}

type R = Result<Value, RpcError>;

fn to_value<T: serde::Serialize>(v: T) -> R {
    serde_json::to_value(v).map_err(|e| RpcError::internal(e.to_string()))
}

fn context(slot: Slot) -> RpcResponseContext {
    RpcResponseContext::new(slot)
}

/// Solana encodes `jsonParsed` only for programs it can parse; others fall back to base64.
pub fn account_encoding(e: Option<UiAccountEncoding>) -> UiAccountEncoding {
    match e {
        None | Some(UiAccountEncoding::Binary) => UiAccountEncoding::Binary,
        Some(UiAccountEncoding::JsonParsed) => UiAccountEncoding::Base64,
        Some(other) => other,
    }
}

fn encode(
    key: &Pubkey,
    account: &AccountSharedData,
    config: &RpcAccountInfoConfig,
) -> Result<UiAccount, RpcError> {
    let encoding = account_encoding(config.encoding);
    if matches!(
        encoding,
        UiAccountEncoding::Binary | UiAccountEncoding::Base58
    ) && account.data().len() > 128
    {
        return Err(RpcError::invalid_params(
            "Encoded binary (base 58) data should be less than 128 bytes, please use Base64 encoding.",
        ));
    }
    Ok(encode_ui_account(
        key,
        account,
        encoding,
        None,
        config.data_slice,
    ))
}

pub fn filter_allows(filter: &RpcFilterType, data: &[u8]) -> bool {
    match filter {
        RpcFilterType::DataSize(n) => data.len() as u64 == *n,
        RpcFilterType::Memcmp(m) => m.bytes_match(data),
        RpcFilterType::TokenAccountState => false,
    }
}

fn preflight_error(sim: Simulation) -> RpcError {
    let err = sim.err.clone().expect("a failed simulation has an error");
    let result = simulation_result(sim, None);
    RpcError::new(-32002, format!("Transaction simulation failed: {err}"))
        .with_data(serde_json::to_value(result).unwrap_or(Value::Null))
}

fn simulation_result(
    sim: Simulation,
    accounts: Option<Vec<Option<UiAccount>>>,
) -> RpcSimulateTransactionResult {
    RpcSimulateTransactionResult {
        err: sim.err.map(Into::into),
        logs: Some(sim.logs),
        accounts,
        units_consumed: Some(sim.units),
        loaded_accounts_data_size: None,
        return_data: sim.return_data.map(UiTransactionReturnData::from),
        inner_instructions: sim.inner_instructions.map(ui_inner_instructions),
        replacement_blockhash: None,
        fee: None,
        pre_balances: None,
        post_balances: None,
        pre_token_balances: None,
        post_token_balances: None,
        loaded_addresses: None,
    }
}

fn ui_inner_instructions(
    list: solana_message::inner_instruction::InnerInstructionsList,
) -> Vec<UiInnerInstructions> {
    list.into_iter()
        .enumerate()
        .filter(|(_, ixs)| !ixs.is_empty())
        .map(|(index, ixs)| UiInnerInstructions {
            index: index as u8,
            instructions: ixs
                .iter()
                .map(|ix| {
                    UiInstruction::Compiled(UiCompiledInstruction::from(
                        &ix.instruction,
                        Some(ix.stack_height as u32),
                    ))
                })
                .collect(),
        })
        .collect()
}

impl Rpc {
    pub fn new(cluster: Arc<Cluster>) -> Self {
        Self { cluster }
    }

    pub fn cluster(&self) -> &Arc<Cluster> {
        &self.cluster
    }

    /// The bank a commitment reads from: processed = the working bank; confirmed and
    /// finalized = the last rooted bank (on one node every frozen slot is final).
    fn bank(&self, commitment: Option<CommitmentConfig>) -> Arc<Bank> {
        match commitment.map(|c| c.commitment) {
            Some(CommitmentLevel::Processed) => self.cluster.working_bank(),
            _ => self.cluster.root_bank(),
        }
    }

    fn bank_at_least(
        &self,
        commitment: Option<CommitmentConfig>,
        min_context_slot: Option<Slot>,
        view: SlotView,
    ) -> Result<Arc<Bank>, RpcError> {
        let bank = self.bank(commitment);
        if let Some(min) = min_context_slot {
            let slot = view.apply(bank.slot());
            if slot < min {
                return Err(
                    RpcError::new(-32016, "Minimum context slot has not been reached")
                        .with_data(json!({ "contextSlot": slot })),
                );
            }
        }
        Ok(bank)
    }

    pub async fn dispatch(&self, method: &str, params: Value) -> R {
        self.dispatch_in(method, params, SlotView::default()).await
    }

    /// Answers `method` as a node whose view of the chain is `view`. Each method is one
    /// function below with the same shape, `(&self, params, view)`: adding a method is
    /// that function and its line here.
    pub async fn dispatch_in(&self, method: &str, p: Value, view: SlotView) -> R {
        let p = &p;
        match method {
            "getHealth" => self.get_health(p, view),
            "getVersion" => self.get_version(p, view),
            "getGenesisHash" => self.get_genesis_hash(p, view),
            "getIdentity" => self.get_identity(p, view),
            "getSlot" => self.get_slot(p, view),
            "getBlockHeight" => self.get_block_height(p, view),
            "getEpochInfo" => self.get_epoch_info(p, view),
            "getLatestBlockhash" => self.get_latest_blockhash(p, view),
            "isBlockhashValid" => self.is_blockhash_valid(p, view),
            "getFeeForMessage" => self.get_fee_for_message(p, view),
            "getBalance" => self.get_balance(p, view),
            "getMinimumBalanceForRentExemption" => self.get_minimum_balance(p, view),
            "getAccountInfo" => self.get_account_info(p, view),
            "getMultipleAccounts" => self.get_multiple_accounts(p, view),
            "getProgramAccounts" => self.get_program_accounts(p, view),
            "getRecentPrioritizationFees" => self.get_recent_prioritization_fees(p, view),
            "requestAirdrop" => self.request_airdrop(p, view).await,
            "sendTransaction" => self.send_transaction(p, view).await,
            "simulateTransaction" => self.simulate_transaction(p, view).await,
            "getSignatureStatuses" => self.get_signature_statuses(p, view),
            "getTransaction" => self.get_transaction(p, view),
            "getSignaturesForAddress" => self.get_signatures_for_address(p, view),
            _ => Err(RpcError::method_not_found(method)),
        }
    }

    fn get_health(&self, _: &Value, _: SlotView) -> R {
        Ok(json!("ok"))
    }

    fn get_version(&self, _: &Value, _: SlotView) -> R {
        to_value(RpcVersionInfo {
            solana_core: CORE_VERSION.into(),
            feature_set: Some(0),
        })
    }

    fn get_genesis_hash(&self, _: &Value, _: SlotView) -> R {
        Ok(json!(self.cluster.genesis_hash().to_string()))
    }

    fn get_identity(&self, _: &Value, _: SlotView) -> R {
        to_value(RpcIdentity {
            identity: lifeline::ID.to_string(),
        })
    }

    /// The bank for a context config at parameter `i` (commitment, minContextSlot).
    fn context_bank(&self, p: &Value, i: usize, view: SlotView) -> Result<Arc<Bank>, RpcError> {
        let c: RpcContextConfig = optional(p, i, "config")?;
        self.bank_at_least(c.commitment, c.min_context_slot, view)
    }

    fn get_slot(&self, p: &Value, view: SlotView) -> R {
        let bank = self.context_bank(p, 0, view)?;
        Ok(json!(view.apply(bank.slot())))
    }

    fn get_block_height(&self, p: &Value, view: SlotView) -> R {
        let bank = self.context_bank(p, 0, view)?;
        let behind = bank.slot().saturating_sub(view.apply(bank.slot()));
        let ahead = view.apply(bank.slot()).saturating_sub(bank.slot());
        Ok(json!(bank
            .block_height()
            .saturating_sub(behind)
            .saturating_add(ahead)))
    }

    fn get_epoch_info(&self, p: &Value, view: SlotView) -> R {
        let bank = self.context_bank(p, 0, view)?;
        let slot = view.apply(bank.slot());
        let schedule = bank.epoch_schedule();
        let (epoch, slot_index) = schedule.get_epoch_and_slot_index(slot);
        to_value(solana_epoch_info::EpochInfo {
            epoch,
            slot_index,
            slots_in_epoch: schedule.get_slots_in_epoch(epoch),
            absolute_slot: slot,
            block_height: bank
                .block_height()
                .saturating_sub(bank.slot().saturating_sub(slot)),
            transaction_count: Some(bank.transaction_count()),
        })
    }

    fn get_latest_blockhash(&self, p: &Value, view: SlotView) -> R {
        let bank = self.context_bank(p, 0, view)?;
        let served = view.apply(bank.slot());
        // A node held back at an older slot serves the hash it had there: a frozen bank's
        // own, a working bank's parent's.
        let held_back = (served < bank.slot())
            .then(|| {
                let ended = if bank.is_frozen() {
                    served
                } else {
                    served.saturating_sub(1)
                };
                self.cluster.frozen_hash(ended)
            })
            .flatten();
        let blockhash = held_back.unwrap_or_else(|| bank.last_blockhash());
        let last_valid_block_height = bank
            .get_blockhash_last_valid_block_height(&blockhash)
            .unwrap_or_default();
        to_value(Response {
            context: context(served),
            value: RpcBlockhash {
                blockhash: view_blockhash(view, blockhash).to_string(),
                last_valid_block_height,
            },
        })
    }

    fn is_blockhash_valid(&self, p: &Value, view: SlotView) -> R {
        let hash: String = required(p, 0, "blockhash")?;
        let hash = hash.parse::<solana_hash::Hash>().map_err(|_| {
            RpcError::invalid_params(format!("Invalid param: {hash:?} is not a valid blockhash"))
        })?;
        let bank = self.context_bank(p, 1, view)?;
        to_value(Response {
            context: context(view.apply(bank.slot())),
            value: bank.is_blockhash_valid(&hash),
        })
    }

    fn get_fee_for_message(&self, p: &Value, view: SlotView) -> R {
        let encoded: String = required(p, 0, "message")?;
        let bytes =
            base64::Engine::decode(&base64::prelude::BASE64_STANDARD, &encoded).map_err(|e| {
                RpcError::invalid_params(format!("Invalid param: invalid base64 message: {e}"))
            })?;
        let message: VersionedMessage = bincode::deserialize(&bytes).map_err(|e| {
            RpcError::invalid_params(format!("Invalid param: failed to deserialize message: {e}"))
        })?;
        let bank = self.context_bank(p, 1, view)?;
        let sanitized = solana_message::SanitizedVersionedMessage::try_new(message)
            .ok()
            .and_then(|m| {
                SanitizedMessage::try_new(m, SimpleAddressLoader::Disabled, &Default::default())
                    .ok()
            });
        let fee = sanitized.and_then(|m| bank.get_fee_for_message(&m));
        to_value(Response {
            context: context(view.apply(bank.slot())),
            value: fee,
        })
    }

    fn get_balance(&self, p: &Value, view: SlotView) -> R {
        let key = params::pubkey(p, 0)?;
        let bank = self.context_bank(p, 1, view)?;
        to_value(Response {
            context: context(view.apply(bank.slot())),
            value: bank.get_balance(&key),
        })
    }

    fn get_minimum_balance(&self, p: &Value, _: SlotView) -> R {
        let len: usize = required(p, 0, "data length")?;
        if len > 10 * 1024 * 1024 {
            return Err(RpcError::invalid_params(
                "Invalid param: data length exceeds 10 MiB",
            ));
        }
        let bank = self.cluster.working_bank();
        Ok(json!(bank.get_minimum_balance_for_rent_exemption(len)))
    }

    fn get_account_info(&self, p: &Value, view: SlotView) -> R {
        let key = params::pubkey(p, 0)?;
        let c: RpcAccountInfoConfig = optional(p, 1, "config")?;
        let bank = self.bank_at_least(c.commitment, c.min_context_slot, view)?;
        let value = bank
            .get_account(&key)
            .map(|a| encode(&key, &a, &c))
            .transpose()?;
        to_value(Response {
            context: context(view.apply(bank.slot())),
            value,
        })
    }

    fn get_multiple_accounts(&self, p: &Value, view: SlotView) -> R {
        let keys: Vec<String> = required(p, 0, "pubkeys")?;
        if keys.len() > MAX_MULTIPLE_ACCOUNTS {
            return Err(RpcError::invalid_params(format!(
                "Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}"
            )));
        }
        let keys = keys
            .iter()
            .map(|k| params::parse_pubkey(k))
            .collect::<Result<Vec<_>, _>>()?;
        let c: RpcAccountInfoConfig = optional(p, 1, "config")?;
        let bank = self.bank_at_least(c.commitment, c.min_context_slot, view)?;
        let value = keys
            .iter()
            .map(|k| bank.get_account(k).map(|a| encode(k, &a, &c)).transpose())
            .collect::<Result<Vec<_>, _>>()?;
        to_value(Response {
            context: context(view.apply(bank.slot())),
            value,
        })
    }

    fn get_program_accounts(&self, p: &Value, view: SlotView) -> R {
        let program = params::pubkey(p, 0)?;
        let c: RpcProgramAccountsConfig = optional(p, 1, "config")?;
        let filters = c.filters.clone().unwrap_or_default();
        for f in &filters {
            f.verify()
                .map_err(|e| RpcError::invalid_params(format!("Invalid param: filter: {e}")))?;
            if matches!(f, RpcFilterType::TokenAccountState) {
                return Err(RpcError::invalid_params(
                    "Invalid param: tokenAccountState filters are not supported by this localnet",
                ));
            }
        }
        let bank = self.bank_at_least(
            c.account_config.commitment,
            c.account_config.min_context_slot,
            view,
        )?;
        let mut accounts: Vec<RpcKeyedAccount> = Vec::new();
        for (key, account) in Cluster::program_accounts(&bank, &program) {
            if filters.iter().all(|f| filter_allows(f, account.data())) {
                accounts.push(RpcKeyedAccount {
                    pubkey: key.to_string(),
                    account: encode(&key, &account, &c.account_config)?,
                });
            }
        }
        if c.sort_results.unwrap_or(true) {
            accounts.sort_by(|a, b| a.pubkey.cmp(&b.pubkey));
        }
        if c.with_context.unwrap_or(false) {
            to_value(Response {
                context: context(view.apply(bank.slot())),
                value: accounts,
            })
        } else {
            to_value(accounts)
        }
    }

    fn get_recent_prioritization_fees(&self, p: &Value, view: SlotView) -> R {
        let keys: Vec<String> = optional(p, 0, "addresses")?;
        if keys.len() > 128 {
            return Err(RpcError::invalid_params(
                "Too many inputs provided; max 128",
            ));
        }
        for k in &keys {
            params::parse_pubkey(k)?;
        }
        // No fee market on a single local node: every recent slot's minimum is 0.
        let slot = view.apply(self.cluster.root_bank().slot());
        let fees: Vec<RpcPrioritizationFee> = (slot.saturating_sub(149)..=slot)
            .map(|slot| RpcPrioritizationFee {
                slot,
                prioritization_fee: 0,
            })
            .collect();
        to_value(fees)
    }

    async fn request_airdrop(&self, p: &Value, _: SlotView) -> R {
        let to = params::pubkey(p, 0)?;
        let lamports: u64 = required(p, 1, "lamports")?;
        if lamports == 0 || lamports > MAX_AIRDROP_LAMPORTS {
            return Err(RpcError::invalid_params(format!(
                "Invalid param: lamports must be 1..={MAX_AIRDROP_LAMPORTS}"
            )));
        }
        let cluster = self.cluster.clone();
        let sig = tokio::task::spawn_blocking(move || cluster.airdrop(&to, lamports))
            .await
            .map_err(|e| RpcError::internal(e.to_string()))?
            .map_err(|e| match e {
                SendError::Rejected(err) => RpcError::internal(format!("airdrop failed: {err}")),
                SendError::Preflight(sim) => preflight_error(*sim),
            })?;
        Ok(json!(sig.to_string()))
    }

    async fn send_transaction(&self, p: &Value, _: SlotView) -> R {
        let encoded: String = required(p, 0, "transaction")?;
        let c: RpcSendTransactionConfig = optional(p, 1, "config")?;
        let tx = params::transaction(&encoded, c.encoding)?;
        let cluster = self.cluster.clone();
        let sig =
            tokio::task::spawn_blocking(move || cluster.send_transaction(tx, c.skip_preflight))
                .await
                .map_err(|e| RpcError::internal(e.to_string()))?
                .map_err(send_error)?;
        Ok(json!(sig.to_string()))
    }

    async fn simulate_transaction(&self, p: &Value, view: SlotView) -> R {
        let encoded: String = required(p, 0, "transaction")?;
        let c: RpcSimulateTransactionConfig = optional(p, 1, "config")?;
        if c.sig_verify && c.replace_recent_blockhash {
            return Err(RpcError::invalid_params(
                "sigVerify may not be used with replaceRecentBlockhash",
            ));
        }
        let mut tx = params::transaction(&encoded, c.encoding)?;
        let bank = self.bank_at_least(c.commitment, c.min_context_slot, view)?;
        let replacement = if c.replace_recent_blockhash {
            let working = self.cluster.working_bank();
            let blockhash = working.last_blockhash();
            tx.message.set_recent_blockhash(blockhash);
            Some(RpcBlockhash {
                blockhash: view_blockhash(view, blockhash).to_string(),
                last_valid_block_height: working
                    .get_blockhash_last_valid_block_height(&blockhash)
                    .unwrap_or_default(),
            })
        } else {
            None
        };
        drop(bank);
        let cluster = self.cluster.clone();
        let sig_verify = c.sig_verify;
        let sim = tokio::task::spawn_blocking(move || cluster.simulate(tx, sig_verify))
            .await
            .map_err(|e| RpcError::internal(e.to_string()))?
            .map_err(|err| match err {
                solana_transaction_error::TransactionError::SignatureFailure => {
                    RpcError::new(-32003, "Transaction signature verification failure")
                }
                err => RpcError::invalid_params(format!("invalid transaction: {err}")),
            })?;
        let accounts = c
            .accounts
            .as_ref()
            .map(|cfg| self.simulation_accounts(cfg))
            .transpose()?;
        let slot = view.apply(sim.slot);
        let mut result = simulation_result(sim, accounts);
        result.replacement_blockhash = replacement;
        if !c.inner_instructions {
            result.inner_instructions = None;
        }
        to_value(Response {
            context: context(slot),
            value: result,
        })
    }

    /// The accounts a simulation was asked to return, as they are after it.
    fn simulation_accounts(
        &self,
        cfg: &RpcSimulateTransactionAccountsConfig,
    ) -> Result<Vec<Option<UiAccount>>, RpcError> {
        let bank = self.cluster.working_bank();
        let config = RpcAccountInfoConfig {
            encoding: cfg.encoding,
            ..Default::default()
        };
        cfg.addresses
            .iter()
            .map(|a| {
                let k = params::parse_pubkey(a)?;
                bank.get_account(&k)
                    .map(|acc| encode(&k, &acc, &config))
                    .transpose()
            })
            .collect()
    }

    fn get_signature_statuses(&self, p: &Value, view: SlotView) -> R {
        let sigs: Vec<String> = required(p, 0, "signatures")?;
        if sigs.len() > MAX_SIGNATURE_STATUSES {
            return Err(RpcError::invalid_params(format!(
                "Too many inputs provided; max {MAX_SIGNATURE_STATUSES}"
            )));
        }
        let working = self.cluster.working_bank().slot();
        let mut statuses = Vec::with_capacity(sigs.len());
        for s in &sigs {
            let sig = params::parse_signature(s)?;
            statuses.push(self.cluster.transaction(&sig).map(|r| status(&r, working)));
        }
        to_value(Response {
            context: context(view.apply(working)),
            value: statuses,
        })
    }

    fn get_transaction(&self, p: &Value, _: SlotView) -> R {
        let s: String = required(p, 0, "signature")?;
        let sig = params::parse_signature(&s)?;
        let c: RpcTransactionConfig = match p.get(1) {
            Some(Value::String(_)) => RpcTransactionConfig {
                encoding: optional(p, 1, "encoding")?,
                ..Default::default()
            },
            _ => optional(p, 1, "config")?,
        };
        let working = self.cluster.working_bank().slot();
        let record = self.cluster.transaction(&sig).filter(|r| {
            // processed-only transactions are not visible at confirmed/finalized
            matches!(
                c.commitment.map(|c| c.commitment),
                Some(CommitmentLevel::Processed)
            ) || r.slot < working
        });
        match record {
            None => Ok(Value::Null),
            Some(r) => to_value(encode_transaction(
                &r,
                c.encoding.unwrap_or(UiTransactionEncoding::Json),
            )?),
        }
    }

    fn get_signatures_for_address(&self, p: &Value, _: SlotView) -> R {
        let address = params::pubkey(p, 0)?;
        let c: RpcSignaturesForAddressConfig = optional(p, 1, "config")?;
        let limit = c.limit.unwrap_or(MAX_SIGNATURES_FOR_ADDRESS);
        if limit == 0 || limit > MAX_SIGNATURES_FOR_ADDRESS {
            return Err(RpcError::invalid_params(format!(
                "Invalid limit; max {MAX_SIGNATURES_FOR_ADDRESS}"
            )));
        }
        let signature = |s: &Option<String>| s.as_deref().map(params::parse_signature).transpose();
        let before = signature(&c.before)?;
        let until = signature(&c.until)?;
        let working = self.cluster.working_bank().slot();
        let mut out = Vec::new();
        let mut started = before.is_none();
        for (sig, r) in self
            .cluster
            .signatures_for_address(&address, MAX_SIGNATURES_FOR_ADDRESS)
        {
            if Some(sig) == until {
                break;
            }
            if !started {
                started = Some(sig) == before;
                continue;
            }
            out.push(RpcConfirmedTransactionStatusWithSignature {
                signature: sig.to_string(),
                slot: r.slot,
                err: r.err.clone().map(Into::into),
                memo: None,
                block_time: Some(r.block_time),
                confirmation_status: Some(confirmation(&r, working)),
            });
            if out.len() >= limit {
                break;
            }
        }
        to_value(out)
    }
}

/// sendTransaction's errors, as a validator words them.
fn send_error(e: SendError) -> RpcError {
    match e {
        SendError::Preflight(sim) => preflight_error(*sim),
        SendError::Rejected(solana_transaction_error::TransactionError::SignatureFailure) => {
            RpcError::new(-32003, "Transaction signature verification failure")
        }
        SendError::Rejected(err) => {
            let data = serde_json::to_value(simulation_result(
                Simulation {
                    slot: 0,
                    err: Some(err.clone()),
                    logs: vec![],
                    units: 0,
                    return_data: None,
                    inner_instructions: None,
                },
                None,
            ))
            .unwrap_or(Value::Null);
            RpcError::new(-32002, format!("Transaction simulation failed: {err}")).with_data(data)
        }
    }
}

fn confirmation(r: &TxRecord, working_slot: Slot) -> TransactionConfirmationStatus {
    if r.slot < working_slot {
        TransactionConfirmationStatus::Finalized
    } else {
        TransactionConfirmationStatus::Processed
    }
}

fn status(r: &TxRecord, working_slot: Slot) -> TransactionStatus {
    let level = confirmation(r, working_slot);
    TransactionStatus {
        slot: r.slot,
        confirmations: match level {
            TransactionConfirmationStatus::Finalized => None,
            _ => Some(0),
        },
        status: match &r.err {
            None => Ok(()),
            Some(e) => Err(e.clone()),
        },
        err: r.err.clone(),
        confirmation_status: Some(level),
    }
}

/// A recorded transaction in the requested encoding, with its status meta: the shape
/// `getTransaction` answers in (solana-transaction-status's types, filled field by field
/// — hence the length).
fn encode_transaction(
    r: &TxRecord,
    encoding: UiTransactionEncoding,
) -> Result<EncodedConfirmedTransactionWithStatusMeta, RpcError> {
    use solana_transaction_status_client_types::option_serializer::OptionSerializer;
    let tx = &r.transaction;
    let transaction = match encoding {
        UiTransactionEncoding::Base64 | UiTransactionEncoding::Base58 => {
            let bytes = bincode::serialize(tx).map_err(|e| RpcError::internal(e.to_string()))?;
            let (blob, enc) = match encoding {
                UiTransactionEncoding::Base64 => (
                    base64::Engine::encode(&base64::prelude::BASE64_STANDARD, bytes),
                    solana_transaction_status_client_types::TransactionBinaryEncoding::Base64,
                ),
                _ => (
                    bs58::encode(bytes).into_string(),
                    solana_transaction_status_client_types::TransactionBinaryEncoding::Base58,
                ),
            };
            EncodedTransaction::Binary(blob, enc)
        }
        UiTransactionEncoding::Json | UiTransactionEncoding::JsonParsed => {
            let m = &tx.message;
            EncodedTransaction::Json(UiTransaction {
                signatures: tx.signatures.iter().map(|s| s.to_string()).collect(),
                message: UiMessage::Raw(UiRawMessage {
                    header: *m.header(),
                    account_keys: m
                        .static_account_keys()
                        .iter()
                        .map(|k| k.to_string())
                        .collect(),
                    recent_blockhash: m.recent_blockhash().to_string(),
                    instructions: m
                        .instructions()
                        .iter()
                        .map(|ix| UiCompiledInstruction::from(ix, None))
                        .collect(),
                    address_table_lookups: None,
                }),
            })
        }
        other => {
            return Err(RpcError::invalid_params(format!(
                "Invalid param: unsupported encoding {other:?}"
            )))
        }
    };
    Ok(EncodedConfirmedTransactionWithStatusMeta {
        slot: r.slot,
        block_time: Some(r.block_time),
        transaction: EncodedTransactionWithStatusMeta {
            transaction,
            version: None,
            meta: Some(UiTransactionStatusMeta {
                err: r.err.clone().map(Into::into),
                status: match &r.err {
                    None => Ok(()),
                    Some(e) => Err(e.clone().into()),
                },
                fee: r.fee,
                pre_balances: r.pre_balances.clone(),
                post_balances: r.post_balances.clone(),
                inner_instructions: OptionSerializer::Some(
                    r.inner_instructions
                        .clone()
                        .map(ui_inner_instructions)
                        .unwrap_or_default(),
                ),
                log_messages: OptionSerializer::Some(r.logs.clone()),
                pre_token_balances: OptionSerializer::Some(vec![]),
                post_token_balances: OptionSerializer::Some(vec![]),
                rewards: OptionSerializer::Some(vec![]),
                loaded_addresses: OptionSerializer::Skip,
                return_data: OptionSerializer::Skip,
                compute_units_consumed: OptionSerializer::Some(r.units),
                cost_units: OptionSerializer::Skip,
            }),
        },
    })
}
