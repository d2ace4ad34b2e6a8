//! `lifeline guardian set|remove`: the guardian may only pause (and lift its own pause).
use anchor_lang::prelude::Pubkey;
use lifeline_client::ix;

use super::{address, Common, Ctx};
use crate::chain::Failure;

#[derive(clap::Subcommand)]
pub enum GuardianCommand {
    /// Set (or replace) the guardian.
    Set {
        #[command(flatten)]
        common: Common,
        guardian: String,
    },
    /// Remove the guardian.
    Remove {
        #[command(flatten)]
        common: Common,
    },
}

pub async fn run(c: GuardianCommand) -> Result<(), Failure> {
    let (common, guardian) = match c {
        GuardianCommand::Set { common, guardian } => {
            let g = address("guardian", &guardian)?;
            if g == Pubkey::default() {
                return Err(Failure::input(
                    "use `lifeline guardian remove` to remove it",
                ));
            }
            (common, g)
        }
        GuardianCommand::Remove { common } => (common, Pubkey::default()),
    };
    let ctx = Ctx::load(&common).await?;
    ctx.require_authority()?;
    let what = if guardian == Pubkey::default() {
        "removed the guardian".to_string()
    } else {
        format!("guardian set to {guardian}")
    };
    ctx.send(&what, ix::set_guardian(&ctx.network, &ctx.me(), &guardian))
        .await
}
