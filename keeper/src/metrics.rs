//! `/metrics` (Prometheus text format) and `/healthz` for the keeper.
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;

use crate::daemon::KeeperStats;

#[derive(Clone)]
struct Shared {
    stats: Arc<KeeperStats>,
    /// /healthz fails when no tick succeeded for this long.
    stale_after: Duration,
}

/// The metrics in Prometheus text exposition format, named `lifeline_keeper_<noun>_<unit>`.
pub fn render(stats: &KeeperStats) -> String {
    let counters = [
        (
            "lifeline_keeper_ticks_total",
            "Probe ticks run",
            &stats.ticks,
        ),
        (
            "lifeline_keeper_probes_total",
            "Endpoint probes sent",
            &stats.probes,
        ),
        (
            "lifeline_keeper_attestations_sent_total",
            "Attestations confirmed on chain",
            &stats.attestations_sent,
        ),
        (
            "lifeline_keeper_attestations_failed_total",
            "Attestations that did not land",
            &stats.attestations_failed,
        ),
        (
            "lifeline_keeper_migrations_sent_total",
            "trigger_migration transactions this keeper landed",
            &stats.migrations_sent,
        ),
        (
            "lifeline_keeper_readmissions_sent_total",
            "readmit_endpoint transactions this keeper landed",
            &stats.readmissions_sent,
        ),
        (
            "lifeline_keeper_races_lost_total",
            "Permissionless transactions another keeper landed first",
            &stats.races_lost,
        ),
        (
            "lifeline_keeper_blocked_failovers_total",
            "Ticks with a primary down by quorum but no healthy standby",
            &stats.blocked_failovers,
        ),
    ];
    let mut out = String::new();
    for (name, help, value) in counters {
        out.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
            value.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP lifeline_keeper_probe_failures_total Probes that got no valid answer\n# TYPE lifeline_keeper_probe_failures_total counter\n");
    out.push_str(&format!(
        "lifeline_keeper_probe_failures_total {}\n",
        stats.probe_failures.load(Ordering::Relaxed)
    ));
    out.push_str("# HELP lifeline_keeper_probe_latency_ms Probe round-trip latency\n# TYPE lifeline_keeper_probe_latency_ms histogram\n");
    for (bound, bucket) in crate::daemon::LATENCY_BUCKETS_MS
        .iter()
        .zip(&stats.probe_latency_buckets)
    {
        out.push_str(&format!(
            "lifeline_keeper_probe_latency_ms_bucket{{le=\"{bound}\"}} {}\n",
            bucket.load(Ordering::Relaxed)
        ));
    }
    let count = stats.probes.load(Ordering::Relaxed);
    out.push_str(&format!(
        "lifeline_keeper_probe_latency_ms_bucket{{le=\"+Inf\"}} {count}\n"
    ));
    out.push_str(&format!(
        "lifeline_keeper_probe_latency_ms_sum {}\n",
        stats.probe_latency_sum_ms.load(Ordering::Relaxed)
    ));
    out.push_str(&format!("lifeline_keeper_probe_latency_ms_count {count}\n"));
    let gauges = stats.endpoints.lock().unwrap();
    for (name, help, value) in [
        (
            "lifeline_keeper_endpoint_slot_lag_slots",
            "Slots behind the cluster in the last window",
            (|g: &crate::daemon::EndpointGauges| g.slot_lag)
                as fn(&crate::daemon::EndpointGauges) -> u64,
        ),
        (
            "lifeline_keeper_endpoint_latency_ms",
            "Median probe latency in the last window",
            |g| g.latency_ms as u64,
        ),
        (
            "lifeline_keeper_endpoint_verdict",
            "0 unknown, 1 healthy, 2 degraded, 3 down",
            |g| g.verdict as u64,
        ),
        (
            "lifeline_keeper_endpoint_consecutive_bad_windows",
            "Consecutive bad windows",
            |g| g.consecutive_bad as u64,
        ),
    ] {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
        for (id, g) in gauges.iter() {
            out.push_str(&format!(
                "{name}{{endpoint=\"{id}\",group=\"{}\",url=\"{}\"}} {}\n",
                g.group,
                g.url,
                value(g)
            ));
        }
    }
    drop(gauges);
    out.push_str(&format!(
        "# HELP lifeline_keeper_last_ok_timestamp_ms Unix time of the last successful tick\n# TYPE lifeline_keeper_last_ok_timestamp_ms gauge\nlifeline_keeper_last_ok_timestamp_ms {}\n",
        stats.last_ok_unix_ms.load(Ordering::Relaxed)
    ));
    out
}

pub fn router(stats: Arc<KeeperStats>, stale_after: Duration) -> Router {
    async fn metrics(State(s): State<Shared>) -> String {
        render(&s.stats)
    }
    async fn healthz(State(s): State<Shared>) -> (StatusCode, &'static str) {
        let last = s.stats.last_ok_unix_ms.load(Ordering::Relaxed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        if last > 0 && now.saturating_sub(last) <= s.stale_after.as_millis() as u64 {
            (StatusCode::OK, "ok\n")
        } else {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "no successful tick recently\n",
            )
        }
    }
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(Shared { stats, stale_after })
}
