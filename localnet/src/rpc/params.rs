//! Positional JSON-RPC parameters, parsed with Solana's own config types so every option
//! a client sends is understood the way a validator understands it.
use std::str::FromStr;

use base64::prelude::{Engine, BASE64_STANDARD};
use serde::de::DeserializeOwned;
use serde_json::Value;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_status_client_types::UiTransactionEncoding;

use super::RpcError;

/// Largest wire transaction a validator accepts.
const PACKET_DATA_SIZE: usize = 1232;

fn at(params: &Value, i: usize) -> Option<&Value> {
    match params {
        Value::Array(a) => a.get(i),
        _ => None,
    }
}

/// A required parameter.
pub fn required<T: DeserializeOwned>(params: &Value, i: usize, what: &str) -> Result<T, RpcError> {
    let v = at(params, i).filter(|v| !v.is_null()).ok_or_else(|| {
        RpcError::invalid_params(format!("Invalid params: missing {what} (parameter {i})"))
    })?;
    serde_json::from_value(v.clone())
        .map_err(|e| RpcError::invalid_params(format!("Invalid params: {what}: {e}")))
}

/// An optional parameter (absent or null → default).
pub fn optional<T: DeserializeOwned + Default>(
    params: &Value,
    i: usize,
    what: &str,
) -> Result<T, RpcError> {
    match at(params, i) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone())
            .map_err(|e| RpcError::invalid_params(format!("Invalid params: {what}: {e}"))),
    }
}

pub fn pubkey(params: &Value, i: usize) -> Result<Pubkey, RpcError> {
    let s: String = required(params, i, "pubkey")?;
    parse_pubkey(&s)
}

pub fn parse_pubkey(s: &str) -> Result<Pubkey, RpcError> {
    Pubkey::from_str(s).map_err(|_| {
        RpcError::invalid_params(format!("Invalid param: {s:?} is not a valid pubkey"))
    })
}

pub fn parse_signature(s: &str) -> Result<Signature, RpcError> {
    Signature::from_str(s).map_err(|_| {
        RpcError::invalid_params(format!("Invalid param: {s:?} is not a valid signature"))
    })
}

/// Decodes a wire transaction (base58 by default, as validators do, or base64).
pub fn transaction(
    encoded: &str,
    encoding: Option<UiTransactionEncoding>,
) -> Result<VersionedTransaction, RpcError> {
    let bytes = match encoding.unwrap_or(UiTransactionEncoding::Base58) {
        UiTransactionEncoding::Base58 => bs58::decode(encoded).into_vec().map_err(|e| {
            RpcError::invalid_params(format!("Invalid param: invalid base58 transaction: {e}"))
        })?,
        UiTransactionEncoding::Base64 => BASE64_STANDARD.decode(encoded).map_err(|e| {
            RpcError::invalid_params(format!("Invalid param: invalid base64 transaction: {e}"))
        })?,
        other => {
            return Err(RpcError::invalid_params(format!(
                "Invalid param: unsupported transaction encoding {other:?}; use base58 or base64"
            )))
        }
    };
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(RpcError::invalid_params(format!(
            "Invalid param: transaction is {} bytes, the limit is {PACKET_DATA_SIZE}",
            bytes.len()
        )));
    }
    bincode::deserialize(&bytes).map_err(|e| {
        RpcError::invalid_params(format!(
            "Invalid param: failed to deserialize transaction: {e}"
        ))
    })
}
