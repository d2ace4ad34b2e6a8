//! State verification: which fork each RPC endpoint serves. Every RPC probe reports the
//! hash of its confirmed slot, and the reference poller the hash its trusted RPCs served
//! for theirs. An endpoint whose hash for a slot differs from the trusted one — or, with no
//! trusted hash for that slot, from the hash at least two other endpoints agree on while
//! none agrees with it — serves another fork (or corrupted state), however current its
//! slot. The finding sticks until a later comparison clears it: a node does not hop forks
//! between probes, and slots are not always comparable (each probe sees one slot).
use std::collections::BTreeMap;
use std::sync::Mutex;

/// How many recent slots are remembered.
const KEEP_SLOTS: u64 = 512;
/// How far ahead of the newest trusted slot an endpoint's confirmed slot may be and still
/// be compared (the trusted RPCs are polled; a healthy endpoint can be a little ahead).
const AHEAD_SLOTS: u64 = 64;

#[derive(Default)]
struct SlotHashes {
    /// What the keeper's own trusted RPCs served (the first answer wins).
    trusted: Option<String>,
    /// What each endpoint served.
    endpoints: BTreeMap<u32, String>,
}

#[derive(Default)]
struct Book {
    slots: BTreeMap<u64, SlotHashes>,
    /// The newest slot a trusted RPC reported: the window moves with it alone, so an
    /// endpoint answering from the future cannot push every real slot out of the book.
    trusted_newest: Option<u64>,
    /// The last finding per endpoint.
    findings: BTreeMap<u32, Finding>,
}

/// The block hashes seen per slot, and what they say about each endpoint.
#[derive(Default)]
pub struct Forks {
    book: Mutex<Book>,
}

/// What one comparison found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Finding {
    divergent: bool,
    /// Against the keeper's own trusted hash (else against the other endpoints).
    trusted: bool,
}

/// Whether `id`'s hash at this slot disagrees with the others: None when there is
/// nothing to compare it with.
fn judge(at: &SlotHashes, id: u32) -> Option<Finding> {
    let mine = at.endpoints.get(&id)?;
    if let Some(trusted) = &at.trusted {
        return Some(Finding {
            divergent: mine != trusted,
            trusted: true,
        });
    }
    compare_with_peers(at, id, mine).map(|divergent| Finding {
        divergent,
        trusted: false,
    })
}

fn compare_with_peers(at: &SlotHashes, id: u32, mine: &String) -> Option<bool> {
    let others = at
        .endpoints
        .iter()
        .filter(|(k, _)| **k != id)
        .map(|(_, h)| h);
    let mut counts: BTreeMap<&String, usize> = BTreeMap::new();
    for h in others {
        *counts.entry(h).or_default() += 1;
    }
    if counts.contains_key(mine) {
        return Some(false);
    }
    (counts.values().max().copied().unwrap_or(0) >= 2).then_some(true)
}

impl Book {
    /// The hashes at `slot` as a trusted RPC reports it: the window moves up to it.
    fn trusted_at(&mut self, slot: u64) -> Option<&mut SlotHashes> {
        let newest = self.trusted_newest.map_or(slot, |n| n.max(slot));
        self.trusted_newest = Some(newest);
        self.at(slot)
    }

    /// The hashes at `slot`; None for a slot outside the window: older than `KEEP_SLOTS`
    /// below the newest trusted slot, or more than `AHEAD_SLOTS` above it. Before any
    /// trusted slot, endpoints' slots set the window (and the first trusted one resets it).
    fn at(&mut self, slot: u64) -> Option<&mut SlotHashes> {
        let newest = match self.trusted_newest {
            Some(n) => n,
            None => self
                .slots
                .keys()
                .next_back()
                .copied()
                .unwrap_or(slot)
                .max(slot),
        };
        let (floor, ceiling) = (
            newest.saturating_sub(KEEP_SLOTS),
            newest.saturating_add(AHEAD_SLOTS),
        );
        self.slots.retain(|s, _| (floor..=ceiling).contains(s));
        (floor..=ceiling)
            .contains(&slot)
            .then(|| self.slots.entry(slot).or_default())
    }

    fn rejudge(&mut self, slot: u64) {
        let Some(at) = self.slots.get(&slot) else {
            return;
        };
        let findings: Vec<(u32, Finding)> = at
            .endpoints
            .keys()
            .filter_map(|id| judge(at, *id).map(|f| (*id, f)))
            .collect();
        for (id, found) in findings {
            // Peers agreeing with each other do not overrule the keeper's trusted RPC:
            // two endpoints on the same other fork would shield each other.
            let keep = self
                .findings
                .get(&id)
                .is_some_and(|was| was.trusted && !found.trusted);
            if !keep {
                self.findings.insert(id, found);
            }
        }
    }
}

impl Forks {
    /// A trusted RPC served `hash` for `slot`.
    pub fn trusted_said(&self, slot: u64, hash: &str) {
        let mut book = self.book.lock().unwrap();
        if let Some(at) = book.trusted_at(slot) {
            at.trusted.get_or_insert_with(|| hash.to_string());
            book.rejudge(slot);
        }
    }

    /// Endpoint `id` served `hash` for `slot`. Returns whether it serves another fork, as
    /// far as the keeper can tell now.
    pub fn endpoint_said(&self, id: u32, slot: u64, hash: &str) -> bool {
        let mut book = self.book.lock().unwrap();
        if let Some(at) = book.at(slot) {
            at.endpoints.insert(id, hash.to_string());
            book.rejudge(slot);
        }
        book.findings.get(&id).is_some_and(|f| f.divergent)
    }

    /// Forgets endpoints no longer probed (or whose URL changed: they start afresh).
    pub fn retain(&self, keep: impl Fn(u32) -> bool) {
        let mut book = self.book.lock().unwrap();
        book.findings.retain(|id, _| keep(*id));
        for at in book.slots.values_mut() {
            at.endpoints.retain(|id, _| keep(*id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_that_differs_from_the_trusted_one_is_another_fork_until_it_agrees_again() {
        let f = Forks::default();
        assert!(!f.endpoint_said(1, 100, "x"), "nothing to compare with yet");
        f.trusted_said(100, "a");
        assert!(f.endpoint_said(1, 101, "y"), "the finding at 100 sticks");
        assert!(!f.endpoint_said(2, 100, "a"));
        f.trusted_said(102, "c");
        assert!(!f.endpoint_said(1, 102, "c"), "back on the cluster's fork");
    }

    #[test]
    fn without_a_trusted_hash_two_agreeing_others_outvote_one() {
        let f = Forks::default();
        assert!(!f.endpoint_said(1, 7, "fork"));
        assert!(
            !f.endpoint_said(2, 7, "main"),
            "one against one proves nothing"
        );
        assert!(!f.endpoint_said(3, 7, "main"));
        assert!(
            f.endpoint_said(1, 8, "fork2"),
            "two agree at 7, and 1 disagrees"
        );
        // two endpoints on the same other fork shield each other without a trusted hash…
        let g = Forks::default();
        g.endpoint_said(1, 5, "fork");
        g.endpoint_said(2, 5, "fork");
        g.endpoint_said(3, 5, "main");
        assert!(!g.endpoint_said(1, 6, "fork'"));
        // …but not against one
        g.trusted_said(5, "main");
        assert!(g.endpoint_said(1, 6, "fork'") && g.endpoint_said(2, 6, "fork'"));
        assert!(!g.endpoint_said(3, 6, "main'"));
    }

    #[test]
    fn an_endpoint_from_the_future_cannot_move_the_window() {
        let f = Forks::default();
        f.trusted_said(1_000, "a");
        // an endpoint claims slot 2^63 (and far ahead): ignored, the window stays
        assert!(!f.endpoint_said(7, 1 << 63, "x"));
        assert!(!f.endpoint_said(7, 1_000 + AHEAD_SLOTS + 1, "x"));
        // a forked primary at a real slot is still caught at once
        f.trusted_said(1_001, "b");
        assert!(f.endpoint_said(1, 1_001, "fork"));
        assert!(!f.endpoint_said(2, 1_001, "b"));
        // before any trusted slot, a future slot is forgotten as soon as one arrives
        let g = Forks::default();
        g.endpoint_said(7, 1 << 63, "x");
        g.trusted_said(50, "t");
        assert!(g.endpoint_said(1, 50, "fork"));
        assert_eq!(g.book.lock().unwrap().slots.len(), 1);
    }

    #[test]
    fn old_slots_are_forgotten_and_so_are_endpoints_that_left() {
        let f = Forks::default();
        f.trusted_said(1, "a");
        f.trusted_said(1 + KEEP_SLOTS + 1, "b");
        assert!(
            !f.endpoint_said(9, 1, "z"),
            "slot 1 is no longer remembered"
        );
        f.trusted_said(2_000, "t");
        assert!(f.endpoint_said(9, 2_000, "z"));
        f.retain(|id| id != 9);
        assert!(!f.endpoint_said(9, 2_001, "z"));
    }
}
