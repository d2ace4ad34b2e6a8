//! `lifeline authority propose|accept|cancel`: the two-step transfer.
use anchor_lang::prelude::Pubkey;
use lifeline_client::ix;

use super::{address, Common, Ctx};
use crate::chain::Failure;

#[derive(clap::Subcommand)]
pub enum AuthorityCommand {
    /// Propose a new authority (it must accept). The guardian stays.
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
    /// Withdraw a proposal.
    Cancel {
        #[command(flatten)]
        common: Common,
    },
}

pub async fn run(c: AuthorityCommand) -> Result<(), Failure> {
    match c {
        AuthorityCommand::Propose {
            common,
            new_authority,
        } => {
            let new = address("new authority", &new_authority)?;
            let ctx = Ctx::load(&common).await?;
            ctx.require_authority()?;
            ctx.send(
                &format!("proposed {new} as authority (it must accept)"),
                ix::propose_authority(&ctx.network, &ctx.me(), &new),
            )
            .await
        }
        AuthorityCommand::Accept { common } => {
            let ctx = Ctx::load(&common).await?;
            if ctx.state.network.pending_authority != ctx.me() {
                return Err(Failure::input(format!(
                    "{} is not the proposed authority of {}",
                    ctx.me(),
                    ctx.network
                )));
            }
            ctx.send(
                "accepted the authority",
                ix::accept_authority(&ctx.network, &ctx.me()),
            )
            .await
        }
        AuthorityCommand::Cancel { common } => {
            let ctx = Ctx::load(&common).await?;
            ctx.require_authority()?;
            ctx.send(
                "withdrew the proposal",
                ix::propose_authority(&ctx.network, &ctx.me(), &Pubkey::default()),
            )
            .await
        }
    }
}
