//! Who sends a permissionless transaction first. For each action, the keepers of the set
//! are put in an order derived from the action and their keys (a different order for
//! every action, the same for every keeper that computes it); each keeper waits its
//! position × `step` before sending, and re-checks the chain first. So one keeper sends,
//! the next one only if the first did not land within a step, and keepers rarely race.
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

/// How long `me` waits before sending the action: its position × `step`.
pub fn delay(me: &Pubkey, keepers: &[Pubkey], action: &[u8], step: Duration) -> Duration {
    let rank = position(me, keepers, action).unwrap_or(keepers.len());
    step * rank as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_action_has_one_first_keeper_and_the_order_rotates() {
        let keys: Vec<Pubkey> = (0..7u8).map(|i| Pubkey::new_from_array([i; 32])).collect();
        let step = Duration::from_millis(400);
        let mut firsts = std::collections::BTreeSet::new();
        for action in 0..64u32 {
            let a = action.to_le_bytes();
            let mut delays: Vec<Duration> =
                keys.iter().map(|k| delay(k, &keys, &a, step)).collect();
            delays.sort();
            let expected: Vec<Duration> = (0..7).map(|r| step * r).collect();
            assert_eq!(delays, expected, "one keeper per position");
            firsts.insert(
                keys.iter()
                    .position(|k| delay(k, &keys, &a, step).is_zero())
                    .unwrap(),
            );
        }
        assert!(
            firsts.len() >= 5,
            "the first sender rotates over actions: {firsts:?}"
        );
        // stable: every keeper computes the same order
        assert_eq!(
            position(&keys[3], &keys, b"x"),
            position(&keys[3], &keys, b"x")
        );
        // a key outside the set waits behind everyone
        let stranger = Pubkey::new_unique();
        assert_eq!(delay(&stranger, &keys, b"x", step), step * 7);
    }
}
