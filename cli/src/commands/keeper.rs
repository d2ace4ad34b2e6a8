//! `lifeline keeper add|update|remove`.
use lifeline::instructions::{AddKeeperArgs, UpdateKeeperArgs};
use lifeline::state::text;
use lifeline_client::ix;

use super::{address, Common, Ctx};
use crate::chain::Failure;

#[derive(clap::Subcommand)]
pub enum KeeperCommand {
    /// Add a keeper to the set (its row of the ballot starts empty).
    Add {
        #[command(flatten)]
        common: Common,
        keeper: String,
        #[arg(long, default_value = "")]
        region: String,
        #[arg(long, default_value = "")]
        provider: String,
    },
    /// Change a keeper's region and provider labels (no vote depends on them).
    Update {
        #[command(flatten)]
        common: Common,
        keeper: String,
        #[arg(long)]
        region: String,
        #[arg(long)]
        provider: String,
    },
    /// Remove a keeper (its votes stop counting at once).
    Remove {
        #[command(flatten)]
        common: Common,
        keeper: String,
    },
}

fn labels(region: &str, provider: &str) -> Result<(), Failure> {
    for (what, label) in [("region", region), ("provider", provider)] {
        if !text::valid_label(label) {
            return Err(Failure::input(format!(
                "{what} {label:?} must be at most 16 bytes of printable ASCII"
            )));
        }
    }
    Ok(())
}

pub async fn run(c: KeeperCommand) -> Result<(), Failure> {
    match c {
        KeeperCommand::Add {
            common,
            keeper,
            region,
            provider,
        } => {
            let keeper = address("keeper", &keeper)?;
            labels(&region, &provider)?;
            let ctx = Ctx::load(&common).await?;
            ctx.require_authority()?;
            let args = AddKeeperArgs {
                keeper,
                region,
                provider,
            };
            ctx.send(
                &format!("added keeper {keeper}"),
                ix::add_keeper(&ctx.network, &ctx.me(), args),
            )
            .await
        }
        KeeperCommand::Update {
            common,
            keeper,
            region,
            provider,
        } => {
            let keeper = address("keeper", &keeper)?;
            labels(&region, &provider)?;
            let ctx = Ctx::load(&common).await?;
            ctx.require_authority()?;
            let args = UpdateKeeperArgs {
                keeper,
                region,
                provider,
            };
            ctx.send(
                &format!("updated keeper {keeper}"),
                ix::update_keeper(&ctx.network, &ctx.me(), args),
            )
            .await
        }
        KeeperCommand::Remove { common, keeper } => {
            let keeper = address("keeper", &keeper)?;
            let ctx = Ctx::load(&common).await?;
            ctx.require_authority()?;
            ctx.send(
                &format!("removed keeper {keeper}"),
                ix::remove_keeper(&ctx.network, &ctx.me(), &keeper),
            )
            .await
        }
    }
}
