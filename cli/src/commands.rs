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
    existing(&chain, &network).await?;
    let state = chain.state(&network).await?;
    let (text, json) = crate::status::render(&network, &state);
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
    if let Some((n, t)) = &current {
        for w in crate::plan::warnings(
            &spec,
            &Current {
                network: n,
                topology: t,
            },
        ) {
            println!("warning: {w}");
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
        expected_group_epoch: t.group_epoch(a.group),
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

#[derive(clap::Subcommand)]
pub enum NetworkCommand {
    /// Create a network (the signer becomes creator and authority). Prefer `apply` to
    /// create everything at once from a file.
    Create {
        #[arg(long, short = 'u', default_value = "localhost")]
        url: String,
        #[arg(long, short = 'k', default_value = "~/.config/solana/id.json")]
        keypair: String,
        /// 1–32 printable ASCII characters; part of the network's address.
        #[arg(long)]
        name: String,
        #[arg(long)]
        guardian: Option<String>,
    },
}

/// Policy fields to change; the others keep their on-chain values.
#[derive(clap::Args)]
pub struct PolicyFlags {
    #[arg(long)]
    pub staleness_slots: Option<u64>,
    #[arg(long)]
    pub cooldown_slots: Option<u64>,
    #[arg(long)]
    pub quarantine_base_slots: Option<u64>,
    #[arg(long)]
    pub quarantine_max_slots: Option<u64>,
    #[arg(long)]
    pub probation_slots: Option<u64>,
    #[arg(long)]
    pub latency_degraded_ms: Option<u32>,
    #[arg(long)]
    pub latency_down_ms: Option<u32>,
    #[arg(long)]
    pub lag_degraded_slots: Option<u32>,
    #[arg(long)]
    pub lag_down_slots: Option<u32>,
    #[arg(long)]
    pub error_degraded_bps: Option<u16>,
    #[arg(long)]
    pub error_down_bps: Option<u16>,
    #[arg(long)]
    pub quorum: Option<u8>,
    #[arg(long)]
    pub breach_windows: Option<u8>,
    #[arg(long)]
    pub recovery_windows: Option<u8>,
}

#[derive(clap::Subcommand)]
pub enum PolicyCommand {
    /// Change policy fields (validated on chain; bumps the topology epoch).
    Set {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        policy: PolicyFlags,
    },
}

#[derive(clap::Subcommand)]
pub enum EndpointCommand {
    /// Add an endpoint to a group.
    Add {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 0)]
        group: u8,
        /// rpc, websocket, oracle, gateway, other.
        #[arg(long, default_value = "rpc")]
        kind: String,
        /// primary (only if the group has none), standby, retired.
        #[arg(long, default_value = "standby")]
        role: String,
        /// The endpoint's URL (http(s) or ws(s)).
        #[arg(long = "endpoint-url")]
        endpoint_url: String,
        #[arg(long, default_value = "")]
        region: String,
        #[arg(long, default_value = "")]
        provider: String,
        #[arg(long, default_value_t = 0)]
        priority: u8,
    },
    /// Change an endpoint's URL, labels, priority, or role (standby / retired).
    Update {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        id: u32,
        /// A new URL for the endpoint.
        #[arg(long = "endpoint-url")]
        endpoint_url: Option<String>,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        priority: Option<u8>,
        #[arg(long)]
        role: Option<String>,
    },
    /// Remove an endpoint (a primary only when it is the last of its group).
    Remove {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        id: u32,
    },
}

#[derive(clap::Subcommand)]
pub enum KeeperCommand {
    /// Add a keeper (creates its report account, paid by the authority).
    Add {
        #[command(flatten)]
        common: Common,
        keeper: String,
        #[arg(long, default_value = "")]
        region: String,
        #[arg(long, default_value = "")]
        provider: String,
    },
    /// Remove a keeper (closes its report, rent back to the authority).
    Remove {
        #[command(flatten)]
        common: Common,
        keeper: String,
    },
}

pub async fn network(c: NetworkCommand) -> Result<(), Failure> {
    let NetworkCommand::Create {
        url,
        keypair,
        name,
        guardian,
    } = c;
    let guardian = guardian.map(|g| address("guardian", &g)).transpose()?;
    let signer = load_keypair(&keypair)?;
    let chain = Chain::new(&url);
    let args = lifeline::instructions::CreateNetworkArgs {
        name: name.clone(),
        policy: lifeline::state::PolicyParams::default(),
        guardian,
    };
    let sig = chain
        .send(&signer, ix::create_network(&signer.pubkey(), args))
        .await?;
    println!(
        "created network {name:?} at {}: {sig}",
        pda::network(&signer.pubkey(), &name).0
    );
    Ok(())
}

pub async fn policy(c: PolicyCommand) -> Result<(), Failure> {
    let PolicyCommand::Set { common, policy: f } = c;
    let network = address("network", &common.network)?;
    let chain = Chain::new(&common.url);
    let (n, _) = existing(&chain, &network).await?;
    let mut p = lifeline::state::PolicyParams::from(&n.policy);
    macro_rules! set {
        ($($field:ident),*) => { $( if let Some(v) = f.$field { p.$field = v; } )* };
    }
    set!(
        staleness_slots,
        cooldown_slots,
        quarantine_base_slots,
        quarantine_max_slots,
        probation_slots,
        latency_degraded_ms,
        latency_down_ms,
        lag_degraded_slots,
        lag_down_slots,
        error_degraded_bps,
        error_down_bps,
        quorum,
        breach_windows,
        recovery_windows
    );
    let sig = send_simple(&common, |net, s| ix::update_policy(net, s, p)).await?;
    println!("policy updated: {sig}");
    Ok(())
}

pub async fn endpoint(c: EndpointCommand) -> Result<(), Failure> {
    use crate::plan::{kind_code, role_of};
    let sig = match c {
        EndpointCommand::Add {
            common,
            group,
            kind,
            role,
            endpoint_url: url,
            region,
            provider,
            priority,
        } => {
            let kind = kind_code(&kind).map_err(Failure::input)?;
            let role = role_of(&role).map_err(Failure::input)? as u8;
            let args = lifeline::instructions::AddEndpointArgs {
                group,
                kind,
                role,
                priority,
                url,
                region,
                provider,
            };
            send_simple(&common, |n, s| ix::add_endpoint(n, s, args)).await?
        }
        EndpointCommand::Update {
            common,
            id,
            endpoint_url: url,
            region,
            provider,
            priority,
            role,
        } => {
            let role = role
                .map(|r| role_of(&r).map(|r| r as u8))
                .transpose()
                .map_err(Failure::input)?;
            let args = lifeline::instructions::UpdateEndpointArgs {
                endpoint_id: id,
                url,
                region,
                provider,
                priority,
                role,
            };
            send_simple(&common, |n, s| ix::update_endpoint(n, s, args)).await?
        }
        EndpointCommand::Remove { common, id } => {
            send_simple(&common, |n, s| ix::remove_endpoint(n, s, id)).await?
        }
    };
    println!("done: {sig}");
    Ok(())
}

pub async fn keeper(c: KeeperCommand) -> Result<(), Failure> {
    let sig = match c {
        KeeperCommand::Add {
            common,
            keeper,
            region,
            provider,
        } => {
            let keeper = address("keeper", &keeper)?;
            let args = lifeline::instructions::AddKeeperArgs {
                keeper,
                region,
                provider,
            };
            send_simple(&common, |n, s| ix::add_keeper(n, s, args)).await?
        }
        KeeperCommand::Remove { common, keeper } => {
            let keeper = address("keeper", &keeper)?;
            send_simple(&common, |n, s| ix::remove_keeper(n, s, &keeper)).await?
        }
    };
    println!("done: {sig}");
    Ok(())
}
