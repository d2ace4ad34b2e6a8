//! Optional persistence (`--ledger DIR`): the accounts that transactions wrote, and the
//! slot, so a restarted localnet resumes with the same network state. Written atomically
//! (temp file + rename) every 25 slots and on shutdown.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use solana_account::AccountSharedData;
use solana_pubkey::Pubkey;

const FILE: &str = "accounts.bin";
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
pub struct Snapshot {
    pub format: u32,
    pub slot: u64,
    pub accounts: Vec<(Pubkey, AccountSharedData)>,
}

pub struct Ledger {
    dir: PathBuf,
}

impl Ledger {
    pub fn open(dir: &Path) -> Result<Self, crate::Error> {
        std::fs::create_dir_all(dir)
            .map_err(|e| crate::Error::Ledger(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    pub fn load(&self) -> Result<Option<Snapshot>, crate::Error> {
        let path = self.dir.join(FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(crate::Error::Ledger(format!(
                    "cannot read {}: {e}",
                    path.display()
                )))
            }
        };
        let snap: Snapshot = bincode::deserialize(&bytes).map_err(|e| {
            crate::Error::Ledger(format!("{} is not a localnet ledger: {e}", path.display()))
        })?;
        if snap.format != FORMAT_VERSION {
            return Err(crate::Error::Ledger(format!(
                "{} has format {}, this localnet reads {FORMAT_VERSION}",
                path.display(),
                snap.format
            )));
        }
        Ok(Some(snap))
    }

    pub fn save(&self, slot: u64, accounts: &[(Pubkey, AccountSharedData)]) -> std::io::Result<()> {
        let snap = Snapshot {
            format: FORMAT_VERSION,
            slot,
            accounts: accounts.to_vec(),
        };
        let bytes = bincode::serialize(&snap).map_err(std::io::Error::other)?;
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(tmp, self.dir.join(FILE))
    }
}
