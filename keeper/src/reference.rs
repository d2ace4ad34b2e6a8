//! The lag reference: the highest processed slot among the keeper's own trusted sources
//! — its RPCs (`url`, `rpc_urls`, `reference_rpc_urls`) and its PubSub (`ws_url`) — that
//! answered recently, fed by `feed.rs`. Endpoints under judgement never raise it (a lying
//! endpoint claiming a future slot would make every other endpoint look behind), and a
//! source that is itself an endpoint is never that endpoint's reference. It also keeps
//! every new slot's arrival time, which a stream endpoint's notification delay is
//! measured from.
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How many recent slots' arrival times are kept.
const KEEP_ARRIVALS: usize = 1_024;

struct Source {
    url: String,
    slot: AtomicU64,
    /// Milliseconds since `started` of the last answer (0 = never).
    answered_ms: AtomicU64,
}

/// The latest slot of each trusted source, refreshed in the background.
pub struct References {
    sources: Vec<Source>,
    started: Instant,
    /// A source that has not answered for this long no longer counts.
    max_age: Duration,
    /// When the reference first reached each recent slot.
    arrivals: Mutex<BTreeMap<u64, Instant>>,
}

impl References {
    pub fn new(urls: &[String], max_age: Duration) -> Arc<Self> {
        let mut unique: Vec<String> = Vec::new();
        for u in urls {
            if !unique.contains(u) {
                unique.push(u.clone());
            }
        }
        Arc::new(Self {
            sources: unique
                .into_iter()
                .map(|url| Source {
                    url,
                    slot: AtomicU64::new(0),
                    answered_ms: AtomicU64::new(0),
                })
                .collect(),
            started: Instant::now(),
            max_age,
            arrivals: Mutex::new(BTreeMap::new()),
        })
    }

    /// Records an answer (for tests and for the poller).
    pub fn record(&self, url: &str, slot: u64) {
        if let Some(s) = self.sources.iter().find(|s| s.url == url) {
            s.slot.fetch_max(slot, Ordering::Relaxed);
            let ms = self.started.elapsed().as_millis() as u64;
            s.answered_ms.store(ms.max(1), Ordering::Relaxed);
            let mut arrivals = self.arrivals.lock().unwrap();
            arrivals.entry(slot).or_insert_with(Instant::now);
            while arrivals.len() > KEEP_ARRIVALS {
                arrivals.pop_first();
            }
        }
    }

    /// How late (ms) a notification of `slot` that arrived `at` came: after the moment
    /// the reference first reached `slot` or beyond. 0 when it came first, or when the
    /// reference has not reached that slot.
    pub fn delay(&self, slot: u64, at: Instant) -> u32 {
        let arrivals = self.arrivals.lock().unwrap();
        arrivals
            .range(slot..)
            .map(|(_, first)| *first)
            .min()
            .map_or(0, |first| {
                at.saturating_duration_since(first)
                    .as_millis()
                    .min(u32::MAX as u128) as u32
            })
    }

    /// The reference for judging the endpoint at `endpoint_url`: the highest slot among
    /// the sources that answered recently, leaving that endpoint out. None when no other
    /// source answered.
    pub fn for_endpoint(&self, endpoint_url: &str) -> Option<u64> {
        let now = self.started.elapsed().as_millis() as u64;
        self.sources
            .iter()
            .filter(|s| !same_url(&s.url, endpoint_url))
            .filter(|s| {
                let at = s.answered_ms.load(Ordering::Relaxed);
                at != 0 && now.saturating_sub(at) <= self.max_age.as_millis() as u64
            })
            .map(|s| s.slot.load(Ordering::Relaxed))
            .max()
    }

    /// The reference with every source counted.
    pub fn best(&self) -> Option<u64> {
        self.for_endpoint("")
    }

    /// The cluster's slot length as the reference paced it over its recent slots (ms),
    /// `window::SLOT_MS` until it has seen enough; kept within 20 ms – 5 s.
    pub fn slot_ms(&self) -> u64 {
        let arrivals = self.arrivals.lock().unwrap();
        let newest = arrivals.iter().next_back();
        // the oldest of the newest 64
        let oldest = arrivals.iter().nth(arrivals.len().saturating_sub(64));
        match (oldest, newest) {
            (Some((&s0, t0)), Some((&s1, t1))) if s1 > s0 + 4 => {
                let ms = t1.saturating_duration_since(*t0).as_millis() as u64 / (s1 - s0);
                ms.clamp(20, 5_000)
            }
            _ => crate::window::SLOT_MS,
        }
    }

    /// The sources polled over HTTP (the keeper's RPCs).
    pub fn rpc_sources(&self) -> Vec<String> {
        self.sources
            .iter()
            .filter(|s| s.url.starts_with("http"))
            .map(|s| s.url.clone())
            .collect()
    }
}

/// URLs compare equal up to a trailing slash and letter case of scheme and host.
fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_is_the_highest_recent_trusted_slot_never_the_endpoint_itself() {
        let urls = ["http://a".to_string(), "http://b".to_string()];
        let r = References::new(&urls, Duration::from_secs(60));
        assert_eq!(r.best(), None, "nothing answered yet");
        r.record("http://a", 100);
        r.record("http://b", 120);
        r.record("http://stranger", 9_999);
        assert_eq!(
            r.best(),
            Some(120),
            "a lagging source does not pull it down"
        );
        // b is also an endpoint: judging b, only a counts
        assert_eq!(r.for_endpoint("http://b/"), Some(100));
        assert_eq!(r.for_endpoint("http://c"), Some(120));
        // a slot never goes backwards for a source
        r.record("http://b", 110);
        assert_eq!(r.best(), Some(120));
    }

    #[test]
    fn a_notification_is_as_late_as_the_reference_was_early() {
        let r = References::new(&["http://a".to_string()], Duration::from_secs(60));
        r.record("http://a", 100);
        let seen_100 = Instant::now();
        std::thread::sleep(Duration::from_millis(30));
        r.record("http://a", 103);
        assert!(r.delay(100, seen_100 + Duration::from_millis(250)) >= 250);
        // 101 was never polled: the reference reached it by the time it saw 103
        let late = r.delay(101, Instant::now() + Duration::from_millis(100));
        assert!((100..250).contains(&late), "{late}");
        assert_eq!(
            r.delay(100, seen_100 - Duration::from_millis(5)),
            0,
            "early"
        );
        assert_eq!(
            r.delay(104, Instant::now()),
            0,
            "the reference is not there yet"
        );
    }

    #[test]
    fn the_slot_length_is_paced_from_the_reference() {
        let r = References::new(&["http://a".to_string()], Duration::from_secs(60));
        assert_eq!(r.slot_ms(), crate::window::SLOT_MS, "nothing seen yet");
        for slot in 0..10 {
            r.record("http://a", slot);
            std::thread::sleep(Duration::from_millis(20));
        }
        let ms = r.slot_ms();
        assert!((20..60).contains(&ms), "{ms}");
    }

    #[test]
    fn a_source_that_stopped_answering_no_longer_counts() {
        let r = References::new(&["http://a".to_string()], Duration::ZERO);
        r.record("http://a", 5);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(r.best(), None);
    }
}
