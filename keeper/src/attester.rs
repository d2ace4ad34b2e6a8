//! The attester: puts the prober's observations on chain, one transaction at a time, and
//! never reuses a sequence number. It re-reads the chain before sending, so a request made
//! on a stale view is dropped when the chain already says the same.
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline::engine::{record, Attestation};
use lifeline::instructions::SubmitAttestationArgs;
use lifeline::state::{KeeperReport, ObservationInput};
use lifeline_client::errors::SendError;
use lifeline_client::ix;
use solana_signer::Signer;
use tokio::sync::watch;

use crate::attest::{compute_units, should_attest, Trigger};
use crate::cap::Cap;
use crate::send::send;
use crate::shared::Shared;

/// Slots after which a read at the keeper's commitment must show its own landed
/// attestation (confirmed trails processed by a slot or two; 32 is past finality).
const CATCH_UP_SLOTS: u64 = 32;

/// What the prober wants attested.
#[derive(Clone, Debug)]
pub struct AttestRequest {
    pub observations: Vec<ObservationInput>,
    /// The best trusted cluster slot when the observations were made.
    pub reference: u64,
    pub trigger: Trigger,
}

pub struct Attester {
    shared: Arc<Shared>,
    /// The highest seq this process has sent (or found on chain at start).
    seq: u64,
    /// This keeper's ballot row as its last landed attestation left it, recorded here by
    /// the program's own rule. The chain is read at the keeper's commitment, which can
    /// trail a transaction `send` has just seen land; deciding on that older row would
    /// send the same heartbeat (or verdict) twice.
    landed: Option<KeeperReport>,
    warned_twin: bool,
    /// What attesting may cost (created at the first request, from the policy then).
    cap: Option<Cap>,
}

impl Attester {
    pub fn new(shared: Arc<Shared>, start_seq: u64) -> Self {
        Self {
            shared,
            seq: start_seq,
            landed: None,
            warned_twin: false,
            cap: None,
        }
    }

    pub async fn run(
        mut self,
        mut requests: watch::Receiver<Option<AttestRequest>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                changed = requests.changed() => if changed.is_err() { return },
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                return;
            }
            let Some(request) = requests.borrow_and_update().clone() else {
                continue;
            };
            if let Some(wait) = self.attest(request).await {
                // Over the cap: wait for the next token, then attest the latest request.
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
                requests.mark_changed();
            }
        }
    }

    /// Attests `request` if the chain should hear it; Some(wait) when the cap held it back.
    async fn attest(&mut self, request: AttestRequest) -> Option<Duration> {
        let stats = &self.shared.stats;
        let me = self.shared.keypair.pubkey();
        let state = match self.shared.read_chain().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("cannot read the network before attesting: {e}");
                return None;
            }
        };
        let Some((_, row)) = state.report_of(&me) else {
            return None; // removed from the set: the prober has said so
        };
        if row.seq > self.seq {
            if self.seq > 0 && !self.warned_twin {
                self.warned_twin = true;
                tracing::warn!(
                    keeper = %me,
                    "another process attests with this keeper's key (its seq moved to {} without this one): run one keeper per key",
                    row.seq
                );
            }
            self.seq = row.seq;
        }
        let row = match &self.landed {
            // Trusted until the chain should have caught up: a transaction seen
            // processed that a fork then dropped is resent, not believed forever.
            Some(mine)
                if mine.seq > row.seq && state.slot <= mine.submitted_slot + CATCH_UP_SLOTS =>
            {
                mine
            }
            _ => row,
        };
        let policy = state.network.policy;
        let Some(trigger) = should_attest(
            &policy,
            &state.topology,
            Some(row),
            state.slot,
            &request.observations,
        ) else {
            return None; // the chain already says this
        };
        let per_hour = self.shared.config.attestations_per_hour(&policy);
        let bucket = self
            .cap
            .get_or_insert_with(|| Cap::new(per_hour, Instant::now()));
        if !bucket.take(Instant::now()) {
            stats.attestations_capped.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                trigger = trigger.label(),
                "attestation held back by the cap"
            );
            return Some(bucket.wait(Instant::now()).max(Duration::from_millis(50)));
        }
        // The reference may come from an RPC ahead of the one this transaction goes
        // through; the program refuses a future reference slot.
        let reference_slot = request.reference.min(state.slot);
        let seq = self.seq + 1;
        let args = SubmitAttestationArgs {
            seq,
            topology_epoch: state.topology.epoch,
            reference_slot,
            observations: request.observations,
        };
        let units = compute_units(&policy, &state.topology, &args.observations);
        let mut expected = *row;
        record(
            &policy,
            &state.topology,
            &mut expected,
            me,
            &Attestation {
                seq,
                topology_epoch: args.topology_epoch,
                reference_slot,
                observations: &args.observations,
            },
            state.slot,
        );
        let ix = ix::submit_attestation(&self.shared.network, &me, args);
        let cap = self.shared.config.priority_fee_cap_microlamports;
        match send(
            &self.shared.rpc,
            &self.shared.keypair,
            ix,
            units,
            cap,
            stats,
        )
        .await
        {
            Ok(sig) => {
                self.seq = seq;
                self.landed = Some(expected);
                stats.attestations_sent.fetch_add(1, Ordering::Relaxed);
                stats.count_trigger(trigger.label());
                tracing::debug!(seq, trigger = trigger.label(), %sig, "attested");
            }
            Err(e @ SendError::LostRace(_)) => {
                // e.g. a stale seq after a restart race: the next request re-reads
                stats.races_lost.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("attestation not taken: {e}");
            }
            Err(e) => {
                stats.attestations_failed.fetch_add(1, Ordering::Relaxed);
                stats.send_failures.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("attestation failed: {e}");
            }
        }
        None
    }
}
