//! What every chaos scenario shares: one scenario at a time, a sandbox whose keepers have
//! attested, and the three verdicts — no false, no missed, no duplicate migration.
use std::time::{Duration, Instant};

use lifeline::state::{MigrationRecord, Reason};
use lifeline_sandbox::{Sandbox, SandboxConfig};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How long a scenario waits for a migration before calling it missed.
pub const DETECT: Duration = Duration::from_secs(15);

/// Each test runs on its own runtime; tokio's mutex is runtime-agnostic and safe to hold
/// across awaits.
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().await
}

/// A sandbox once every daemon has attested.
pub async fn start(config: SandboxConfig) -> Sandbox {
    let sb = Sandbox::start(config).await.expect("sandbox");
    sb.settle(Duration::from_secs(20))
        .await
        .expect("keepers attest");
    sb
}

/// Four daemons, ep0 primary and ep1 standby in group 0.
pub async fn standard() -> Sandbox {
    start(SandboxConfig::default()).await
}

/// Asserts exactly one migration endpoint `from` → `to` (simulated endpoint indexes) for
/// one of `rules`, and none after it for `quiet`.
pub async fn expect_one_migration(
    sb: &Sandbox,
    from: usize,
    to: usize,
    rules: &[Reason],
    quiet: Duration,
) {
    let m = sb
        .wait_migration(0, DETECT)
        .await
        .expect("missed migration: none within 15 s");
    check_migration(sb, &m, from, to, rules);
    tokio::time::sleep(quiet).await;
    assert_eq!(sb.topology().history_total, 1, "duplicate migration");
}

/// Asserts `m` moved endpoint `from` to `to` for one of `rules`, on a quorum's votes.
pub fn check_migration(
    sb: &Sandbox,
    m: &MigrationRecord,
    from: usize,
    to: usize,
    rules: &[Reason],
) {
    assert_eq!(
        (m.from_id, m.to_id),
        (sb.endpoint_id(from), sb.endpoint_id(to)),
        "group {} moved the wrong way",
        m.group
    );
    assert!(
        rules.contains(&Reason::from_u8(m.rule)),
        "group {}: rule {:?}, expected one of {rules:?}",
        m.group,
        Reason::from_u8(m.rule)
    );
    assert!(m.voter_count >= 3, "a quorum voted: {}", m.voter_count);
}

/// Waits for `n` migrations in all, then asserts no more come for `quiet`; returns them.
pub async fn expect_migrations(sb: &Sandbox, n: u64, quiet: Duration) -> Vec<MigrationRecord> {
    assert!(
        sb.wait_for(DETECT, |s| s.topology.history_total >= n).await,
        "missed migrations: {} of {n} within 15 s",
        sb.topology().history_total
    );
    tokio::time::sleep(quiet).await;
    let t = sb.topology();
    assert_eq!(t.history_total, n, "duplicate or false migration");
    t.recent_migrations().copied().collect()
}

/// Asserts no migration for `window`.
pub async fn expect_no_migration(sb: &Sandbox, window: Duration) {
    let until = Instant::now() + window;
    while Instant::now() < until {
        assert_eq!(sb.topology().history_total, 0, "false migration");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
