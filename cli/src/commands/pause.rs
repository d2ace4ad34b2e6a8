//! `lifeline pause|resume`: the emergency brake on automatic migration and readmission.
use lifeline_client::ix;

use super::{Common, Ctx};
use crate::chain::Failure;

pub async fn run(common: Common, paused: bool) -> Result<(), Failure> {
    let ctx = Ctx::load(&common).await?;
    let n = &ctx.state.network;
    let me = ctx.me();
    if me != n.authority && (n.guardian == Default::default() || me != n.guardian) {
        return Err(Failure::input(format!(
            "{me} is neither the authority nor the guardian of network {}",
            ctx.network
        )));
    }
    if !paused && n.is_paused() && me != n.authority && n.paused_by != me {
        return Err(Failure::input(format!(
            "the pause was set by {} (the authority): the guardian may lift only its own",
            n.paused_by
        )));
    }
    let what = if paused { "paused" } else { "resumed" };
    ctx.send(
        &format!("{what} {}", ctx.network),
        ix::set_paused(&ctx.network, &me, paused),
    )
    .await
}
