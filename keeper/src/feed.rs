//! Feeding the lag reference (`reference.rs`) and the fork book (`forks.rs`) from the
//! keeper's own trusted sources: its RPCs, polled for their processed slot and the
//! confirmed block hash; its PubSub, followed as a slot subscription.
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::forks::Forks;
use crate::probe::{cluster_view, SlotStream};
use crate::reference::References;

/// Follows a PubSub slot subscription as one more source (the keeper's `ws_url`), until
/// `shutdown`.
pub async fn follow(
    references: Arc<References>,
    stream: SlotStream,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut rx = stream.watch();
    let mut warned = false;
    loop {
        tokio::select! {
            changed = rx.changed() => if changed.is_err() { return },
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        let state = rx.borrow_and_update().clone();
        if let Some((slot, _)) = state.last {
            references.record(&stream.url, slot);
        } else if state.failures > 0 && !warned {
            warned = true;
            tracing::warn!(url = %stream.url, "the keeper's ws_url does not stream slots; the reference relies on polling its RPCs");
        }
    }
}

/// Polls every RPC source every `every` until `shutdown`, and hands the confirmed block
/// hashes they serve to `forks`.
pub async fn poll(
    references: Arc<References>,
    http: reqwest::Client,
    forks: Arc<Forks>,
    every: Duration,
    timeout: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let sources = references.rpc_sources();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            return;
        }
        let polls = sources.iter().map(|url| {
            let http = http.clone();
            let url = url.clone();
            async move { (cluster_view(&http, &url, timeout).await, url) }
        });
        for (view, url) in futures_util::future::join_all(polls).await {
            if let Some(view) = view {
                references.record(&url, view.slot);
                if let Some((slot, hash)) = view.confirmed {
                    forks.trusted_said(slot, &hash);
                }
            }
        }
    }
}
