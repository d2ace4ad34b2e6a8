//! Spreads keepers apart: each keeper waits a deterministic, keeper-specific delay before
//! racing to send a permissionless transaction, so they do not all collide on the same slot.
use std::time::Duration;

use anchor_lang::prelude::Pubkey;

/// A delay in `[0, max)` derived from the keeper's key (stable across restarts, different
/// across keepers).
pub fn jitter(keeper: &Pubkey, max: Duration) -> Duration {
    let max_ms = max.as_millis() as u64;
    if max_ms == 0 {
        return Duration::ZERO;
    }
    // FNV-1a over the key: cheap, dependency-free, well spread for this purpose.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in keeper.as_ref() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Duration::from_millis(h % max_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_bounded_stable_and_spread() {
        let max = Duration::from_millis(500);
        let keys: Vec<Pubkey> = (0..64u8).map(|i| Pubkey::new_from_array([i; 32])).collect();
        let delays: Vec<Duration> = keys.iter().map(|k| jitter(k, max)).collect();
        assert!(delays.iter().all(|d| *d < max));
        assert_eq!(
            delays,
            keys.iter().map(|k| jitter(k, max)).collect::<Vec<_>>(),
            "stable"
        );
        let mut distinct = delays.clone();
        distinct.sort();
        distinct.dedup();
        assert!(
            distinct.len() > 48,
            "64 keepers spread over {} distinct delays",
            distinct.len()
        );
        assert_eq!(jitter(&keys[0], Duration::ZERO), Duration::ZERO);
    }
}
