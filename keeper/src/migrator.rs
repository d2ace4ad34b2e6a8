//! The migrator: sends the permissionless decisions the chain would accept now
//! (`trigger_migration`, `readmit_endpoint`), in this keeper's turn (`jitter.rs`: windows
//! on the wall clock every keeper shares) and after re-reading the chain at `processed`,
//! the state the transaction will execute against, so keepers do not race and pay for
//! transactions the chain refuses. The attestation that completes a breach quorum already
//! migrates in its own transaction; this covers the rest (a cooldown that ends, a vacancy,
//! probation completed, a keeper that attested before the quorum was there).
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anchor_lang::prelude::Pubkey;
use lifeline::engine::{collect, decide_migration, pending_actions, Action, Refusal};
use lifeline::instructions::{ReadmitEndpointArgs, TriggerMigrationArgs};
use lifeline_client::errors::SendError;
use lifeline_client::state::ChainState;
use lifeline_client::{describe, ix};
use solana_commitment_config::CommitmentConfig;
use solana_signer::Signer;
use tokio::sync::watch;

use crate::jitter::wait_for_turn;
use crate::send::send;
use crate::shared::Shared;
use lifeline_client::budget;

pub struct Migrator {
    shared: Arc<Shared>,
    /// The topology epoch for which a blocked failover was last logged.
    blocked_reported: Option<u64>,
}

impl Migrator {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            blocked_reported: None,
        }
    }

    pub async fn run(
        mut self,
        mut nudges: watch::Receiver<u64>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let interval = Duration::from_millis(self.shared.config.probe_interval_ms);
        loop {
            tokio::select! {
                changed = nudges.changed() => if changed.is_err() { return },
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            nudges.borrow_and_update();
            self.step().await;
            // at most one look per probe interval
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn step(&mut self) {
        let Ok(state) = self.shared.read_chain().await else {
            return;
        };
        if !self.shared.stats.in_set.load(Ordering::Relaxed) {
            return;
        }
        if pending_actions(&state.snapshot()).is_empty() {
            self.report_blocked(&state);
            return;
        }
        let me = self.shared.keypair.pubkey();
        let Some(first) = pending_actions(&state.snapshot()).into_iter().next() else {
            return;
        };
        // Keepers take turns per action: wait this keeper's turn, then re-check at
        // processed (what the transaction will execute against; a confirmed read can
        // trail a decision another keeper just landed by a slot or two).
        let keepers: Vec<_> = state.network.active_keepers().map(|k| k.keeper).collect();
        let epoch = state.topology.group_epoch(group_of(&first));
        let wait = turn(&me, &keepers, &first, epoch, self.shared.config.jitter_ms);
        tokio::time::sleep(wait).await;
        let Ok(state) = self
            .shared
            .read_chain_at(CommitmentConfig::processed())
            .await
        else {
            return;
        };
        // Only the action this turn was for, still pending and for the same group epoch:
        // another action has its own turn order (sending it now would race its owner).
        let waited_for = action_key(&first, epoch);
        let Some(action) = pending_actions(&state.snapshot())
            .into_iter()
            .find(|a| action_key(a, state.topology.group_epoch(group_of(a))) == waited_for)
        else {
            return;
        };
        let stats = &self.shared.stats;
        let (ix, counter) = match &action {
            Action::Migrate(plan) => (
                ix::trigger_migration(
                    &self.shared.network,
                    &me,
                    TriggerMigrationArgs {
                        group: plan.group,
                        expected_group_epoch: state.topology.group_epoch(plan.group),
                    },
                ),
                &stats.migrations_sent,
            ),
            Action::Readmit(plan) => (
                ix::readmit_endpoint(
                    &self.shared.network,
                    &me,
                    ReadmitEndpointArgs {
                        endpoint_id: plan.endpoint_id,
                        expected_group_epoch: state.topology.group_epoch(plan.group),
                    },
                ),
                &stats.readmissions_sent,
            ),
        };
        let cap = self.shared.config.priority_fee_cap_microlamports;
        match send(
            &self.shared.rpc,
            &self.shared.keypair,
            ix,
            budget::DECISION,
            cap,
            stats,
        )
        .await
        {
            Ok(sig) => {
                counter.fetch_add(1, Ordering::Relaxed);
                tracing::info!("{} (transaction {sig})", describe::action(&state, &action));
            }
            Err(e @ SendError::LostRace(_)) => {
                stats.races_lost.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("{e}");
            }
            Err(e) => {
                stats.send_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("{}: {e}", describe::action(&state, &action));
            }
        }
    }

    /// Says why nothing moves when a primary is down by quorum but no standby is healthy
    /// (once per epoch in the log; every look in the counter).
    fn report_blocked(&mut self, state: &ChainState) {
        let snap = state.snapshot();
        let electorate = collect(&snap);
        for group in 0..lifeline::constants::MAX_GROUPS as u8 {
            if let Err(Refusal::NoHealthyStandby) = decide_migration(&snap, &electorate, group) {
                self.shared
                    .stats
                    .blocked_failovers
                    .fetch_add(1, Ordering::Relaxed);
                if self.blocked_reported != Some(state.topology.epoch) {
                    self.blocked_reported = Some(state.topology.epoch);
                    tracing::warn!(group, "the primary is down by quorum but no standby is quorum-healthy: no failover (the last healthy endpoint is never ejected)");
                }
            }
        }
    }
}

/// How long `me` waits for its turn at `action` now: until the first quarter of its own
/// window of `jitter_ms` (the keeper's setting) in the action's order.
pub fn turn(
    me: &Pubkey,
    keepers: &[Pubkey],
    action: &Action,
    group_epoch: u64,
    jitter_ms: u64,
) -> Duration {
    let key = action_key(action, group_epoch);
    wait_for_turn(
        me,
        keepers,
        &key,
        Duration::from_millis(jitter_ms),
        crate::stats::unix_ms(),
    )
}

/// What names an action for the turn order: kind, group or endpoint, and the group's
/// epoch (a new decision gets a new order).
fn action_key(action: &Action, group_epoch: u64) -> Vec<u8> {
    let (kind, id) = match action {
        Action::Migrate(p) => (0u8, p.to_id),
        Action::Readmit(p) => (1u8, p.endpoint_id),
    };
    [
        &[kind, group_of(action)][..],
        &id.to_le_bytes(),
        &group_epoch.to_le_bytes(),
    ]
    .concat()
}

fn group_of(action: &Action) -> u8 {
    match action {
        Action::Migrate(p) => p.group,
        Action::Readmit(p) => p.group,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifeline::engine::readmission::ReadmissionPlan;
    use lifeline::engine::Tally;

    #[test]
    fn jitter_ms_spaces_the_keepers_turns_and_zero_sends_all_at_once() {
        let keepers: Vec<Pubkey> = (0..4).map(|_| Pubkey::new_unique()).collect();
        let action = Action::Readmit(ReadmissionPlan {
            endpoint_id: 3,
            group: 0,
            evidence: Tally::default(),
        });
        let key = action_key(&action, 7);
        // The turns at one moment: one keeper now (if inside its window's first half), the
        // others at the starts of the following windows, `jitter_ms` apart.
        let turns = |jitter_ms: u64, now_ms: u64| {
            let mut t: Vec<u128> = keepers
                .iter()
                .map(|k| {
                    wait_for_turn(k, &keepers, &key, Duration::from_millis(jitter_ms), now_ms)
                        .as_millis()
                })
                .collect();
            t.sort();
            t
        };
        assert_eq!(turns(1_000, 40_000), vec![0, 1_000, 2_000, 3_000]);
        assert_eq!(turns(1_000, 40_200), vec![0, 800, 1_800, 2_800]);
        // past the first quarter of a window its keeper waits a whole round
        assert_eq!(turns(1_000, 40_300), vec![700, 1_700, 2_700, 3_700]);
        assert_eq!(turns(400, 40_000), vec![0, 400, 800, 1_200]);
        assert_eq!(turns(0, 40_300), vec![0; 4]);
    }
}
