//! `lifeline cost`: what keepers cost a protocol, from the keeper's real attestation and
//! its heartbeat rule (lifeline_keeper::cost), for a few keeper-set sizes, and the rent a
//! network's accounts hold. Offline; the policy is the default or a topology file's.
use std::path::PathBuf;

use lifeline::state::{Policy, PolicyParams};
use lifeline_client::plan::Spec;
use lifeline_keeper::attest::heartbeat_slots;
use lifeline_keeper::cost::{keeper_cost, rent, LAMPORTS_PER_SOL, SLOT_MS};

use crate::chain::Failure;

#[derive(clap::Args)]
pub struct CostArgs {
    /// Keeper-set sizes to price (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "4,7,16")]
    pub keepers: Vec<u64>,
    /// Endpoints each attestation covers (it carries every endpoint).
    #[arg(long, default_value_t = 32)]
    pub endpoints: usize,
    /// The keepers' priority fee cap, micro-lamports per compute unit (their
    /// `priority_fee_cap_microlamports`).
    #[arg(long, default_value_t = 100_000)]
    pub fee_cap: u64,
    /// Price the policy of this topology file instead of the default policy.
    #[arg(long, short = 'f')]
    pub file: Option<PathBuf>,
}

fn sol(lamports: u64) -> String {
    format!("{:.4} SOL", lamports as f64 / LAMPORTS_PER_SOL as f64)
}

fn policy(file: &Option<PathBuf>) -> Result<(Policy, String), Failure> {
    let Some(path) = file else {
        return Ok((PolicyParams::default().into(), "the default policy".into()));
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::input(format!("cannot read {}: {e}", path.display())))?;
    let spec =
        Spec::parse(&text).map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
    let params = spec
        .policy()
        .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
    Ok((params.into(), format!("the policy of {}", path.display())))
}

/// The whole report, as markdown (what docs/operator-guide.md holds).
pub fn report(a: &CostArgs) -> Result<String, Failure> {
    if a.keepers.is_empty() || a.keepers.iter().any(|k| !(1..=16).contains(k)) {
        return Err(Failure::input(
            "--keepers: sizes from 1 to 16 (the program's limit)",
        ));
    }
    if !(1..=32).contains(&a.endpoints) {
        return Err(Failure::input("--endpoints: 1 to 32 (the program's limit)"));
    }
    let (policy, which) = policy(&a.file)?;
    let c = keeper_cost(&policy, a.endpoints, a.fee_cap);
    let beat = heartbeat_slots(&policy);
    let mut out = String::new();
    out += &format!(
        "Steady state (nothing failing) under {which}: a keeper attests once per heartbeat, every {beat} slots (liveness_slots {} / 3, about {} s at {SLOT_MS} ms a slot): {} attestations a month. Each is one transaction, {} signature, {} bytes for {} endpoints, asking for {} compute units; the base fee is 5,000 lamports a signature, and the priority fee, when the keeper pays one, is at most {} micro-lamports × {} units = {} lamports.\n\n",
        policy.liveness_slots,
        beat * SLOT_MS / 1_000,
        c.attestations_per_month,
        c.signatures,
        c.attestation_bytes,
        a.endpoints,
        c.compute_unit_limit,
        a.fee_cap,
        c.compute_unit_limit,
        (c.compute_unit_limit as u64 * a.fee_cap).div_ceil(1_000_000),
    );
    out += "| keepers | attestations / month | base fees / month | with the priority fee at its cap |\n";
    out += "| --- | --- | --- | --- |\n";
    for &n in &a.keepers {
        out += &format!(
            "| {n} | {} | {} | {} |\n",
            c.attestations_per_month * n,
            sol(c.base_per_month * n),
            sol((c.base_per_month + c.priority_at_cap_per_month) * n),
        );
    }
    out += "\nOne-time rent (a deposit `lifeline network close` refunds):\n\n";
    out += "| account | bytes | rent-exempt deposit |\n| --- | --- | --- |\n";
    let accounts = rent();
    for (name, size, lamports) in &accounts {
        out += &format!("| {name} | {size} | {} |\n", sol(*lamports));
    }
    let total: u64 = accounts.iter().map(|(_, _, l)| l).sum();
    out += &format!("| total | | {} |\n", sol(total));
    Ok(out)
}

pub async fn run(a: CostArgs) -> Result<(), Failure> {
    print!("{}", report(&a)?);
    Ok(())
}
