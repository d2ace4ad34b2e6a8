//! Should a group fail over now, and to which standby?
use crate::constants::MAX_GROUPS;
use crate::engine::{ballot::tally, policy::quarantine_slots, Ballot, Refusal, Snapshot, Tally};
use crate::state::{Endpoint, Reason, Role};

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
    /// Until when the failed primary stays quarantined.
    pub quarantine_until_slot: u64,
}

/// Decides whether `group` migrates now. Rules, in order: the network is not paused; the
/// primary is in breach by quorum; the group is out of cooldown; some standby is
/// quorum-healthy (never eject the last healthy endpoint: without a healthy standby the
/// primary stays); the best standby wins (see `rank`).
pub fn decide_migration(
    snap: &Snapshot,
    ballot: &Ballot,
    group: u8,
) -> Result<MigrationPlan, Refusal> {
    if group as usize >= MAX_GROUPS {
        return Err(Refusal::InvalidGroup);
    }
    if snap.network.is_paused() {
        return Err(Refusal::Paused);
    }
    let policy = &snap.network.policy;
    let primary = snap.topology.primary_of(group);
    let primary_tally = match primary {
        Some(p) => {
            let t = tally(snap, ballot, p.id);
            if (t.down as usize) < ballot.quorum {
                return Err(Refusal::NoBreachQuorum);
            }
            let last = snap.topology.last_migration_slot[group as usize];
            let until = last.saturating_add(policy.cooldown_slots);
            if last != 0 && snap.now < until {
                return Err(Refusal::Cooldown { until_slot: until });
            }
            Some(t)
        }
        None => None,
    };

    let mut best: Option<(&Endpoint, Tally)> = None;
    for e in snap
        .topology
        .endpoints()
        .iter()
        .filter(|e| e.group == group && e.role() == Some(Role::Standby))
    {
        let t = tally(snap, ballot, e.id);
        if (t.healthy as usize) < ballot.quorum {
            continue;
        }
        best = match best {
            Some((b, bt)) if rank(primary, b, &bt) <= rank(primary, e, &t) => Some((b, bt)),
            _ => Some((e, t)),
        };
    }
    let Some((standby, standby_tally)) = best else {
        return Err(if primary.is_some() {
            Refusal::NoHealthyStandby
        } else {
            Refusal::NoPrimary
        });
    };

    Ok(match (primary, primary_tally) {
        (Some(p), Some(t)) => MigrationPlan {
            group,
            from_id: Some(p.id),
            to_id: standby.id,
            rule: t.reason,
            evidence: t,
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
            quarantine_until_slot: 0,
        },
    })
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
