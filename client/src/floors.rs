//! What a failover client will serve: never an answer older than what it already served
//! (it must not go back in time across a failover), never an answer from the future (a
//! lying endpoint), and no endpoint may make the others unusable.
//!
//! Everything an endpoint says is untrusted, so the client keeps, per commitment:
//! * each endpoint's last accepted slot and when (an endpoint is held to its own floor);
//! * what it trusts: the topology's read slot (the chain RPC it follows the topology
//!   from) and the other endpoints' last answers, each advanced by the time since at a
//!   slot per 400 ms — the *reference*;
//! * the overall floor, which an answer raises at most `FLOOR_SLACK` slots above the
//!   reference, so one endpoint claiming a slot ahead of everyone else cannot make the
//!   honest ones look stale.
//!
//! An answer more than `FUTURE_TOLERANCE` slots ahead of the reference is refused as from
//! the future. With no reference at all (a fixed list, nothing answered yet), answers are
//! taken as they come. The TypeScript transport (clients/js/src/floors.ts) follows the
//! same rules; a shared table of cases holds them equal.
use std::collections::HashMap;
use std::time::Instant;

/// How far ahead of the reference an answer may be (the reference is an estimate: the
/// topology read may be seconds old, and slots do not tick exactly every 400 ms).
pub const FUTURE_TOLERANCE: u64 = 64;
/// How far above the reference one answer may raise the floor.
pub const FLOOR_SLACK: u64 = 2;
/// The slot length the reference is advanced by.
const SLOT_MS: u128 = 400;

/// Commitment levels: processed, confirmed, finalized.
const LEVELS: usize = 3;

#[derive(Default)]
pub struct Floors {
    floor: [u64; LEVELS],
    /// Per endpoint URL and level: the last accepted slot, and when.
    last: HashMap<String, [Option<(u64, Instant)>; LEVELS]>,
    /// The topology's read: its epoch, slot, and when this client first saw it.
    anchor: Option<(u64, u64, Instant)>,
}

/// `slot` seen at `at`, advanced to `now`.
fn advanced(slot: u64, at: Instant, now: Instant) -> u64 {
    let slots = now.saturating_duration_since(at).as_millis() / SLOT_MS;
    slot.saturating_add(u64::try_from(slots).unwrap_or(u64::MAX))
}

impl Floors {
    /// The overall floor at `level`.
    pub fn floor(&self, level: usize) -> u64 {
        self.floor.get(level).copied().unwrap_or(0)
    }

    /// A topology view read at `slot` (epoch `epoch`) is current. A new epoch re-derives
    /// the floors from that read: none stays above what it corroborates, and answers
    /// taken before (when there was nothing to judge them by) that lie beyond it are
    /// forgotten.
    pub fn topology(&mut self, epoch: u64, slot: u64, now: Instant) {
        if self.anchor.is_some_and(|(e, _, _)| e == epoch) {
            return;
        }
        self.anchor = Some((epoch, slot, now));
        for f in self.floor.iter_mut() {
            *f = (*f).min(slot.saturating_add(FLOOR_SLACK));
        }
        let ceiling = slot.saturating_add(FUTURE_TOLERANCE);
        for levels in self.last.values_mut() {
            for l in levels.iter_mut() {
                if l.is_some_and(|(s, _)| s > ceiling) {
                    *l = None;
                }
            }
        }
    }

    /// What the client trusts at `level` now, leaving `url`'s own answers out.
    fn reference(&self, url: Option<&str>, level: usize, now: Instant) -> Option<u64> {
        let anchor = self.anchor.map(|(_, slot, at)| advanced(slot, at, now));
        let others = self
            .last
            .iter()
            .filter(|(u, _)| Some(u.as_str()) != url)
            .filter_map(|(_, l)| l.get(level).copied().flatten())
            .map(|(slot, at)| advanced(slot, at, now));
        anchor.into_iter().chain(others).max()
    }

    /// Judges an answer for `slot` from `url` at `level`: accepted (and recorded), or why
    /// not.
    pub fn judge(
        &mut self,
        url: &str,
        level: usize,
        slot: u64,
        now: Instant,
    ) -> Result<(), String> {
        let level = level.min(LEVELS - 1);
        let reference = self.reference(Some(url), level, now);
        if let Some(r) = reference {
            if slot > r.saturating_add(FUTURE_TOLERANCE) {
                return Err(format!(
                    "answered for slot {slot}, from the future (the others stand near {r})"
                ));
            }
        }
        let own = self
            .last
            .get(url)
            .and_then(|l| l[level])
            .map_or(0, |(s, _)| s);
        let floor = self.floor[level].max(own);
        if slot < floor {
            return Err(format!(
                "answered for slot {slot}, behind slot {floor} already served"
            ));
        }
        self.last.entry(url.to_string()).or_default()[level] = Some((slot, now));
        let raise = reference.map_or(slot, |r| slot.min(r.saturating_add(FLOOR_SLACK)));
        self.floor[level] = self.floor[level].max(raise);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const TOPOLOGY_READ_AT: u64 = 1_000;

    fn following(now: Instant) -> Floors {
        let mut f = Floors::default();
        f.topology(1, TOPOLOGY_READ_AT, now);
        f
    }

    #[test]
    fn an_answer_from_the_future_is_refused_and_leaves_the_floor_alone() {
        let t0 = Instant::now();
        let mut f = following(t0);
        assert!(f.judge("a", 1, 1_001, t0).is_ok());
        for lie in [1_001 + 1_000_000, 1 << 63, u64::MAX] {
            let e = f.judge("liar", 1, lie, t0).unwrap_err();
            assert!(e.contains("from the future"), "{e}");
        }
        assert_eq!(f.floor(1), 1_001);
        // the honest endpoints go on being served
        assert!(f.judge("b", 1, 1_001, t0).is_ok());
        assert!(f
            .judge("a", 1, 1_002, t0 + Duration::from_millis(400))
            .is_ok());
    }

    #[test]
    fn no_endpoint_makes_the_others_stale_by_claiming_a_little_ahead() {
        let t0 = Instant::now();
        let mut f = following(t0);
        // a liar a few slots ahead (within the tolerance) is served...
        assert!(f.judge("liar", 1, 1_040, t0).is_ok());
        // ...but raises the floor only a couple of slots above what the others show
        assert_eq!(f.floor(1), 1_000 + FLOOR_SLACK);
        assert!(f.judge("honest", 1, 1_002, t0).is_ok());
        // and stays held to its own floor
        assert!(f
            .judge("liar", 1, 1_039, t0)
            .unwrap_err()
            .contains("behind"));
    }

    #[test]
    fn the_client_never_goes_back_in_time_among_honest_endpoints() {
        let t0 = Instant::now();
        let mut f = following(t0);
        let t = t0 + Duration::from_secs(4); // ten slots later: the reference moved on
        assert!(f.judge("primary", 1, 1_010, t).is_ok());
        let e = f.judge("standby", 1, 1_005, t).unwrap_err();
        assert!(e.contains("behind slot 1010"), "{e}");
        assert!(f.judge("standby", 1, 1_010, t).is_ok());
        // each commitment level has its own floor
        assert!(f.judge("standby", 0, 1_005, t).is_ok());
    }

    #[test]
    fn without_a_reference_answers_are_taken_as_they_come() {
        let t0 = Instant::now();
        let mut f = Floors::default();
        assert!(f.judge("only", 1, 5_000, t0).is_ok());
        assert_eq!(f.floor(1), 5_000);
        // a second endpoint is then judged against the first one's answers
        assert!(f
            .judge("other", 1, 5_000 + FUTURE_TOLERANCE + 1, t0)
            .unwrap_err()
            .contains("future"));
    }

    #[test]
    fn a_new_topology_epoch_re_derives_the_floors() {
        let t0 = Instant::now();
        let mut f = Floors::default();
        // before any topology, a lone answer set the floor far ahead
        f.judge("a", 1, 9_999_999, t0).unwrap();
        f.topology(2, 2_000, t0);
        assert_eq!(f.floor(1), 2_000 + FLOOR_SLACK);
        // the same epoch seen again changes nothing
        f.topology(2, 5, t0);
        assert_eq!(f.floor(1), 2_000 + FLOOR_SLACK);
        // the early answer no longer counts as a reference: honest answers pass
        assert!(f.judge("b", 1, 2_002, t0).is_ok());
    }
}
