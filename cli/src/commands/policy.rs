//! `lifeline policy set --<field> <value>…`: the flags come from the policy's field table
//! (`PolicyParams::FIELDS`), so a new policy field is a new flag without touching this file.
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use lifeline::engine::policy::validate;
use lifeline::state::PolicyParams;
use lifeline_client::ix;
use lifeline_client::plan::Change;

use super::{Common, Ctx};
use crate::chain::Failure;

#[derive(clap::Subcommand)]
pub enum PolicyCommand {
    /// Change policy fields; the others keep their on-chain values. Checked here with the
    /// program's own rules before anything is sent.
    Set {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        fields: PolicyFlags,
    },
}

/// `--<field> <value>` for every policy field.
#[derive(Clone, Debug, Default)]
pub struct PolicyFlags(pub Vec<(&'static str, u64)>);

fn flag(name: &str) -> String {
    name.replace('_', "-")
}

impl Args for PolicyFlags {
    fn augment_args(cmd: Command) -> Command {
        cmd.args(PolicyParams::FIELDS.iter().map(|f| {
            Arg::new(f.name)
                .long(flag(f.name))
                .value_name("N")
                .value_parser(clap::value_parser!(u64).range(..=f.max))
                .help(format!(
                    "{} [default {}]",
                    f.doc
                        .replace('\n', " ")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                    f.default
                ))
        }))
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for PolicyFlags {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        Ok(Self(
            PolicyParams::FIELDS
                .iter()
                .filter_map(|f| m.get_one::<u64>(f.name).map(|v| (f.name, *v)))
                .collect(),
        ))
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

pub async fn run(c: PolicyCommand) -> Result<(), Failure> {
    let PolicyCommand::Set { common, fields } = c;
    if fields.0.is_empty() {
        return Err(Failure::input(
            "name at least one field to change (lifeline policy set --help lists them)",
        ));
    }
    let ctx = Ctx::load(&common).await?;
    ctx.require_authority()?;
    let old = PolicyParams::from(&ctx.state.network.policy);
    let mut new = old;
    for (name, value) in &fields.0 {
        let f = PolicyParams::field(name).expect("from the table");
        if !(f.set)(&mut new, *value) {
            return Err(Failure::input(format!(
                "--{}: {value} is too large",
                flag(name)
            )));
        }
    }
    validate(&new.into(), ctx.state.network.keeper_count as usize)
        .map_err(|e| Failure::input(e.to_string()))?;
    let changes: Vec<String> = PolicyParams::FIELDS
        .iter()
        .filter(|f| (f.get)(&old) != (f.get)(&new))
        .map(|f| {
            Change {
                field: f.name,
                from: (f.get)(&old).to_string(),
                to: (f.get)(&new).to_string(),
            }
            .to_string()
        })
        .collect();
    if changes.is_empty() {
        println!("nothing to change: the policy already says that");
        return Ok(());
    }
    ctx.send(
        &format!("policy updated ({})", changes.join(", ")),
        ix::update_policy(&ctx.network, &ctx.me(), new),
    )
    .await
}
