//! `lifeline airdrop`: lamports from a cluster that gives them away (the localnet, devnet),
//! to an address or a keypair file's key.
use std::time::{Duration, Instant};

use solana_signer::Signer;

use super::{address, Cluster};
use crate::chain::{client_failure, load_keypair, Chain, Failure};

#[derive(clap::Args)]
pub struct AirdropArgs {
    #[command(flatten)]
    pub cluster: Cluster,
    /// An address, or a keypair file whose key receives the lamports.
    pub to: String,
    /// How many SOL.
    #[arg(default_value_t = 10.0)]
    pub sol: f64,
}

pub async fn run(a: AirdropArgs) -> Result<(), Failure> {
    let to = if std::path::Path::new(&a.to).exists() || a.to.starts_with('~') {
        load_keypair(&a.to)?.pubkey()
    } else {
        address("recipient", &a.to)?
    };
    if !(a.sol > 0.0 && a.sol <= 1_000_000.0) {
        return Err(Failure::input(
            "SOL must be more than 0 and at most 1000000",
        ));
    }
    let lamports = (a.sol * 1e9) as u64;
    let chain = Chain::new(&a.cluster.url);
    let sig = chain
        .rpc
        .request_airdrop(&to, lamports)
        .await
        .map_err(|e| client_failure(&chain.url, &e))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let done = chain
            .rpc
            .confirm_transaction(&sig)
            .await
            .map_err(|e| client_failure(&chain.url, &e))?;
        if done {
            break;
        }
        if Instant::now() > deadline {
            return Err(Failure::world(format!(
                "airdrop {sig} not confirmed in 30 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("{} SOL to {to}: {sig}", a.sol);
    Ok(())
}
