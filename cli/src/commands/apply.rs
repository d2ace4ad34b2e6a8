//! `lifeline apply`: topology as code. Diffs the file against the chain, prints the plan
//! (every field that changes, every difference it leaves alone and why), and applies it
//! step by step. The same checks run for `--dry-run` and for the real run, before the
//! first transaction.
use std::path::PathBuf;

use lifeline_client::plan::{self, Current, Spec};
use solana_signer::Signer;

use super::Cluster;
use crate::chain::{check_oracles, load_keypair, Chain, Failure, Signed};
use lifeline::state::EndpointKind;

#[derive(clap::Args)]
pub struct ApplyArgs {
    /// The topology file (see migrations/topology.toml).
    #[arg(long, short = 'f')]
    pub file: PathBuf,
    #[command(flatten)]
    pub cluster: Cluster,
    /// The authority keypair. The network's address derives from its creator and name:
    /// the signer, unless the file names `creator` or `address` under [network].
    #[arg(
        long,
        short = 'k',
        env = "LIFELINE_KEYPAIR",
        default_value = "~/.config/solana/id.json"
    )]
    pub keypair: String,
    /// Print the plan, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub async fn run(a: ApplyArgs) -> Result<(), Failure> {
    let text = std::fs::read_to_string(&a.file)
        .map_err(|e| Failure::input(format!("cannot read {}: {e}", a.file.display())))?;
    let spec =
        Spec::parse(&text).map_err(|e| Failure::input(format!("{}: {e}", a.file.display())))?;
    let signer = load_keypair(&a.keypair)?;
    let authority = signer.pubkey();
    let network = spec.network_address(&authority);
    let chain = Chain::new(&a.cluster.url);
    let state = chain.maybe_state(&network).await?;
    let plan = plan::plan(
        &spec,
        &authority,
        state.as_ref().map(|s| Current {
            network: &s.network,
            topology: &s.topology,
        }),
    )
    .map_err(|e| Failure::input(format!("{}: {e}", a.file.display())))?;
    let registered: Vec<&str> = state
        .as_ref()
        .map(|s| s.topology.endpoints().iter().map(|e| e.url()).collect())
        .unwrap_or_default();
    check_oracles(
        spec.endpoints
            .iter()
            .filter(|e| e.kind == EndpointKind::Oracle && !registered.contains(&e.url.as_str()))
            .map(|e| (e.label(), e.url.as_str())),
    )
    .await
    .map_err(|f| Failure::input(format!("{}: {}", a.file.display(), f.message)))?;
    println!("network {:?} at {network}", spec.network.name);
    for note in &plan.notes {
        println!("note: {note}");
    }
    if plan.steps.is_empty() {
        if plan
            .notes
            .iter()
            .any(|n| n.starts_with("drift") || n.starts_with("group "))
        {
            println!("nothing to apply: the differences above are left as they are on purpose");
        } else {
            println!(
                "nothing to change: the chain has what {} asks for",
                a.file.display()
            );
        }
        return Ok(());
    }
    println!("plan ({} steps):", plan.steps.len());
    for (i, s) in plan.steps.iter().enumerate() {
        println!("  {}. {}", i + 1, s.describe());
    }
    if a.dry_run {
        println!("dry run: nothing sent");
        return Ok(());
    }
    let target = Signed {
        chain: &chain,
        signer: &signer,
        last_failure: Default::default(),
    };
    plan::apply(&target, &plan, &authority, |i, step, sig| {
        println!("  ✓ {i}. {}  {sig}", step.describe());
    })
    .await
    .map_err(|e| Failure {
        kind: target
            .last_failure
            .lock()
            .unwrap()
            .unwrap_or(crate::failure::Kind::Other),
        message: e.to_string(),
    })?;
    println!("applied");
    Ok(())
}
