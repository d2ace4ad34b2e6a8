//! A plain, owned view of a network's topology: what frontends and routers follow.
use anchor_lang::prelude::Pubkey;
use lifeline::state::{MigrationRecord, Role, Topology};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointView {
    pub id: u32,
    pub group: u8,
    pub kind: u8,
    pub role: Role,
    pub url: String,
    pub region: String,
    pub provider: String,
    pub priority: u8,
    pub since_slot: u64,
    pub quarantine_until_slot: u64,
    pub ejection_count: u16,
}

/// The topology at one epoch, as read at `slot`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologyView {
    pub network: Pubkey,
    pub epoch: u64,
    /// Per group, the epoch of its last change (what permissionless calls name).
    pub group_epochs: [u64; lifeline::constants::MAX_GROUPS],
    /// Context slot of the read that produced this view.
    pub slot: u64,
    pub endpoints: Vec<EndpointView>,
    /// Newest first.
    pub migrations: Vec<MigrationRecord>,
}

impl TopologyView {
    pub fn from_account(t: &Topology, slot: u64) -> Self {
        let endpoints = t
            .endpoints()
            .iter()
            .filter_map(|e| {
                Some(EndpointView {
                    id: e.id,
                    group: e.group,
                    kind: e.kind,
                    role: e.role()?,
                    url: e.url().to_string(),
                    region: e.region().to_string(),
                    provider: e.provider().to_string(),
                    priority: e.priority,
                    since_slot: e.since_slot,
                    quarantine_until_slot: e.quarantine_until_slot,
                    ejection_count: e.ejection_count,
                })
            })
            .collect();
        Self {
            network: t.network,
            epoch: t.epoch,
            group_epochs: t.group_epochs,
            slot,
            endpoints,
            migrations: t.recent_migrations().copied().collect(),
        }
    }

    pub fn group_epoch(&self, group: u8) -> u64 {
        self.group_epochs
            .get(group as usize)
            .copied()
            .unwrap_or_default()
    }

    pub fn primary(&self, group: u8) -> Option<&EndpointView> {
        self.endpoints
            .iter()
            .find(|e| e.group == group && e.role == Role::Primary)
    }

    /// Standbys of `group`, preferred first (priority, then id).
    pub fn standbys(&self, group: u8) -> Vec<&EndpointView> {
        let mut s: Vec<&EndpointView> = self
            .endpoints
            .iter()
            .filter(|e| e.group == group && e.role == Role::Standby)
            .collect();
        s.sort_by_key(|e| (e.priority, e.id));
        s
    }

    /// Endpoints that may serve `group`, in order: the primary, then the standbys.
    /// Quarantined and retired endpoints are never included.
    pub fn serving(&self, group: u8) -> Vec<&EndpointView> {
        self.primary(group)
            .into_iter()
            .chain(self.standbys(group))
            .collect()
    }
}
