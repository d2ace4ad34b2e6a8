//! `lifeline endpoint add|update|remove`: every input is checked with the program's rules
//! and the kind's own (an oracle URL needs its JSON pointer, a websocket a ws URL) before
//! anything is sent.
use lifeline::instructions::{AddEndpointArgs, UpdateEndpointArgs};
use lifeline::state::{text, EndpointKind, Role};
use lifeline_client::{ix, kinds};

use super::{Common, Ctx};
use crate::chain::{check_oracles, Failure};

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum RoleArg {
    Primary,
    Standby,
    Retired,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Role {
        match r {
            RoleArg::Primary => Role::Primary,
            RoleArg::Standby => Role::Standby,
            RoleArg::Retired => Role::Retired,
        }
    }
}

fn kind(s: &str) -> Result<EndpointKind, String> {
    kinds::parse(s)
}

#[derive(clap::Subcommand)]
pub enum EndpointCommand {
    /// Add an endpoint to a group.
    Add {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 0)]
        group: u8,
        /// rpc, websocket, oracle, gateway, grpc, other.
        #[arg(long, default_value = "rpc", value_parser = kind)]
        kind: EndpointKind,
        /// primary (only if the group has none), standby, retired.
        #[arg(long, value_enum, default_value = "standby")]
        role: RoleArg,
        /// The endpoint's URL. An oracle's names its timestamp with a JSON pointer as the
        /// fragment: https://prices.example/latest#/price/publish_time
        #[arg(long = "endpoint-url")]
        endpoint_url: String,
        #[arg(long, default_value = "")]
        region: String,
        #[arg(long, default_value = "")]
        provider: String,
        /// Lower is preferred when choosing a standby.
        #[arg(long, default_value_t = 0)]
        priority: u8,
    },
    /// Change an endpoint's URL, labels, priority, or role (standby / retired).
    Update {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        id: u32,
        /// A new URL (another server: every keeper's votes about it start over).
        #[arg(long = "endpoint-url")]
        endpoint_url: Option<String>,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        priority: Option<u8>,
        /// standby or retired (promotion goes through `lifeline failover`).
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
    },
    /// Remove an endpoint (a primary only when it is the last of its group).
    Remove {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        id: u32,
    },
}

fn check(kind: EndpointKind, url: &str, region: &str, provider: &str) -> Result<(), Failure> {
    if !text::valid_url(url) {
        return Err(Failure::input(format!(
            "endpoint {url}: the URL must be at most 128 bytes of printable ASCII with an http(s) or ws(s) scheme"
        )));
    }
    kinds::check_url(kind, url).map_err(|p| Failure::input(format!("endpoint {url}: {p}")))?;
    for (what, label) in [("region", region), ("provider", provider)] {
        if !text::valid_label(label) {
            return Err(Failure::input(format!(
                "endpoint {url}: {what} {label:?} must be at most 16 bytes of printable ASCII"
            )));
        }
    }
    Ok(())
}

pub async fn run(c: EndpointCommand) -> Result<(), Failure> {
    match c {
        EndpointCommand::Add {
            common,
            group,
            kind,
            role,
            endpoint_url,
            region,
            provider,
            priority,
        } => {
            let args = AddEndpointArgs {
                group,
                kind: kind as u8,
                role: Role::from(role) as u8,
                priority,
                url: endpoint_url,
                region,
                provider,
            };
            add(&common, kind, args).await
        }
        EndpointCommand::Update {
            common,
            id,
            endpoint_url,
            region,
            provider,
            priority,
            role,
        } => {
            if matches!(role, Some(RoleArg::Primary)) {
                return Err(Failure::input(
                    "promotion goes through `lifeline failover --group G --to ID`",
                ));
            }
            let args = UpdateEndpointArgs {
                endpoint_id: id,
                url: endpoint_url,
                region,
                provider,
                priority,
                role: role.map(|r| Role::from(r) as u8),
            };
            update(&common, args).await
        }
        EndpointCommand::Remove { common, id } => {
            let ctx = Ctx::load(&common).await?;
            ctx.require_authority()?;
            ctx.send(
                &format!("removed endpoint {id}"),
                ix::remove_endpoint(&ctx.network, &ctx.me(), id),
            )
            .await
        }
    }
}

/// `endpoint add`: every check the program makes, and an oracle's answer, before paying.
async fn add(common: &Common, kind: EndpointKind, args: AddEndpointArgs) -> Result<(), Failure> {
    check(kind, &args.url, &args.region, &args.provider)?;
    if kind == EndpointKind::Oracle {
        check_oracles([(format!("endpoint {}", args.url), args.url.as_str())]).await?;
    }
    let ctx = Ctx::load(common).await?;
    ctx.require_authority()?;
    let what = format!(
        "added {} endpoint {} to group {}",
        kinds::name(kind),
        args.url,
        args.group
    );
    ctx.send(&what, ix::add_endpoint(&ctx.network, &ctx.me(), args))
        .await
}

/// `endpoint update`: the endpoint's kind decides what its new URL must look like.
async fn update(common: &Common, args: UpdateEndpointArgs) -> Result<(), Failure> {
    let ctx = Ctx::load(common).await?;
    ctx.require_authority()?;
    let id = args.endpoint_id;
    let e =
        ctx.state.topology.endpoint(id).copied().ok_or_else(|| {
            Failure::input(format!("network {} has no endpoint {id}", ctx.network))
        })?;
    let kind = e.kind().unwrap_or(EndpointKind::Other);
    check(
        kind,
        args.url.as_deref().unwrap_or(e.url()),
        args.region.as_deref().unwrap_or(""),
        args.provider.as_deref().unwrap_or(""),
    )?;
    if let (EndpointKind::Oracle, Some(new_url)) = (kind, &args.url) {
        check_oracles([(format!("endpoint {id}"), new_url.as_str())]).await?;
    }
    ctx.send(
        &format!("updated endpoint {id}"),
        ix::update_endpoint(&ctx.network, &ctx.me(), args),
    )
    .await
}
