//! `lifeline keygen`: a new keypair file in the Solana CLI's format (a JSON array of 64
//! bytes), so a practice run needs no `solana` CLI.
use std::path::PathBuf;

use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::chain::Failure;

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Where to write the keypair.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub outfile: PathBuf,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub async fn run(a: KeygenArgs) -> Result<(), Failure> {
    if a.outfile.exists() && !a.force {
        return Err(Failure::input(format!(
            "{} exists; refusing to overwrite a keypair (use --force)",
            a.outfile.display()
        )));
    }
    if let Some(dir) = a.outfile.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Failure::input(format!("cannot create {}: {e}", dir.display())))?;
    }
    let key = Keypair::new();
    solana_keypair::write_keypair_file(&key, &a.outfile)
        .map_err(|e| Failure::input(format!("cannot write {}: {e}", a.outfile.display())))?;
    println!("{}", key.pubkey());
    Ok(())
}
