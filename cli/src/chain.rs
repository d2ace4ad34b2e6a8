//! What every operator command needs: an RPC client, the signer, and a way to send.
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use lifeline::state::{Network, Topology};
use lifeline_client::{accounts, pda};
use solana_commitment_config::CommitmentConfig;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_signer::Signer;

pub struct Chain {
    pub rpc: RpcClient,
    pub url: String,
}

/// A command's failure: the message, and whether it was the user's input (exit 2) or the
/// world (exit 1).
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub input: bool,
}

impl Failure {
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            input: true,
        }
    }
    pub fn world(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            input: false,
        }
    }
}

pub use lifeline_client::urls::resolve_url;

pub fn load_keypair(path: &str) -> Result<Keypair, Failure> {
    let expanded = match path.strip_prefix("~/") {
        Some(rest) => std::env::var("HOME")
            .map(|h| format!("{h}/{rest}"))
            .unwrap_or_else(|_| path.to_string()),
        None => path.to_string(),
    };
    solana_keypair::read_keypair_file(&expanded)
        .map_err(|e| Failure::input(format!("cannot read keypair {expanded}: {e}")))
}

impl Chain {
    pub fn new(url: &str) -> Self {
        let url = resolve_url(url);
        Self {
            rpc: RpcClient::new_with_timeout_and_commitment(
                url.clone(),
                Duration::from_secs(15),
                CommitmentConfig::confirmed(),
            ),
            url,
        }
    }

    pub async fn network(
        &self,
        network: &Pubkey,
    ) -> Result<Option<(Box<Network>, Box<Topology>)>, Failure> {
        let topology = pda::topology(network).0;
        let resp = self
            .rpc
            .get_multiple_accounts(&[*network, topology])
            .await
            .map_err(|e| Failure::input(format!("cannot reach {}: {e}", self.url)))?;
        match (&resp[0], &resp[1]) {
            (Some(n), Some(t)) => {
                let n = accounts::network(&n.data).map_err(|e| {
                    Failure::input(format!("{network} is not a Lifeline network: {e}"))
                })?;
                let t = accounts::topology(&t.data)
                    .map_err(|e| Failure::input(format!("{network}: bad topology: {e}")))?;
                Ok(Some((n, t)))
            }
            _ => Ok(None),
        }
    }

    /// Network, topology and ballot in one read.
    pub async fn state(&self, network: &Pubkey) -> Result<lifeline_client::ChainState, Failure> {
        lifeline_client::ChainState::read(&self.rpc, network, CommitmentConfig::processed())
            .await
            .map_err(|e| Failure::input(format!("{e} (on {})", self.url)))
    }

    /// Sends one instruction signed by `signer`, and waits for confirmation. Program
    /// errors come back with their name (e.g. "custom program error: 0x1771").
    pub async fn send(&self, signer: &Keypair, ix: Instruction) -> Result<String, Failure> {
        let blockhash = self
            .rpc
            .get_latest_blockhash()
            .await
            .map_err(|e| Failure::input(format!("cannot reach {}: {e}", self.url)))?;
        let tx = solana_transaction::Transaction::new_signed_with_payer(
            &[ix],
            Some(&signer.pubkey()),
            &[signer],
            blockhash,
        );
        self.rpc
            .send_and_confirm_transaction(&tx)
            .await
            .map(|s| s.to_string())
            .map_err(|e| Failure::world(explain(&e.to_string())))
    }
}

/// Adds the Lifeline error name to a transaction error that carries a custom code.
pub fn explain(message: &str) -> String {
    let code = message
        .split("custom program error: 0x")
        .nth(1)
        .and_then(|rest| {
            u32::from_str_radix(rest.split(|c: char| !c.is_ascii_hexdigit()).next()?, 16).ok()
        });
    match code.and_then(lifeline_error_name) {
        Some(name) => format!("{message} ({name})"),
        None => message.to_string(),
    }
}

fn lifeline_error_name(code: u32) -> Option<String> {
    let index = code.checked_sub(6000)?;
    // Anchor numbers the variants in declaration order; the IDL lists them.
    let idl: serde_json::Value =
        serde_json::from_str(include_str!("../../idl/lifeline.json")).ok()?;
    idl["errors"]
        .as_array()?
        .iter()
        .find(|e| e["code"] == 6000 + index)
        .map(|e| {
            format!(
                "{}: {}",
                e["name"].as_str().unwrap_or("?"),
                e["msg"].as_str().unwrap_or("")
            )
        })
}
