//! A hard cap on what attesting may cost: a token bucket of attestations. Whatever an
//! endpoint provokes (flapping across a threshold, toggling a vote), a keeper sends at
//! most `burst` at once and `per_hour` an hour on average; a request over the cap waits
//! for the next token (the latest observations go then) and is counted in
//! `lifeline_keeper_attestations_capped_total`. The burst covers a real incident (the
//! down votes of several groups at once); the rate is three times the heartbeat's at
//! least 120 an hour — set `max_attestations_per_hour` to change it.
use std::time::{Duration, Instant};

use lifeline::state::Policy;

use crate::attest::heartbeat_slots;

/// Attestations a keeper may send at once.
pub const BURST: u32 = 10;

/// The default cap under `policy`: three times the heartbeat's rate, at least 120 an hour.
pub fn default_per_hour(policy: &Policy) -> u32 {
    let heartbeat_ms = heartbeat_slots(policy).saturating_mul(400).max(1);
    let heartbeats = 3_600_000 / heartbeat_ms;
    u32::try_from(heartbeats.saturating_mul(3))
        .unwrap_or(u32::MAX)
        .max(120)
}

/// The bucket.
#[derive(Debug)]
pub struct Cap {
    /// Tokens, in thousandths.
    milli_tokens: u64,
    per_hour: u32,
    last: Instant,
    /// ms × per_hour not yet turned into milli-tokens (no refill is lost to rounding).
    remainder: u64,
}

impl Cap {
    pub fn new(per_hour: u32, now: Instant) -> Self {
        Self {
            milli_tokens: u64::from(BURST) * 1_000,
            per_hour: per_hour.max(1),
            last: now,
            remainder: 0,
        }
    }

    fn refill(&mut self, now: Instant) {
        let ms = now.saturating_duration_since(self.last).as_millis() as u64;
        self.last = now;
        // per_hour tokens an hour = per_hour × 1000 milli-tokens per 3.6e6 ms
        self.remainder += ms.saturating_mul(u64::from(self.per_hour));
        let added = self.remainder / 3_600;
        self.remainder %= 3_600;
        self.milli_tokens = (self.milli_tokens + added).min(u64::from(BURST) * 1_000);
    }

    /// Takes a token if there is one.
    pub fn take(&mut self, now: Instant) -> bool {
        self.refill(now);
        if self.milli_tokens >= 1_000 {
            self.milli_tokens -= 1_000;
            true
        } else {
            false
        }
    }

    /// How long until a token is there.
    pub fn wait(&mut self, now: Instant) -> Duration {
        self.refill(now);
        let missing = 1_000u64.saturating_sub(self.milli_tokens);
        Duration::from_millis((missing * 3_600).div_ceil(u64::from(self.per_hour)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lifeline::state::PolicyParams;

    #[test]
    fn a_burst_then_the_rate() {
        let t0 = Instant::now();
        let mut c = Cap::new(120, t0);
        for _ in 0..BURST {
            assert!(c.take(t0));
        }
        assert!(!c.take(t0), "the burst is spent");
        // 120 an hour: one every 30 s
        assert_eq!(c.wait(t0), Duration::from_secs(30));
        assert!(!c.take(t0 + Duration::from_secs(29)));
        assert!(c.take(t0 + Duration::from_secs(30)));
        // an hour of trying every second sends 120 (plus the burst)
        let mut sent = 0;
        for s in 0..3_600 {
            sent += u32::from(c.take(t0 + Duration::from_secs(30 + s)));
        }
        assert!((119..=121).contains(&sent), "{sent}");
    }

    #[test]
    fn the_default_follows_the_heartbeat() {
        let p: Policy = PolicyParams::default().into();
        assert_eq!(
            default_per_hour(&p),
            120,
            "36 heartbeats an hour: 120 at least"
        );
        let chatty: Policy = PolicyParams {
            liveness_slots: 150,
            ..PolicyParams::default()
        }
        .into();
        // a heartbeat every 50 slots (20 s): 180 an hour, three times that
        assert_eq!(default_per_hour(&chatty), 540);
    }
}
