use anchor_lang::prelude::*;

use crate::ensure;

use crate::constants::*;
use crate::errors::LifelineError;
use crate::state::{text, Reason, Role};

/// One authorized endpoint.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Slot the endpoint took its current role.
    pub since_slot: u64,
    /// While quarantined: the first slot at which readmission may be considered.
    pub quarantine_until_slot: u64,
    /// Topology epoch at which what keepers probe (URL, kind) last changed: a keeper's
    /// vote about this endpoint counts only if it had read this epoch.
    pub config_epoch: u64,
    /// Stable id, assigned by the program, never reused within a topology.
    pub id: u32,
    /// Times this endpoint was ejected (drives the growing quarantine).
    pub ejection_count: u16,
    pub group: u8,
    pub kind: u8,
    pub role: u8,
    /// Lower is preferred when choosing a standby.
    pub priority: u8,
    /// `Reason` of the last ejection.
    pub last_reason: u8,
    pub url_len: u8,
    pub url: [u8; MAX_URL_LEN],
    pub region: [u8; MAX_LABEL_LEN],
    pub provider: [u8; MAX_LABEL_LEN],
    pub padding: [u8; 4],
}

impl Default for Endpoint {
    fn default() -> Self {
        Self {
            since_slot: 0,
            quarantine_until_slot: 0,
            config_epoch: 0,
            id: 0,
            ejection_count: 0,
            group: 0,
            kind: 0,
            role: 0,
            priority: 0,
            last_reason: 0,
            url_len: 0,
            url: [0; MAX_URL_LEN],
            region: [0; MAX_LABEL_LEN],
            provider: [0; MAX_LABEL_LEN],
            padding: [0; 4],
        }
    }
}

impl Endpoint {
    pub fn role(&self) -> Option<Role> {
        Role::from_u8(self.role)
    }
    pub fn url(&self) -> &str {
        text::from_fixed(&self.url[..(self.url_len as usize).min(MAX_URL_LEN)])
    }
    pub fn region(&self) -> &str {
        text::from_fixed(&self.region)
    }
    pub fn provider(&self) -> &str {
        text::from_fixed(&self.provider)
    }
    pub fn kind(&self) -> Option<crate::state::EndpointKind> {
        crate::state::EndpointKind::from_u8(self.kind)
    }
    /// Serving or ready to serve.
    pub fn in_rotation(&self) -> bool {
        matches!(self.role(), Some(Role::Primary | Role::Standby))
    }
}

/// Why a migration record exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum MigrationCause {
    Automatic = 1,
    Manual = 2,
}

/// One past migration with its evidence, kept on chain so history needs no log indexer.
#[zero_copy]
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MigrationRecord {
    pub slot: u64,
    /// Topology epoch after the migration.
    pub new_epoch: u64,
    /// `u32::MAX` when the group had no primary.
    pub from_id: u32,
    pub to_id: u32,
    pub median_latency_ms: u32,
    pub median_slot_lag: u32,
    pub median_error_bps: u16,
    /// Bit i set = keeper slot i voted for the breach (see Network.keepers).
    pub voters: u16,
    pub group: u8,
    /// `Reason` (the rule that fired).
    pub rule: u8,
    /// `MigrationCause`.
    pub cause: u8,
    pub voter_count: u8,
}

impl MigrationRecord {
    /// The demoted primary (None when the group had none).
    pub fn from(&self) -> Option<u32> {
        (self.from_id != u32::MAX).then_some(self.from_id)
    }
}

pub use account::Topology;

/// `#[account(zero_copy)]` derives `Clone` and `Zeroable::zeroed`, which return the whole
/// 6.7 KB account by value. The program never calls them (it reads and writes the account
/// in place), so the stack lint is allowed for the generated code of this one struct only.
#[allow(clippy::large_stack_frames)]
mod account {
    use super::*;

    /// The hot state frontends read in one account fetch. PDA: `["topology", network]`.
    #[account(zero_copy)]
    #[derive(Debug)]
    pub struct Topology {
        pub network: Pubkey,
        /// Bumped on every change; monotonic (followers never go back to an older one).
        pub epoch: u64,
        /// The epoch at which the policy was last set: reports read before it do not count
        /// (their streaks were judged under other thresholds).
        pub policy_epoch: u64,
        /// Per group, the epoch of the group's last change. Permissionless calls name the
        /// group epoch they expect, so a change to one group never invalidates a decision
        /// about another.
        pub group_epochs: [u64; MAX_GROUPS],
        /// Per group, the slot of the last migration (0 = never).
        pub last_migration_slot: [u64; MAX_GROUPS],
        /// Migrations ever recorded; the newest is at `(history_total - 1) % HISTORY_LEN`.
        pub history_total: u64,
        pub endpoints: [Endpoint; MAX_ENDPOINTS],
        pub history: [MigrationRecord; HISTORY_LEN],
        pub next_endpoint_id: u32,
        pub version: u8,
        pub bump: u8,
        pub endpoint_count: u8,
        pub padding: [u8; 1],
        pub reserved: [u8; 56],
    }
}

impl Topology {
    pub const SPACE: usize = 8 + core::mem::size_of::<Topology>();

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints[..(self.endpoint_count as usize).min(MAX_ENDPOINTS)]
    }

    pub fn index_of(&self, id: u32) -> Option<usize> {
        self.endpoints().iter().position(|e| e.id == id)
    }

    /// The position of endpoint `id`, looked up at `hint` first: observations come in
    /// topology order, so the hint is usually right and a lookup costs one comparison.
    pub fn index_of_near(&self, id: u32, hint: usize) -> Option<usize> {
        match self.endpoints().get(hint) {
            Some(e) if e.id == id => Some(hint),
            _ => self.index_of(id),
        }
    }

    pub fn endpoint(&self, id: u32) -> Option<&Endpoint> {
        self.endpoints().iter().find(|e| e.id == id)
    }

    pub fn primary_of(&self, group: u8) -> Option<&Endpoint> {
        self.endpoints()
            .iter()
            .find(|e| e.group == group && e.role() == Some(Role::Primary))
    }

    pub fn bump_epoch(&mut self) -> Result<u64> {
        self.epoch = self
            .epoch
            .checked_add(1)
            .ok_or(crate::errors::err(LifelineError::Overflow))?;
        Ok(self.epoch)
    }

    /// Records a change to `group`: bumps the epoch and makes it the group's epoch.
    pub fn touch_group(&mut self, group: u8) -> Result<u64> {
        let epoch = self.bump_epoch()?;
        self.group_epochs[group as usize] = epoch;
        Ok(epoch)
    }

    pub fn group_epoch(&self, group: u8) -> u64 {
        self.group_epochs
            .get(group as usize)
            .copied()
            .unwrap_or_default()
    }

    /// The newest records first.
    pub fn recent_migrations(&self) -> impl Iterator<Item = &MigrationRecord> {
        let n = (self.history_total as usize).min(HISTORY_LEN);
        (0..n).map(move |k| {
            let idx = (self.history_total as usize - 1 - k) % HISTORY_LEN;
            &self.history[idx]
        })
    }

    pub fn push_history(&mut self, record: MigrationRecord) {
        let idx = (self.history_total % HISTORY_LEN as u64) as usize;
        self.history[idx] = record;
        self.history_total = self.history_total.saturating_add(1);
    }

    /// Removes the endpoint at `idx`, keeping the array compact (ids are stable, positions
    /// not): the last endpoint moves into `idx`. Returns the position it moved from, so
    /// the ballot can move its column the same way.
    pub fn remove_at(&mut self, idx: usize) -> usize {
        let last = self.endpoint_count as usize - 1;
        self.endpoints[idx] = self.endpoints[last];
        self.endpoints[last] = Endpoint::default();
        self.endpoint_count -= 1;
        last
    }

    /// Invariants checked after every mutation of the account.
    pub fn invariant(&self) -> Result<()> {
        self.roles_invariant()?;
        let eps = self.endpoints();
        for (i, e) in eps.iter().enumerate() {
            ensure!(
                e.id < self.next_endpoint_id,
                LifelineError::EndpointNotFound
            );
            let id = e.id;
            ensure!(
                eps[i + 1..].iter().all(|o| o.id != id),
                LifelineError::DuplicateEndpoint
            );
        }
        Ok(())
    }

    /// The part of the invariant a change of roles can break: every role valid, every
    /// group valid, at most one primary per group. Failovers and readmissions change roles
    /// only (ids and groups are the authority's), and at 32 endpoints the all-pairs id
    /// check cost ~2.5k compute units for each migration of an attestation.
    pub fn roles_invariant(&self) -> Result<()> {
        ensure!(
            (self.endpoint_count as usize) <= MAX_ENDPOINTS,
            LifelineError::TooManyEndpoints
        );
        let mut primaries = [false; MAX_GROUPS];
        for e in self.endpoints() {
            let role = e.role();
            ensure!(role.is_some(), LifelineError::InvalidRole);
            ensure!((e.group as usize) < MAX_GROUPS, LifelineError::InvalidGroup);
            if role == Some(Role::Primary) {
                let seen = &mut primaries[e.group as usize];
                ensure!(!*seen, LifelineError::PrimaryExists);
                *seen = true;
            }
        }
        Ok(())
    }
}

/// Reason codes are stored as u8; keep the conversion in one place.
impl From<Reason> for u8 {
    fn from(r: Reason) -> u8 {
        r as u8
    }
}

impl Topology {
    /// Applies a failover described by `record` (group, from, to, rule, cause, evidence;
    /// `slot` and `new_epoch` are filled in here): the old primary (if any) is quarantined
    /// until `quarantine_until_slot`, or demoted to standby when that is None (a manual
    /// failover without quarantine); the target becomes primary; the group's epoch is
    /// bumped and the migration recorded. Returns (old_epoch, new_epoch).
    pub fn apply_failover(
        &mut self,
        record: MigrationRecord,
        quarantine_until_slot: Option<u64>,
        now: u64,
    ) -> Result<(u64, u64)> {
        if let Some(from) = record.from() {
            let i = self.index_of(from).ok_or(LifelineError::EndpointNotFound)?;
            let old = &mut self.endpoints[i];
            old.since_slot = now;
            old.last_reason = record.rule;
            match quarantine_until_slot {
                Some(until) => {
                    old.role = Role::Quarantined as u8;
                    old.quarantine_until_slot = until;
                    old.ejection_count = old.ejection_count.saturating_add(1);
                }
                None => old.role = Role::Standby as u8,
            }
        }
        let j = self
            .index_of(record.to_id)
            .ok_or(LifelineError::EndpointNotFound)?;
        let new = &mut self.endpoints[j];
        new.role = Role::Primary as u8;
        new.since_slot = now;
        new.quarantine_until_slot = 0;

        let old_epoch = self.epoch;
        let new_epoch = self.touch_group(record.group)?;
        self.last_migration_slot[record.group as usize] = now;
        self.push_history(MigrationRecord {
            slot: now,
            new_epoch,
            ..record
        });
        self.roles_invariant()?;
        Ok((old_epoch, new_epoch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;

    #[test]
    fn the_epoch_refuses_to_wrap() {
        let mut t: Box<Topology> = Box::new(Topology::zeroed());
        t.epoch = u64::MAX - 1;
        assert_eq!(t.bump_epoch().unwrap(), u64::MAX);
        assert!(t.bump_epoch().is_err());
        assert_eq!(t.epoch, u64::MAX, "unchanged on failure");
    }

    #[test]
    fn history_is_a_ring_of_the_newest_records() {
        let mut t: Box<Topology> = Box::new(Topology::zeroed());
        for slot in 1..=(HISTORY_LEN as u64 + 3) {
            t.push_history(MigrationRecord {
                slot,
                ..MigrationRecord::default()
            });
        }
        let slots: Vec<u64> = t.recent_migrations().map(|r| r.slot).collect();
        let newest = HISTORY_LEN as u64 + 3;
        assert_eq!(slots, (4..=newest).rev().collect::<Vec<_>>());
    }
}
