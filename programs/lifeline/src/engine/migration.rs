//! Should a group fail over now, and to which standby?
use crate::constants::MAX_ENDPOINTS;
use crate::constants::MAX_GROUPS;
use crate::engine::{
    ballot::{tally_at, tally_ranking},
    policy::quarantine_slots,
    Electorate, Refusal, Snapshot, Tally,
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
    // Every standby of the group is tallied once, with what ranking reads; the best one,
    // the undecided better ones and a vacancy's evidence all come from these tallies.
    let standbys = Standbys::tally(snap, electorate, group);
    let Some((chosen_j, standby_tally)) = standbys.best(primary_endpoint, endpoints, electorate)
    else {
        return Err(if primary.is_some() {
            Refusal::NoHealthyStandby
        } else {
            Refusal::NoPrimary
        });
    };
    let standby = &endpoints[chosen_j];
    let chosen = rank(primary_endpoint, standby, &standby_tally);
    let keepers = snap.network.keeper_count as usize;
    if let Some(endpoint_id) = standbys.better_undecided(
        primary_endpoint,
        endpoints,
        chosen_j,
        chosen,
        electorate,
        keepers,
    ) {
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
        _ => {
            // A vacancy rests on the promoted standby: its tally is the evidence.
            let evidence = tally_at(snap, electorate, chosen_j);
            MigrationPlan {
                group,
                from_id: None,
                to_id: standby.id,
                rule: Reason::VacantPrimary,
                evidence,
                voters: evidence.healthy_voters,
                quarantine_until_slot: 0,
            }
        }
    })
}

/// The standbys of one group and their tallies (votes and median latency), each computed
/// once per decision.
struct Standbys {
    /// Positions in the topology, and their tallies, for the first `len` entries.
    positions: [u8; MAX_ENDPOINTS],
    tallies: [Tally; MAX_ENDPOINTS],
    len: usize,
}

impl Standbys {
    fn tally(snap: &Snapshot, electorate: &Electorate, group: u8) -> Self {
        let mut out = Standbys {
            positions: [0; MAX_ENDPOINTS],
            tallies: [Tally::default(); MAX_ENDPOINTS],
            len: 0,
        };
        for (j, e) in snap.topology.endpoints().iter().enumerate() {
            if e.group == group && e.role() == Some(Role::Standby) && out.len < MAX_ENDPOINTS {
                out.positions[out.len] = j as u8;
                out.len += 1;
            }
        }
        let len = out.len;
        tally_ranking(
            snap,
            electorate,
            &out.positions[..len],
            &mut out.tallies[..len],
        );
        out
    }

    fn iter(&self) -> impl Iterator<Item = (usize, &Tally)> {
        self.positions[..self.len]
            .iter()
            .map(|&j| j as usize)
            .zip(self.tallies[..self.len].iter())
    }

    /// The best quorum-healthy standby (see `rank`): its position and tally.
    fn best(
        &self,
        primary: Option<&Endpoint>,
        endpoints: &[Endpoint],
        electorate: &Electorate,
    ) -> Option<(usize, Tally)> {
        let mut best: Option<(usize, Tally)> = None;
        for (j, &t) in self.iter() {
            if (t.healthy as usize) < electorate.quorum {
                continue;
            }
            best = match best {
                Some((b, bt))
                    if rank(primary, &endpoints[b], &bt) <= rank(primary, &endpoints[j], &t) =>
                {
                    Some((b, bt))
                }
                _ => Some((j, t)),
            };
        }
        best
    }

    /// A standby ranked better than the chosen one (at `chosen_j`, of rank `chosen`) that
    /// could still be voted healthy: it is waited for. Otherwise a minority voting the
    /// best standby down and a worse one up could get the worse one promoted while the
    /// honest votes are arriving.
    fn better_undecided(
        &self,
        primary: Option<&Endpoint>,
        endpoints: &[Endpoint],
        chosen_j: usize,
        chosen: (u8, u8, u32, u32),
        electorate: &Electorate,
        keepers: usize,
    ) -> Option<u32> {
        self.iter()
            .filter(|(j, _)| *j != chosen_j)
            .find(|(j, t)| {
                (t.healthy as usize) < electorate.quorum
                    && rank(primary, &endpoints[*j], t) < chosen
                    && t.may_become_healthy(keepers, electorate.quorum)
            })
            .map(|(j, _)| endpoints[j].id)
    }
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
