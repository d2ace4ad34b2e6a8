//! Should a group fail over now, and to which standby?
use crate::constants::MAX_GROUPS;
use crate::engine::{
    ballot::tally_at, policy::quarantine_slots, Electorate, Refusal, Snapshot, Tally,
};
use crate::state::{Endpoint, MigrationCause, MigrationRecord, Reason, Role};

/// A migration the chain would accept, with its evidence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MigrationPlan {
    pub group: u8,
    /// None when the group had no primary (vacancy filled).
    pub from_id: Option<u32>,
    pub to_id: u32,
    pub rule: Reason,
    /// The failed primary's tally (for a vacancy: the promoted standby's).
    pub evidence: Tally,
    /// The keepers the migration rests on: the primary's down voters, or for a vacancy
    /// the promoted standby's healthy voters (bitmap over keeper slots).
    pub voters: u16,
    /// Until when the failed primary stays quarantined (0 for a vacancy).
    pub quarantine_until_slot: u64,
}

impl MigrationPlan {
    /// The history record the program stores (slot and epoch are filled in on apply).
    pub fn record(&self) -> MigrationRecord {
        MigrationRecord {
            from_id: self.from_id.unwrap_or(u32::MAX),
            to_id: self.to_id,
            median_latency_ms: self.evidence.median_latency_ms,
            median_slot_lag: self.evidence.median_slot_lag,
            median_error_bps: self.evidence.median_error_bps,
            voters: self.voters,
            group: self.group,
            rule: self.rule as u8,
            cause: MigrationCause::Automatic as u8,
            voter_count: self.voters.count_ones() as u8,
            ..MigrationRecord::default()
        }
    }
}

/// Decides whether `group` migrates now. Rules, in order: the network is not paused; the
/// primary is in breach by quorum (or the group has none); the group is out of cooldown
/// (for a vacancy too); some standby is quorum-healthy (never eject the last healthy
/// endpoint: without a healthy standby the primary stays); no better-ranked standby is
/// still undecided (it could yet be voted healthy); the best standby wins (see `rank`).
pub fn decide_migration(
    snap: &Snapshot,
    electorate: &Electorate,
    group: u8,
) -> Result<MigrationPlan, Refusal> {
    if group as usize >= MAX_GROUPS {
        return Err(Refusal::InvalidGroup);
    }
    if snap.network.is_paused() {
        return Err(Refusal::Paused);
    }
    let policy = &snap.network.policy;
    let endpoints = snap.topology.endpoints();
    let primary = endpoints
        .iter()
        .position(|e| e.group == group && e.role() == Some(Role::Primary));
    let primary_tally = match primary {
        Some(j) => {
            let t = tally_at(snap, electorate, j);
            if (t.down as usize) < electorate.quorum {
                return Err(Refusal::NoBreachQuorum);
            }
            Some(t)
        }
        None => None,
    };
    let last = snap.topology.last_migration_slot[group as usize];
    let until = last.saturating_add(policy.cooldown_slots);
    if last != 0 && snap.now < until {
        return Err(Refusal::Cooldown { until_slot: until });
    }

    let primary_endpoint = primary.map(|j| &endpoints[j]);
    let Some((standby, standby_tally)) = best_standby(snap, electorate, group, primary_endpoint)
    else {
        return Err(if primary.is_some() {
            Refusal::NoHealthyStandby
        } else {
            Refusal::NoPrimary
        });
    };
    let chosen = rank(primary_endpoint, standby, &standby_tally);
    if let Some(endpoint_id) =
        better_undecided(snap, electorate, group, primary_endpoint, standby, chosen)
    {
        return Err(Refusal::StandbyUndecided { endpoint_id });
    }

    Ok(match (primary_endpoint, primary_tally) {
        (Some(p), Some(t)) => MigrationPlan {
            group,
            from_id: Some(p.id),
            to_id: standby.id,
            rule: t.reason,
            evidence: t,
            voters: t.down_voters,
            quarantine_until_slot: snap
                .now
                .saturating_add(quarantine_slots(policy, p.ejection_count.saturating_add(1))),
        },
        _ => MigrationPlan {
            group,
            from_id: None,
            to_id: standby.id,
            rule: Reason::VacantPrimary,
            evidence: standby_tally,
            voters: standby_tally.healthy_voters,
            quarantine_until_slot: 0,
        },
    })
}

/// The group's best quorum-healthy standby (see `rank`), with its tally.
fn best_standby<'t>(
    snap: &Snapshot<'t>,
    electorate: &Electorate,
    group: u8,
    primary: Option<&Endpoint>,
) -> Option<(&'t Endpoint, Tally)> {
    let mut best: Option<(&Endpoint, Tally)> = None;
    for (j, e) in snap.topology.endpoints().iter().enumerate() {
        if e.group != group || e.role() != Some(Role::Standby) {
            continue;
        }
        let t = tally_at(snap, electorate, j);
        if (t.healthy as usize) < electorate.quorum {
            continue;
        }
        best = match best {
            Some((b, bt)) if rank(primary, b, &bt) <= rank(primary, e, &t) => Some((b, bt)),
            _ => Some((e, t)),
        };
    }
    best
}

/// A standby ranked better than the chosen one (`chosen`, its rank) that could still be
/// voted healthy: it is waited for. Otherwise a minority voting the best standby down and
/// a worse one up could get the worse one promoted while the honest votes are arriving.
fn better_undecided(
    snap: &Snapshot,
    electorate: &Electorate,
    group: u8,
    primary: Option<&Endpoint>,
    standby: &Endpoint,
    chosen: (u8, u8, u32, u32),
) -> Option<u32> {
    let keepers = snap.network.keeper_count as usize;
    snap.topology
        .endpoints()
        .iter()
        .enumerate()
        .filter(|(_, e)| e.group == group && e.role() == Some(Role::Standby) && e.id != standby.id)
        .find(|(j, e)| {
            let t = tally_at(snap, electorate, *j);
            (t.healthy as usize) < electorate.quorum
                && rank(primary, e, &t) < chosen
                && t.may_become_healthy(keepers, electorate.quorum)
        })
        .map(|(_, e)| e.id)
}

/// Ordering key, smallest wins: a standby on a different provider and region than the
/// failed primary first (it is less likely to share the failure), then priority, then
/// median latency, then id (deterministic).
fn rank(primary: Option<&Endpoint>, e: &Endpoint, t: &Tally) -> (u8, u8, u32, u32) {
    let shared = primary.map_or(0, |p| {
        u8::from(p.provider == e.provider) + u8::from(p.region == e.region)
    });
    (shared, e.priority, t.median_latency_ms, e.id)
}
