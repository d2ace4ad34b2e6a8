//! `/metrics` (Prometheus text format) and `/healthz` for the keeper. Every metric is
//! documented in docs/operator-guide.md.
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;

use crate::stats::{unix_ms, EndpointGauges, KeeperStats, LATENCY_BUCKETS_MS};

#[derive(Clone)]
struct Shared {
    stats: Arc<KeeperStats>,
    /// /healthz fails when no round read the chain for this long.
    stale_after: Duration,
}

fn counter(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = write!(
        out,
        "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
    );
}

fn gauge_header(out: &mut String, name: &str, help: &str) {
    let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n");
}

/// The metrics in Prometheus text exposition format, named `lifeline_keeper_<noun>_<unit>`.
pub fn render(stats: &KeeperStats) -> String {
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let mut out = String::new();
    for (name, help, value) in [
        ("lifeline_keeper_rounds_total", "Rounds of the keeper loop", &stats.rounds),
        ("lifeline_keeper_probes_total", "Endpoint probes sent", &stats.probes),
        ("lifeline_keeper_probe_failures_total", "Probes that got no valid answer (errors and unreachable; timeouts count as latency)", &stats.probe_failures),
        ("lifeline_keeper_attestations_sent_total", "Attestations confirmed on chain", &stats.attestations_sent),
        ("lifeline_keeper_attestations_failed_total", "Attestations that did not land for a reason other than a lost race", &stats.attestations_failed),
        ("lifeline_keeper_migrations_sent_total", "trigger_migration transactions this keeper landed", &stats.migrations_sent),
        ("lifeline_keeper_readmissions_sent_total", "readmit_endpoint transactions this keeper landed", &stats.readmissions_sent),
        ("lifeline_keeper_races_lost_total", "Transactions another keeper landed first, or the chain moved past (normal)", &stats.races_lost),
        ("lifeline_keeper_send_failures_total", "Transactions that failed for real: refused, RPC, or the fee payer out of funds", &stats.send_failures),
        ("lifeline_keeper_failed_transactions_total", "Transactions that landed and failed on chain (each paid its fee): races lost after preflight, refusals", &stats.failed_transactions),
        ("lifeline_keeper_failed_transaction_fees_lamports_total", "Fees paid by transactions that failed on chain, lamports", &stats.failed_transaction_fees_lamports),
        ("lifeline_keeper_attestations_capped_total", "Attestations held back by the cap (max_attestations_per_hour): an endpoint provoking more than the keeper will pay for", &stats.attestations_capped),
        ("lifeline_keeper_fees_paid_lamports_total", "Fees paid by every transaction that landed, lamports", &stats.fees_paid_lamports),
        ("lifeline_keeper_blocked_failovers_total", "Looks at the chain that found a primary down by quorum and no quorum-healthy standby (the group needs an operator)", &stats.blocked_failovers),
    ] {
        counter(&mut out, name, help, get(value));
    }
    gauge_header(
        &mut out,
        "lifeline_keeper_balance_lamports",
        "The keeper's wallet balance as last read",
    );
    let _ = writeln!(
        out,
        "lifeline_keeper_balance_lamports {}",
        get(&stats.balance_lamports)
    );
    let days = get(&stats.fee_days_left_centi);
    if days != 0 || get(&stats.balance_lamports) != 0 {
        gauge_header(
            &mut out,
            "lifeline_keeper_fee_days_left",
            "Days of fees the balance covers at the rate of the last hour (at least the steady state's)",
        );
        let _ = writeln!(
            out,
            "lifeline_keeper_fee_days_left {:.2}",
            days as f64 / 100.0
        );
    }
    let name = "lifeline_keeper_attestations_by_trigger_total";
    let _ = write!(
        out,
        "# HELP {name} Attestations sent, by what triggered them\n# TYPE {name} counter\n"
    );
    for (trigger, n) in stats.attestations_by_trigger.lock().unwrap().iter() {
        let _ = writeln!(out, "{name}{{trigger=\"{trigger}\"}} {n}");
    }
    out.push_str("# HELP lifeline_keeper_probe_latency_ms Probe round-trip latency\n# TYPE lifeline_keeper_probe_latency_ms histogram\n");
    for (bound, bucket) in LATENCY_BUCKETS_MS.iter().zip(&stats.probe_latency_buckets) {
        let _ = writeln!(
            out,
            "lifeline_keeper_probe_latency_ms_bucket{{le=\"{bound}\"}} {}",
            get(bucket)
        );
    }
    let count = get(&stats.probes);
    let _ = write!(
        out,
        "lifeline_keeper_probe_latency_ms_bucket{{le=\"+Inf\"}} {count}\nlifeline_keeper_probe_latency_ms_sum {}\nlifeline_keeper_probe_latency_ms_count {count}\n",
        get(&stats.probe_latency_sum_ms)
    );
    endpoint_gauges(&mut out, &stats.endpoints.lock().unwrap());
    keeper_gauges(&mut out, stats);
    out
}

/// This keeper's standing: the set, the reference, the chain, and every keeper's last
/// attestation as it read them.
fn keeper_gauges(out: &mut String, stats: &KeeperStats) {
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    gauge_header(
        out,
        "lifeline_keeper_keeper_last_attested_slot",
        "Slot of each keeper's last attestation as this keeper last read it (0 = never): a keeper whose value stops moving is silent",
    );
    for (key, slot) in stats.keepers_last_attested.lock().unwrap().iter() {
        let _ = writeln!(
            out,
            "lifeline_keeper_keeper_last_attested_slot{{keeper=\"{key}\"}} {slot}"
        );
    }
    let single: [(&str, &str, u64); 3] = [
        (
            "lifeline_keeper_in_keeper_set",
            "1 while this keeper's key is in the network's keeper set",
            u64::from(stats.in_set.load(Ordering::Relaxed)),
        ),
        (
            "lifeline_keeper_reference_slot",
            "The slot endpoints' lag is measured from: the highest recent slot of the keeper's own RPCs and PubSub",
            get(&stats.reference_slot),
        ),
        (
            "lifeline_keeper_last_ok_timestamp_ms",
            "Unix time of the last round that read the chain",
            get(&stats.last_ok_unix_ms),
        ),
    ];
    for (name, help, value) in single {
        gauge_header(out, name, help);
        let _ = writeln!(out, "{name} {value}");
    }
}

fn endpoint_gauges(out: &mut String, gauges: &std::collections::BTreeMap<u32, EndpointGauges>) {
    type Read = fn(&EndpointGauges) -> Option<u64>;
    let series: [(&str, &str, Read); 8] = [
        (
            "lifeline_keeper_endpoint_slot_lag_slots",
            "Slots behind the reference at the last probe (absent while the endpoint gives no slot)",
            |g| g.slot_lag,
        ),
        (
            "lifeline_keeper_endpoint_unreachable",
            "1 when the last probe could not reach the endpoint",
            |g| Some(g.unreachable as u64),
        ),
        (
            "lifeline_keeper_endpoint_latency_ms",
            "Latency of the last probe",
            |g| Some(g.latency_ms as u64),
        ),
        (
            "lifeline_keeper_endpoint_verdict",
            "0 unknown, 1 healthy, 2 degraded, 3 down",
            |g| Some(g.verdict as u64),
        ),
        (
            "lifeline_keeper_endpoint_consecutive_bad_windows",
            "Consecutive bad windows",
            |g| Some(g.consecutive_bad as u64),
        ),
        (
            "lifeline_keeper_endpoint_consecutive_good_windows",
            "Consecutive good windows",
            |g| Some(g.consecutive_good as u64),
        ),
        (
            "lifeline_keeper_endpoint_keepers_reaching",
            "Counted keepers whose latest attestation reached the endpoint (the chain's ballot)",
            |g| Some(g.keepers_reaching as u64),
        ),
        (
            "lifeline_keeper_endpoint_keepers_not_reaching",
            "Counted keepers that could not reach it: with keepers_reaching, an endpoint reachable by some keepers only",
            |g| Some(g.keepers_not_reaching as u64),
        ),
    ];
    for (name, help, read) in series {
        gauge_header(out, name, help);
        for (id, g) in gauges {
            if let Some(v) = read(g) {
                let _ = writeln!(
                    out,
                    "{name}{{endpoint=\"{id}\",group=\"{}\",kind=\"{}\",url=\"{}\"}} {v}",
                    g.group, g.kind, g.url
                );
            }
        }
    }
}

pub fn router(stats: Arc<KeeperStats>, stale_after: Duration) -> Router {
    async fn metrics(State(s): State<Shared>) -> String {
        render(&s.stats)
    }
    async fn healthz(State(s): State<Shared>) -> (StatusCode, &'static str) {
        if !s.stats.in_set.load(Ordering::Relaxed) {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "not in the network's keeper set\n",
            );
        }
        let last = s.stats.last_ok_unix_ms.load(Ordering::Relaxed);
        if last > 0 && unix_ms().saturating_sub(last) <= s.stale_after.as_millis() as u64 {
            (StatusCode::OK, "ok\n")
        } else {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "no successful round recently\n",
            )
        }
    }
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .with_state(Shared { stats, stale_after })
}
