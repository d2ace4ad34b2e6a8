//! One endpoint's fault, whatever serves behind it (the localnet's simulated endpoints, or
//! a proxy in front of a real node): the fault and when it was set, the port it opens and
//! closes (down, flapping), the connections it drops, and the transport faults (slow,
//! errors) every HTTP kind applies the same way.
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::fault::{Fault, FrozenAt, Slot};

struct State {
    fault: Fault,
    since: Instant,
    frozen_at: FrozenAt,
}

/// The fault of one endpoint and what follows from it.
pub struct Switch {
    state: Mutex<State>,
    changed: watch::Sender<()>,
    /// Bumped each time the port closes: connections opened before (WebSockets and gRPC
    /// streams, which outlive the HTTP server that accepted them) end when it changes.
    session: watch::Sender<u64>,
    counter: AtomicU64,
    /// Answers given (what `wobble` alternates on).
    answers: AtomicU64,
}

impl Default for Switch {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                fault: Fault::Healthy,
                since: Instant::now(),
                frozen_at: FrozenAt::default(),
            }),
            changed: watch::channel(()).0,
            session: watch::channel(0).0,
            counter: AtomicU64::new(0),
            answers: AtomicU64::new(0),
        }
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Switch {
    pub fn fault(&self) -> Fault {
        self.state.lock().unwrap().fault
    }

    /// The fault, and where the chain and the clock stood when it was set.
    pub fn fault_and_frozen_at(&self) -> (Fault, FrozenAt) {
        let s = self.state.lock().unwrap();
        (s.fault, s.frozen_at)
    }

    /// Sets the fault; the chain stands at `slot` now (what a frozen endpoint keeps
    /// reporting).
    pub fn set(&self, fault: Fault, slot: Slot) -> Result<(), String> {
        fault.validate()?;
        let mut s = self.state.lock().unwrap();
        if fault.refreezes(s.fault) {
            s.frozen_at = FrozenAt {
                slot,
                unix_ms: unix_ms(),
            };
        }
        s.fault = fault;
        s.since = Instant::now();
        drop(s);
        let _ = self.changed.send(());
        Ok(())
    }

    /// Whether the port should be open right now.
    pub fn accepting(&self) -> bool {
        let s = self.state.lock().unwrap();
        s.fault.open(s.since.elapsed())
    }

    /// A future that resolves when the port's current session ends (the port closes, or
    /// the server stops): what a long-lived connection waits on.
    pub fn session(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.session.subscribe();
        let current = *rx.borrow_and_update();
        async move {
            let _ = rx.wait_for(|s| *s != current).await;
        }
    }

    /// A cheap deterministic sequence (no RNG needed): request n fails when the running
    /// percentage says so, which spreads failures evenly. Some(k) when it is the k-th
    /// failure (from 0), so failure forms can take turns.
    pub fn should_fail(&self, percent: u8) -> Option<u64> {
        if percent == 0 {
            return None;
        }
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let before = n * u64::from(percent) / 100;
        let after = (n + 1) * u64::from(percent) / 100;
        (after > before).then_some(before)
    }

    /// The latency the next answer gets (`slow`; every other one under `wobble`).
    pub fn next_delay(&self) -> std::time::Duration {
        let nth = self.answers.fetch_add(1, Ordering::Relaxed);
        self.fault().delay_of(nth)
    }

    /// The transport faults of an HTTP request: waits out `slow` (or `wobble`), then
    /// under `errors` answers the failures in turn from `failures`, and under a hostile
    /// fault (`giant`, `endless`, `trickle`, `garbage`, `redirect`) answers that instead
    /// (None: serve the request).
    pub async fn transport(
        &self,
        failures: &[fn() -> axum::response::Response],
    ) -> Option<axum::response::Response> {
        let delay = self.next_delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let fault = self.fault();
        if let Some(hostile) = fault.hostile_body() {
            return Some(crate::hostile::response(hostile));
        }
        let k = self.should_fail(fault.failure_percent())?;
        let index = usize::try_from(k % failures.len() as u64).unwrap_or(0);
        Some(failures[index]())
    }

    /// Serves `router` on `addr`, closing the port while the fault says so. `first` is the
    /// listener bound at start, so the endpoint serves as soon as its creator returns.
    pub async fn supervise(
        self: Arc<Self>,
        addr: SocketAddr,
        first: TcpListener,
        router: impl Fn() -> Router + Send + 'static,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut changed = self.changed.subscribe();
        let mut first = Some(first);
        loop {
            if *stop.borrow() {
                return;
            }
            if !self.accepting() {
                first = None;
                tokio::select! {
                    _ = changed.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let bound = match first.take() {
                Some(l) => Ok(l),
                None => TcpListener::bind(addr).await,
            };
            let listener = match bound {
                Ok(l) => l,
                Err(_) => {
                    // The port may linger briefly after closing; try again shortly.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            };
            let (down_tx, down_rx) = tokio::sync::oneshot::channel::<()>();
            let app = router();
            let mut server = tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = down_rx.await;
                    })
                    .await;
            });
            // Wait until the port must close (fault change, flapping phase, or stop).
            loop {
                tokio::select! {
                    _ = changed.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    _ = stop.changed() => {}
                }
                if *stop.borrow() || !self.accepting() {
                    break;
                }
            }
            let _ = down_tx.send(());
            // Established connections must die too: a down node answers nothing.
            self.session.send_modify(|s| *s += 1);
            if tokio::time::timeout(Duration::from_millis(100), &mut server)
                .await
                .is_err()
            {
                server.abort();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_fail_the_given_share_of_requests_evenly() {
        let s = Switch::default();
        let failed = (0..100).filter(|_| s.should_fail(30).is_some()).count();
        assert_eq!(failed, 30);
        assert_eq!((0..50).filter(|_| s.should_fail(0).is_some()).count(), 0);
    }

    #[test]
    fn frozen_set_again_stays_where_it_froze() {
        let s = Switch::default();
        s.set(Fault::Frozen, 10).unwrap();
        s.set(Fault::Frozen, 20).unwrap();
        assert_eq!(s.fault_and_frozen_at().1.slot, 10);
        s.set(Fault::Lagging { slots: 3 }, 30).unwrap();
        assert_eq!(s.fault_and_frozen_at().1.slot, 30);
        assert!(s.set(Fault::Errors { percent: 101 }, 0).is_err());
        assert_eq!(s.fault(), Fault::Lagging { slots: 3 });
    }
}
