//! Program errors by name, from the codes the chain returns: one place that knows how a
//! failed transaction maps to a `LifelineError`, for the keeper, the CLI and the tests.
use lifeline::errors::LifelineError;
use solana_instruction::error::InstructionError;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_transaction_error::TransactionError;

/// Anchor numbers program errors from here.
pub const ERROR_CODE_OFFSET: u32 = 6000;

/// The newest variant of `LifelineError` (append-only: keep this the last one; the IDL
/// test below fails when it is not).
const LAST: LifelineError = LifelineError::StandbyUndecided;

/// The Lifeline error with custom code `code`, if it is one.
pub fn from_code(code: u32) -> Option<LifelineError> {
    let index = code.checked_sub(ERROR_CODE_OFFSET)?;
    if index > LAST as u32 {
        return None;
    }
    // SAFETY: `#[error_code]` makes the enum `#[repr(u32)]` with implicit discriminants
    // 0..=LAST, and `index` is in that range.
    Some(unsafe { core::mem::transmute::<u32, LifelineError>(index) })
}

/// The program error a transaction failed with, if it failed inside Lifeline.
pub fn from_transaction_error(e: &TransactionError) -> Option<LifelineError> {
    match e {
        TransactionError::InstructionError(_, InstructionError::Custom(code)) => from_code(*code),
        _ => None,
    }
}

/// The program error behind an RPC client error (preflight or confirmation), if any.
pub fn from_client_error(e: &ClientError) -> Option<LifelineError> {
    e.get_transaction_error()
        .as_ref()
        .and_then(from_transaction_error)
}

/// Whether the RPC could not be reached at all (connection refused, DNS, timeout), as
/// opposed to answering with an error.
pub fn is_unreachable(e: &ClientError) -> bool {
    use solana_rpc_client_api::client_error::ErrorKind;
    match e.kind() {
        ErrorKind::Reqwest(r) => r.is_connect() || r.is_timeout() || r.is_request(),
        ErrorKind::Io(_) => true,
        _ => false,
    }
}

/// "Name: message" for a program error, as operators read it.
pub fn describe(e: LifelineError) -> String {
    format!("{}: {}", e.name(), e)
}

/// Errors of a permissionless or keeper transaction that mean another keeper got there
/// first, or the chain moved on since the decision was made: normal, not failures.
pub fn is_lost_race(e: LifelineError) -> bool {
    matches!(
        e,
        LifelineError::EpochMismatch
            | LifelineError::StaleSequence
            | LifelineError::NoBreachQuorum
            | LifelineError::CooldownActive
            | LifelineError::NotQuarantined
            | LifelineError::NoHealthyStandby
            | LifelineError::StandbyUndecided
            | LifelineError::ProbationIncomplete
            | LifelineError::PolicyChanged
    )
}

/// Why a transaction did not land, told apart so callers count and log each correctly.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Another keeper landed the same decision first, or the chain moved on.
    #[error("lost the race: {}", describe(*.0))]
    LostRace(LifelineError),
    /// The program refused the transaction for another reason.
    #[error("refused: {}", describe(*.0))]
    Refused(LifelineError),
    /// The fee payer cannot pay the fee.
    #[error("the fee payer has too few lamports to pay the fee")]
    InsufficientFunds,
    /// Any other failure (RPC unreachable, blockhash expired, runtime error).
    #[error("{0}")]
    Other(String),
}

impl SendError {
    pub fn classify(e: &ClientError) -> Self {
        if let Some(p) = from_client_error(e) {
            return if is_lost_race(p) {
                Self::LostRace(p)
            } else {
                Self::Refused(p)
            };
        }
        match e.get_transaction_error() {
            Some(TransactionError::InsufficientFundsForFee)
            | Some(TransactionError::AccountNotFound) => Self::InsufficientFunds,
            _ => Self::Other(e.to_string()),
        }
    }

    /// The classification of a transaction that landed and failed.
    pub fn from_transaction_error(e: &TransactionError) -> Self {
        match from_transaction_error(e) {
            Some(p) if is_lost_race(p) => Self::LostRace(p),
            Some(p) => Self::Refused(p),
            None if matches!(e, TransactionError::InsufficientFundsForFee) => {
                Self::InsufficientFunds
            }
            None => Self::Other(e.to_string()),
        }
    }

    /// A stable label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            Self::LostRace(_) => "lost_race",
            Self::Refused(_) => "refused",
            Self::InsufficientFunds => "insufficient_funds",
            Self::Other(_) => "other",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_in_the_idl_decodes_to_its_name_and_nothing_beyond() {
        let idl: serde_json::Value =
            serde_json::from_str(include_str!("../../idl/lifeline.json")).unwrap();
        let errors = idl["errors"].as_array().unwrap();
        for e in errors {
            let code = e["code"].as_u64().unwrap() as u32;
            let decoded = from_code(code).unwrap_or_else(|| panic!("{code} does not decode"));
            assert_eq!(decoded.name(), e["name"].as_str().unwrap());
            assert_eq!(u32::from(decoded), code);
        }
        let next = ERROR_CODE_OFFSET + errors.len() as u32;
        assert!(from_code(next).is_none(), "LAST is the newest variant");
        assert!(from_code(ERROR_CODE_OFFSET - 1).is_none());
        assert!(from_code(0).is_none());
    }

    #[test]
    fn a_custom_code_in_a_transaction_error_is_named() {
        let code = u32::from(LifelineError::EpochMismatch);
        let e = TransactionError::InstructionError(1, InstructionError::Custom(code));
        let p = from_transaction_error(&e).unwrap();
        assert_eq!(p.name(), "EpochMismatch");
        assert!(is_lost_race(p));
        assert!(describe(p).starts_with("EpochMismatch: "));
        assert!(!is_lost_race(LifelineError::KeeperNotInSet));
        assert!(from_transaction_error(&TransactionError::AccountInUse).is_none());
    }
}
