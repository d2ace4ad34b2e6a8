//! The operator subcommands (everything but `localnet`).
use std::path::PathBuf;
use std::str::FromStr;

use anchor_lang::prelude::Pubkey;
use lifeline::instructions::ForceFailoverArgs;
use lifeline_client::{ix, pda};
use solana_signer::Signer;

use crate::chain::{load_keypair, Chain, Failure};
use crate::plan::{plan, resolve_promotion, Current, Spec};

#[derive(clap::Args, Clone)]
pub struct Common {
    /// RPC URL or moniker: mainnet-beta, devnet, testnet, localhost.
    #[arg(long, short = 'u', default_value = "localhost")]
    pub url: String,
    /// Signer keypair file.
    #[arg(long, short = 'k', default_value = "~/.config/solana/id.json")]
    pub keypair: String,
    /// The Network account address.
    #[arg(long)]
    pub network: String,
}

#[derive(clap::Args)]
pub struct StatusArgs {
    #[arg(long, short = 'u', default_value = "localhost")]
    pub url: String,
    #[arg(long)]
    pub network: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct ApplyArgs {
    /// The topology file (see migrations/topology.toml).
    #[arg(long, short = 'f')]
    pub file: PathBuf,
    #[arg(long, short = 'u', default_value = "localhost")]
    pub url: String,
    /// The authority keypair (also the network's creator: the address derives from it).
    #[arg(long, short = 'k', default_value = "~/.config/solana/id.json")]
    pub keypair: String,
    /// Print the plan, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(clap::Args)]
pub struct FailoverArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, default_value_t = 0)]
    pub group: u8,
    /// Endpoint id of the standby to promote.
    #[arg(long)]
    pub to: u32,
    /// Quarantine the old primary instead of demoting it to standby.
    #[arg(long)]
    pub quarantine: bool,
}

#[derive(clap::Subcommand)]
pub enum AuthorityCommand {
    /// Propose a new authority (it must accept).
    Propose {
        #[command(flatten)]
        common: Common,
        new_authority: String,
    },
    /// Accept the authority (signed by the proposed key).
    Accept {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(clap::Subcommand)]
pub enum GuardianCommand {
    /// Set the guardian (11111111111111111111111111111111 removes it).
    Set {
        #[command(flatten)]
        common: Common,
        guardian: String,
    },
}

fn address(what: &str, s: &str) -> Result<Pubkey, Failure> {
    Pubkey::from_str(s).map_err(|_| Failure::input(format!("{what} {s:?} is not a valid address")))
}

async fn existing(
    chain: &Chain,
    network: &Pubkey,
) -> Result<
    (
        Box<lifeline::state::Network>,
        Box<lifeline::state::Topology>,
    ),
    Failure,
> {
    chain.network(network).await?.ok_or_else(|| {
        Failure::input(format!(
            "no Lifeline network at {network} (on {})",
            chain.url
        ))
    })
}

pub async fn status(a: StatusArgs) -> Result<(), Failure> {
    let network = address("network", &a.network)?;
    let chain = Chain::new(&a.url);
    let (n, t) = existing(&chain, &network).await?;
    let reports = chain.reports(&network, &n).await?;
    let slot = chain
        .rpc
        .get_slot()
        .await
        .map_err(|e| Failure::input(format!("cannot reach {}: {e}", chain.url)))?;
    let (text, json) = crate::status::render(&network, &n, &t, &reports, slot);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        );
    } else {
        print!("{text}");
    }
    Ok(())
}

pub async fn apply(a: ApplyArgs) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&a.file)
        .map_err(|e| Failure::input(format!("cannot read {}: {e}", a.file.display())))?;
    let spec =
        Spec::parse(&text).map_err(|e| Failure::input(format!("{}: {e}", a.file.display())))?;
    let signer = load_keypair(&a.keypair)?;
    let authority = signer.pubkey();
    let network = pda::network(&authority, &spec.network.name).0;
    let chain = Chain::new(&a.url);
    let current = chain.network(&network).await?;
    if let Some((n, _)) = &current {
        if n.authority != authority {
            return Err(Failure::input(format!(
                "{} is not the authority of {network} (it is {})",
                authority, n.authority
            )));
        }
    }
    let steps = plan(
        &spec,
        &authority,
        current.as_ref().map(|(n, t)| Current {
            network: n,
            topology: t,
        }),
    );
    println!("network {:?} at {network}", spec.network.name);
    if steps.is_empty() {
        println!("nothing to change: the chain matches {}", a.file.display());
        return Ok(());
    }
    println!("plan ({} steps):", steps.len());
    for (i, s) in steps.iter().enumerate() {
        println!("  {}. {}", i + 1, s.description);
    }
    if a.dry_run {
        println!("dry run: nothing sent");
        return Ok(());
    }
    for (i, s) in steps.iter().enumerate() {
        let instruction = if s.description.starts_with("promote ") {
            let (_, t) = existing(&chain, &network).await?;
            resolve_promotion(s, &spec, &authority, &t).ok_or_else(|| {
                Failure::world(format!(
                    "step {}: the endpoint to promote is not on chain",
                    i + 1
                ))
            })?
        } else {
            s.instruction.clone()
        };
        let sig = chain.send(&signer, instruction).await.map_err(|f| Failure::world(format!("step {} ({}) failed: {}; steps before it were applied, run apply again to continue", i + 1, s.description, f.message)))?;
        println!("  ✓ {}. {}  {sig}", i + 1, s.description);
    }
    println!("applied");
    Ok(())
}

pub async fn failover(a: FailoverArgs) -> Result<(), Failure> {
    let network = address("network", &a.common.network)?;
    let signer = load_keypair(&a.common.keypair)?;
    let chain = Chain::new(&a.common.url);
    let (_, t) = existing(&chain, &network).await?;
    let args = ForceFailoverArgs {
        group: a.group,
        to_id: a.to,
        expected_epoch: t.epoch,
        quarantine_old: a.quarantine,
    };
    let sig = chain
        .send(
            &signer,
            ix::force_failover(&network, &signer.pubkey(), args),
        )
        .await?;
    println!("failed over group {} to endpoint {}: {sig}", a.group, a.to);
    Ok(())
}

pub async fn set_paused(a: Common, paused: bool) -> Result<(), Failure> {
    let network = address("network", &a.network)?;
    let signer = load_keypair(&a.keypair)?;
    let chain = Chain::new(&a.url);
    existing(&chain, &network).await?;
    let sig = chain
        .send(&signer, ix::set_paused(&network, &signer.pubkey(), paused))
        .await?;
    println!(
        "{} {network}: {sig}",
        if paused { "paused" } else { "resumed" }
    );
    Ok(())
}

/// Sends the instruction `build(network, signer)` for a command's common options.
async fn send_simple(
    common: &Common,
    build: impl FnOnce(&Pubkey, &Pubkey) -> solana_instruction::Instruction,
) -> Result<String, Failure> {
    let network = address("network", &common.network)?;
    let signer = load_keypair(&common.keypair)?;
    let chain = Chain::new(&common.url);
    existing(&chain, &network).await?;
    chain.send(&signer, build(&network, &signer.pubkey())).await
}

pub async fn authority(c: AuthorityCommand) -> Result<(), Failure> {
    let sig = match c {
        AuthorityCommand::Propose {
            common,
            new_authority,
        } => {
            let new = address("new authority", &new_authority)?;
            send_simple(&common, |n, s| ix::propose_authority(n, s, &new)).await?
        }
        AuthorityCommand::Accept { common } => send_simple(&common, ix::accept_authority).await?,
    };
    println!("done: {sig}");
    Ok(())
}

pub async fn guardian(c: GuardianCommand) -> Result<(), Failure> {
    let GuardianCommand::Set { common, guardian } = c;
    let network = address("network", &common.network)?;
    let guardian = address("guardian", &guardian)?;
    let signer = load_keypair(&common.keypair)?;
    let chain = Chain::new(&common.url);
    existing(&chain, &network).await?;
    let sig = chain
        .send(
            &signer,
            ix::set_guardian(&network, &signer.pubkey(), &guardian),
        )
        .await?;
    println!("guardian set to {guardian}: {sig}");
    Ok(())
}
