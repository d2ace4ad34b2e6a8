//! `lifeline failover`: the authority moves a group's role by hand (works while paused,
//! ignores quorum and cooldown, recorded as manual).
use lifeline::instructions::ForceFailoverArgs;
use lifeline_client::ix;

use super::{Common, Ctx};
use crate::chain::Failure;

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

pub async fn run(a: FailoverArgs) -> Result<(), Failure> {
    let ctx = Ctx::load(&a.common).await?;
    ctx.require_authority()?;
    let args = ForceFailoverArgs {
        group: a.group,
        to_id: a.to,
        expected_group_epoch: ctx.state.topology.group_epoch(a.group),
        quarantine_old: a.quarantine,
    };
    ctx.send(
        &format!("failed over group {} to endpoint {}", a.group, a.to),
        ix::force_failover(&ctx.network, &ctx.me(), args),
    )
    .await
}
