//! The keeper's wallet: its balance and the days of fees it has left. Every 30 s the
//! balance is read through the keeper's own RPCs; the rate is what the keeper paid over
//! the last hour, never less than its steady state under the policy (a heartbeat's base
//! fee every third of the liveness window), so a keeper that just started does not read
//! as funded forever. `lifeline status` and the dashboard flag keepers low on funds from
//! the chain alone (their balance, at the steady-state rate).
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lifeline::state::Policy;
use solana_signer::Signer;
use tokio::sync::watch;

use crate::shared::Shared;

/// How often the balance is read.
const EVERY: Duration = Duration::from_secs(30);

/// A keeper's steady-state fees a day under `policy`: one heartbeat's base fee every
/// third of the liveness window (what `lifeline cost` prices).
pub fn steady_fees_per_day(policy: &Policy) -> u64 {
    let heartbeat_ms = crate::attest::heartbeat_slots(policy)
        .saturating_mul(400)
        .max(1);
    (86_400_000 / heartbeat_ms).saturating_mul(crate::send::BASE_FEE_PER_SIGNATURE)
}

/// Days `balance` covers at `per_day` lamports a day.
pub fn days_left(balance: u64, per_day: u64) -> f64 {
    balance as f64 / per_day.max(1) as f64
}

/// Reads the balance every 30 s and publishes it with the days it covers, until `shutdown`.
pub async fn follow(shared: Arc<Shared>, policy: Policy, mut shutdown: watch::Receiver<bool>) {
    let started = Instant::now();
    let me = shared.keypair.pubkey();
    loop {
        if let Ok(balance) = shared.rpc.get_balance(&me).await {
            let rate = shared
                .stats
                .fee_rate_per_day(started.elapsed())
                .max(steady_fees_per_day(&policy));
            let days = days_left(balance, rate);
            shared
                .stats
                .balance_lamports
                .store(balance, Ordering::Relaxed);
            shared.stats.fee_days_left_centi.store(
                (days * 100.0).min(u64::MAX as f64) as u64,
                Ordering::Relaxed,
            );
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifeline::state::PolicyParams;

    #[test]
    fn a_keeper_pays_its_heartbeats_and_its_balance_lasts_that_long() {
        let p: Policy = PolicyParams::default().into();
        // a heartbeat every 100 s: 864 a day at 5,000 lamports
        assert_eq!(steady_fees_per_day(&p), 864 * 5_000);
        // 0.1 SOL lasts about 23 days at that rate
        let days = days_left(100_000_000, steady_fees_per_day(&p));
        assert!((23.0..24.0).contains(&days), "{days}");
    }
}
