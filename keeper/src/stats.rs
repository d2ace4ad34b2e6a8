//! What a running keeper counts and knows, shared with `/metrics`, `/healthz` and tests.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::window::Probe;

/// Upper bounds of the probe latency histogram buckets, ms (+Inf is the probe count).
pub const LATENCY_BUCKETS_MS: [u64; 8] = [10, 25, 50, 100, 250, 500, 1_000, 2_500];

/// Counters a caller (tests, metrics) can read while the keeper runs.
#[derive(Debug, Default)]
pub struct KeeperStats {
    /// Rounds of the keeper loop (a round handles the probes that completed and decides).
    pub rounds: AtomicU64,
    pub probes: AtomicU64,
    pub probe_failures: AtomicU64,
    /// Probe latency histogram (cumulative buckets, see `LATENCY_BUCKETS_MS`).
    pub probe_latency_buckets: [AtomicU64; LATENCY_BUCKETS_MS.len()],
    pub probe_latency_sum_ms: AtomicU64,
    pub attestations_sent: AtomicU64,
    /// Attestations that did not land for a reason other than a lost race.
    pub attestations_failed: AtomicU64,
    pub migrations_sent: AtomicU64,
    pub readmissions_sent: AtomicU64,
    /// Transactions another keeper landed first, or that the chain moved past (normal).
    pub races_lost: AtomicU64,
    /// Transactions that failed for real (refused for another reason, RPC, funds).
    pub send_failures: AtomicU64,
    /// Transactions that landed and failed on chain (a race lost after preflight passed,
    /// a refusal): each one paid its fee.
    pub failed_transactions: AtomicU64,
    /// The fees those paid, lamports.
    pub failed_transaction_fees_lamports: AtomicU64,
    /// Attestations the cap held back (`max_attestations_per_hour`): it bites.
    pub attestations_capped: AtomicU64,
    /// Fees paid by every transaction that landed, lamports.
    pub fees_paid_lamports: AtomicU64,
    /// The keeper's wallet balance as last read, lamports.
    pub balance_lamports: AtomicU64,
    /// Days of fees the balance covers at the current rate (×100; u64::MAX unknown).
    pub fee_days_left_centi: AtomicU64,
    /// Rounds on which a primary was down by quorum but no standby was quorum-healthy, so
    /// the chain would (rightly) not migrate: the group needs an operator.
    pub blocked_failovers: AtomicU64,
    /// The lag reference: the highest recent slot among the keeper's trusted sources (its
    /// RPCs and PubSub), 0 before any answered.
    pub reference_slot: AtomicU64,
    /// Unix time (ms) of the last round that read the chain without an error.
    pub last_ok_unix_ms: AtomicU64,
    /// The key is in the network's keeper set (false: removed; the keeper stops attesting).
    pub in_set: AtomicBool,
    /// Attestations by what triggered them (`attest::Trigger::label`).
    pub attestations_by_trigger: Mutex<BTreeMap<&'static str, u64>>,
    /// Fees paid in the last hour, with when: the rate days-left is reckoned at.
    pub recent_fees: Mutex<std::collections::VecDeque<(std::time::Instant, u64)>>,
    /// This keeper's latest view of each endpoint.
    pub endpoints: Mutex<BTreeMap<u32, EndpointGauges>>,
    /// Per keeper in the set: the slot of its last attestation (0 = never), for spotting
    /// silent keepers.
    pub keepers_last_attested: Mutex<BTreeMap<String, u64>>,
}

/// What this keeper last concluded about one endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointGauges {
    pub url: String,
    pub group: u8,
    pub kind: String,
    pub latency_ms: u32,
    /// Slots behind the reference; None when the endpoint gave no slot (unreachable,
    /// failed, or a kind without one).
    pub slot_lag: Option<u64>,
    pub unreachable: bool,
    /// 0 unknown, 1 healthy, 2 degraded, 3 down (the program's `Verdict`).
    pub verdict: u8,
    pub consecutive_bad: u8,
    pub consecutive_good: u8,
    /// Counted keepers (by the chain's ballot) that reached the endpoint, and that could
    /// not: both non-zero is an endpoint reachable by some keepers only.
    pub keepers_reaching: u8,
    pub keepers_not_reaching: u8,
}

impl KeeperStats {
    /// A transaction that landed paid `lamports`.
    pub fn paid(&self, lamports: u64) {
        self.fees_paid_lamports
            .fetch_add(lamports, Ordering::Relaxed);
        let now = std::time::Instant::now();
        let mut recent = self.recent_fees.lock().unwrap();
        recent.push_back((now, lamports));
        while recent
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > std::time::Duration::from_secs(3_600))
        {
            recent.pop_front();
        }
    }

    /// Lamports a day at the rate of the last hour (of what has run of it, at least 10 min).
    pub fn fee_rate_per_day(&self, running: std::time::Duration) -> u64 {
        let recent = self.recent_fees.lock().unwrap();
        let spent: u64 = recent.iter().map(|(_, f)| f).sum();
        let window = running
            .min(std::time::Duration::from_secs(3_600))
            .max(std::time::Duration::from_secs(600));
        spent.saturating_mul(86_400) / window.as_secs().max(1)
    }

    pub fn record_probe(&self, p: &Probe) {
        self.probes.fetch_add(1, Ordering::Relaxed);
        if p.failed() {
            self.probe_failures.fetch_add(1, Ordering::Relaxed);
        }
        self.probe_latency_sum_ms
            .fetch_add(p.latency_ms as u64, Ordering::Relaxed);
        for (bucket, bound) in self.probe_latency_buckets.iter().zip(LATENCY_BUCKETS_MS) {
            if p.latency_ms as u64 <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    pub fn count_trigger(&self, label: &'static str) {
        *self
            .attestations_by_trigger
            .lock()
            .unwrap()
            .entry(label)
            .or_default() += 1;
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

pub fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
