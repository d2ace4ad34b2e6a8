//! One file per subcommand: its arguments beside its handler.
pub mod airdrop;
pub mod apply;
pub mod authority;
pub mod cost;
pub mod endpoint;
pub mod failover;
pub mod guardian;
pub mod keeper;
pub mod keygen;
pub mod localnet;
pub mod network;
pub mod pause;
pub mod policy;
pub mod status;

use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use lifeline_client::ChainState;
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::{load_keypair, Chain, Failure};

/// The cluster to talk to: `-u` (default: `$LIFELINE_URL`, else localhost).
#[derive(clap::Args, Clone, Debug)]
pub struct Cluster {
    /// RPC URL or moniker: mainnet-beta, devnet, testnet, localhost.
    #[arg(long, short = 'u', env = "LIFELINE_URL", default_value = "localhost")]
    pub url: String,
}

/// What most commands need: the cluster, the signer and the network.
#[derive(clap::Args, Clone, Debug)]
pub struct Common {
    #[command(flatten)]
    pub cluster: Cluster,
    /// Signer keypair file.
    #[arg(
        long,
        short = 'k',
        env = "LIFELINE_KEYPAIR",
        default_value = "~/.config/solana/id.json"
    )]
    pub keypair: String,
    /// The Network account address.
    #[arg(long, env = "LIFELINE_NETWORK")]
    pub network: String,
}

pub fn address(what: &str, s: &str) -> Result<Pubkey, Failure> {
    Pubkey::from_str(s).map_err(|_| Failure::input(format!("{what} {s:?} is not a valid address")))
}

/// A command's context: its chain, its signer, its network and the network's state.
pub struct Ctx {
    pub chain: Chain,
    pub signer: Keypair,
    pub network: Pubkey,
    pub state: ChainState,
}

impl Ctx {
    /// Reads the keypair and the network; every input problem is caught here, before
    /// anything is sent.
    pub async fn load(common: &Common) -> Result<Self, Failure> {
        let network = address("network", &common.network)?;
        let signer = load_keypair(&common.keypair)?;
        let chain = Chain::new(&common.cluster.url);
        let state = chain.state(&network).await?;
        Ok(Self {
            chain,
            signer,
            network,
            state,
        })
    }

    pub fn me(&self) -> Pubkey {
        self.signer.pubkey()
    }

    /// Sends one instruction signed by the signer; prints and returns its signature.
    pub async fn send(&self, what: &str, ix: Instruction) -> Result<(), Failure> {
        let sig = self.chain.send(&self.signer, &[ix]).await?;
        println!("{what}: {sig}");
        Ok(())
    }

    /// Refuses early, with the reason, when the signer is not the authority.
    pub fn require_authority(&self) -> Result<(), Failure> {
        let authority = self.state.network.authority;
        if authority != self.me() {
            return Err(Failure::input(format!(
                "{} is not the authority of network {} (its authority is {authority}); sign with -k",
                self.me(),
                self.network
            )));
        }
        Ok(())
    }
}
