//! Who sends a permissionless transaction. For each action, the keepers of the set are
//! put in an order derived from the action and their keys (a different order for every
//! action, the same for every keeper that computes it). Time is cut into windows of
//! `step` on the wall clock, and window `w` belongs to the keeper at position `w mod n`:
//! a keeper sends only in the first quarter of its own window, after re-reading the chain
//! at `processed`. Anchoring turns on a clock every keeper shares (not on when each one
//! noticed the action) is what keeps two keepers from sending in the same slot; the three
//! quarters of a window left after a send are the time it has to land (and reach the
//! next keeper's RPC at `processed`) before the next keeper looks.
use std::time::Duration;

use anchor_lang::prelude::Pubkey;

/// FNV-1a: cheap, dependency-free, well spread for this purpose.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in *part {
            h ^= *b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// `me`'s position among `keepers` for the action named by `action` (0 = first), or None
/// if `me` is not among them.
pub fn position(me: &Pubkey, keepers: &[Pubkey], action: &[u8]) -> Option<usize> {
    let mut order: Vec<(u64, &Pubkey)> = keepers
        .iter()
        .map(|k| (fnv(&[action, k.as_ref()]), k))
        .collect();
    order.sort();
    order.iter().position(|(_, k)| *k == me)
}

/// How long `me` waits, at wall-clock time `now_ms`, until the first quarter of its own
/// window for the action (zero while inside it). Windows are `step` long; a keeper not
/// in the set waits a whole round. A zero `step` sends at once.
pub fn wait_for_turn(
    me: &Pubkey,
    keepers: &[Pubkey],
    action: &[u8],
    step: Duration,
    now_ms: u64,
) -> Duration {
    let step_ms = step.as_millis() as u64;
    let n = keepers.len().max(1) as u64;
    if step_ms == 0 {
        return Duration::ZERO;
    }
    let Some(mine) = position(me, keepers, action) else {
        return step * n as u32;
    };
    let window = now_ms / step_ms;
    let into = now_ms % step_ms;
    let ahead = (mine as u64 + n - window % n) % n;
    let ahead = if ahead == 0 && into >= step_ms / 4 {
        n
    } else {
        ahead
    };
    match ahead {
        0 => Duration::ZERO,
        k => Duration::from_millis(k * step_ms - into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_window_belongs_to_one_keeper_and_the_order_rotates() {
        let keys: Vec<Pubkey> = (0..7u8).map(|i| Pubkey::new_from_array([i; 32])).collect();
        let step = Duration::from_millis(400);
        let mut firsts = std::collections::BTreeSet::new();
        for action in 0..64u32 {
            let a = action.to_le_bytes();
            for now_ms in [0u64, 1_050, 7_777, 123_456] {
                // exactly one keeper may send now: inside its window's first quarter
                let waits: Vec<Duration> = keys
                    .iter()
                    .map(|k| wait_for_turn(k, &keys, &a, step, now_ms))
                    .collect();
                let senders = waits.iter().filter(|w| w.is_zero()).count();
                let into = now_ms % 400;
                assert_eq!(senders, usize::from(into < 100), "at {now_ms}");
                // every wait ends at a window start (or now), and no two at the same one
                let mut starts: Vec<u64> = waits
                    .iter()
                    .filter(|w| !w.is_zero())
                    .map(|w| now_ms + w.as_millis() as u64)
                    .collect();
                assert!(starts.iter().all(|s| s % 400 == 0));
                starts.sort();
                starts.dedup();
                assert_eq!(starts.len(), 7 - senders, "one keeper per window");
                assert!(waits.iter().all(|w| *w <= step * 7));
            }
            firsts.insert(
                keys.iter()
                    .position(|k| wait_for_turn(k, &keys, &a, step, 0).is_zero())
                    .unwrap(),
            );
        }
        assert!(
            firsts.len() >= 5,
            "the keeper owning a window rotates over actions: {firsts:?}"
        );
        // stable: every keeper computes the same order
        assert_eq!(
            position(&keys[3], &keys, b"x"),
            position(&keys[3], &keys, b"x")
        );
        // a key outside the set waits a whole round
        let stranger = Pubkey::new_unique();
        assert_eq!(wait_for_turn(&stranger, &keys, b"x", step, 0), step * 7);
        assert_eq!(
            wait_for_turn(&keys[0], &keys, b"x", Duration::ZERO, 5),
            Duration::ZERO
        );
    }
}
