//! What every operator command needs: an RPC client, the signer, reads of a network, and
//! a send whose failures are named (the program's error by name, an unreachable cluster
//! told apart).
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use async_trait::async_trait;
use lifeline::state::Topology;
use lifeline_client::state::ReadError;
use lifeline_client::{errors, ChainState};
use solana_commitment_config::CommitmentConfig;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::client_error::Error as ClientError;
use solana_signer::Signer;

pub use crate::failure::Failure;
pub use lifeline_client::urls::resolve_url;

pub struct Chain {
    pub rpc: RpcClient,
    pub url: String,
}

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

/// A failed RPC call, told apart: unreachable, refused by the program, or other.
pub fn client_failure(url: &str, e: &ClientError) -> Failure {
    if let Some(p) = errors::from_client_error(e) {
        return Failure::refused(format!("the program refused it: {}", errors::describe(p)));
    }
    if errors::is_unreachable(e) {
        return Failure::unreachable(format!("cannot reach {url}: {e}"));
    }
    Failure::world(format!("{url}: {e}"))
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

    /// Network, topology and ballot in one read; a missing network is the user's input.
    pub async fn state(&self, network: &Pubkey) -> Result<ChainState, Failure> {
        ChainState::read(&self.rpc, network, CommitmentConfig::confirmed())
            .await
            .map_err(|e| match e {
                ReadError::Rpc {
                    unreachable: true, ..
                } => Failure::unreachable(format!("cannot reach {}: {e}", self.url)),
                ReadError::Rpc { .. } => Failure::world(format!("{}: {e}", self.url)),
                other => Failure::input(format!("{other} (on {})", self.url)),
            })
    }

    /// The network's state, or None when nothing lives at its address.
    pub async fn maybe_state(&self, network: &Pubkey) -> Result<Option<ChainState>, Failure> {
        match self.state(network).await {
            Ok(s) => Ok(Some(s)),
            Err(f) if f.kind == crate::failure::Kind::Input => {
                let exists = self
                    .rpc
                    .get_account_with_commitment(network, CommitmentConfig::confirmed())
                    .await
                    .map_err(|e| client_failure(&self.url, &e))?
                    .value
                    .is_some();
                if exists {
                    Err(f)
                } else {
                    Ok(None)
                }
            }
            Err(f) => Err(f),
        }
    }

    /// Sends instructions signed by `signer` and waits for confirmation.
    pub async fn send(&self, signer: &Keypair, ixs: &[Instruction]) -> Result<String, Failure> {
        let blockhash = self
            .rpc
            .get_latest_blockhash()
            .await
            .map_err(|e| client_failure(&self.url, &e))?;
        let tx = solana_transaction::Transaction::new_signed_with_payer(
            ixs,
            Some(&signer.pubkey()),
            &[signer],
            blockhash,
        );
        self.rpc
            .send_and_confirm_transaction(&tx)
            .await
            .map(|s| s.to_string())
            .map_err(|e| client_failure(&self.url, &e))
    }
}

/// The cluster as a target for `plan::apply`; remembers how the last send failed so the
/// exit code can say it.
pub struct Signed<'a> {
    pub chain: &'a Chain,
    pub signer: &'a Keypair,
    pub last_failure: std::sync::Mutex<Option<crate::failure::Kind>>,
}

#[async_trait]
impl lifeline_client::plan::Target for Signed<'_> {
    async fn topology(&self, network: &Pubkey) -> Result<Option<Box<Topology>>, String> {
        self.chain
            .maybe_state(network)
            .await
            .map(|s| s.map(|s| s.topology))
            .map_err(|f| f.message)
    }
    async fn send(&self, ix: Instruction) -> Result<String, String> {
        self.chain.send(self.signer, &[ix]).await.map_err(|f| {
            *self.last_failure.lock().unwrap() = Some(f.kind);
            f.message
        })
    }
}

/// Checks each oracle endpoint about to be registered (`label`, `url`): its answer must
/// hold a timestamp where its URL's pointer says, or the keepers would judge it down from
/// the first probe. An oracle that does not answer now is only a warning: a standby may be
/// registered before it is up.
pub async fn check_oracles<'a>(
    oracles: impl IntoIterator<Item = (String, &'a str)>,
) -> Result<(), Failure> {
    let http = reqwest::Client::new();
    for (label, url) in oracles {
        match lifeline_client::kinds::check_oracle(&http, url, Duration::from_secs(5)).await {
            Ok(_) => {}
            Err(lifeline_client::kinds::OracleCheck::NoAnswer(why)) => {
                eprintln!("warning: {label}: cannot check its answer now ({why})")
            }
            Err(lifeline_client::kinds::OracleCheck::Bad(why)) => {
                return Err(Failure::input(format!("{label}: {why}")))
            }
        }
    }
    Ok(())
}
