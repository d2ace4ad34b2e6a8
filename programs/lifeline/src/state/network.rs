use anchor_lang::prelude::*;

use crate::ensure;

use crate::constants::*;
use crate::state::{text, Policy};

/// One keeper slot. Slots are stable (removal clears, addition fills the first empty one)
/// so that voter bitmaps in the migration history keep their meaning.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeeperEntry {
    /// `Pubkey::default()` marks an empty slot.
    pub keeper: Pubkey,
    pub region: [u8; MAX_LABEL_LEN],
    pub provider: [u8; MAX_LABEL_LEN],
}

impl KeeperEntry {
    pub fn is_empty(&self) -> bool {
        self.keeper == Pubkey::default()
    }
    pub fn region(&self) -> &str {
        text::from_fixed(&self.region)
    }
    pub fn provider(&self) -> &str {
        text::from_fixed(&self.provider)
    }
}

/// Governance and policy of one protocol's network.
/// PDA: `["network", creator, name]`.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Network {
    pub creator: Pubkey,
    pub authority: Pubkey,
    /// Two-step authority transfer: set by propose_authority, cleared by accept_authority.
    pub pending_authority: Pubkey,
    /// May pause and resume automation, nothing else. Default pubkey = none.
    pub guardian: Pubkey,
    pub policy: Policy,
    pub keepers: [KeeperEntry; MAX_KEEPERS],
    pub name: [u8; MAX_NAME_LEN],
    pub created_slot: u64,
    pub version: u8,
    pub bump: u8,
    pub topology_bump: u8,
    /// 1 = paused: no automatic migration or readmission.
    pub paused: u8,
    pub keeper_count: u8,
    pub ballot_bump: u8,
    pub padding: [u8; 2],
    /// Who set the current pause (default when not paused): the guardian may lift only a
    /// pause it set itself; the authority may lift any.
    pub paused_by: Pubkey,
    pub reserved: [u8; 96],
}

impl Network {
    pub const SPACE: usize = 8 + core::mem::size_of::<Network>();

    pub fn name(&self) -> &str {
        text::from_fixed(&self.name)
    }

    pub fn is_paused(&self) -> bool {
        self.paused != 0
    }

    pub fn keeper_index(&self, keeper: &Pubkey) -> Option<usize> {
        if *keeper == Pubkey::default() {
            return None;
        }
        self.keepers.iter().position(|k| k.keeper == *keeper)
    }

    pub fn active_keepers(&self) -> impl Iterator<Item = &KeeperEntry> {
        self.keepers.iter().filter(|k| !k.is_empty())
    }

    /// Invariants checked after every mutation of the account.
    pub fn invariant(&self) -> Result<()> {
        let count = self.active_keepers().count();
        ensure!(
            count == self.keeper_count as usize,
            crate::errors::LifelineError::TooManyKeepers
        );
        for (i, k) in self.keepers.iter().enumerate() {
            if k.is_empty() {
                continue;
            }
            ensure!(
                !self.keepers[i + 1..].iter().any(|o| o.keeper == k.keeper),
                crate::errors::LifelineError::KeeperExists
            );
        }
        crate::engine::policy::validate_thresholds(&self.policy)
            .map_err(|_| crate::errors::err(crate::errors::LifelineError::InvalidPolicy))?;
        Ok(())
    }
}
