//! `lifeline network create|close`.
use lifeline::instructions::CreateNetworkArgs;
use lifeline::state::{text, PolicyParams};
use lifeline_client::{ix, pda};
use solana_signer::Signer;

use super::{address, Cluster, Common, Ctx};
use crate::chain::{load_keypair, Chain, Failure};

#[derive(clap::Subcommand)]
pub enum NetworkCommand {
    /// Create a network with the default policy (the signer becomes creator and
    /// authority). Prefer `apply` to create everything at once from a file.
    Create {
        #[command(flatten)]
        cluster: Cluster,
        #[arg(
            long,
            short = 'k',
            env = "LIFELINE_KEYPAIR",
            default_value = "~/.config/solana/id.json"
        )]
        keypair: String,
        /// 1–32 printable ASCII characters; part of the network's address.
        #[arg(long)]
        name: String,
        #[arg(long)]
        guardian: Option<String>,
    },
    /// Close an empty network (no keepers, no endpoints) and refund its rent to the
    /// authority: the way out of a network created by mistake.
    Close {
        #[command(flatten)]
        common: Common,
    },
}

pub async fn run(c: NetworkCommand) -> Result<(), Failure> {
    match c {
        NetworkCommand::Create {
            cluster,
            keypair,
            name,
            guardian,
        } => {
            if !text::valid_name(&name) {
                return Err(Failure::input(format!(
                    "network name {name:?} must be 1 to 32 bytes of printable ASCII (it is part of the network's address)"
                )));
            }
            let guardian = guardian.map(|g| address("guardian", &g)).transpose()?;
            let signer = load_keypair(&keypair)?;
            let chain = Chain::new(&cluster.url);
            let network = pda::network(&signer.pubkey(), &name).0;
            if chain.maybe_state(&network).await?.is_some() {
                return Err(Failure::input(format!(
                    "network {name:?} already exists at {network}"
                )));
            }
            let args = CreateNetworkArgs {
                name: name.clone(),
                policy: PolicyParams::default(),
                guardian,
            };
            let sig = chain
                .send(&signer, &[ix::create_network(&signer.pubkey(), args)])
                .await?;
            println!("created network {name:?} at {network}: {sig}");
            Ok(())
        }
        NetworkCommand::Close { common } => {
            let ctx = Ctx::load(&common).await?;
            ctx.require_authority()?;
            let (keepers, endpoints) = (
                ctx.state.network.keeper_count,
                ctx.state.topology.endpoint_count,
            );
            if keepers > 0 || endpoints > 0 {
                return Err(Failure::input(format!(
                    "network {} still has {keepers} keepers and {endpoints} endpoints: remove them first (e.g. apply a file that lists none)",
                    ctx.network
                )));
            }
            ctx.send(
                &format!("closed network {} (rent refunded)", ctx.network),
                ix::close_network(&ctx.network, &ctx.me()),
            )
            .await
        }
    }
}
