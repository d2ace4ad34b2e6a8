//! The dashboard's live path, measured: how long after a migration is confirmed does the
//! page show the new primary, with subscriptions and with polling (the fallback), both
//! pages open on the same migrations:
//!   cargo bench -p lifeline-tests --bench dashboard
//! A localnet with 17 endpoints in group 0 (16 migrations) and 3 real keepers (100 ms
//! slots); each trial freezes the current primary. The browser side is app/test/bench-live.mjs (Debian's
//! chromium, `npm ci` in app/).
use std::time::Duration;

use lifeline_sandbox::{Sandbox, SandboxConfig};
use lifeline_tests::dashboard::dashboard_script;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let sb = Sandbox::start(SandboxConfig {
            keepers: 3,
            endpoints: 17,
            ..SandboxConfig::default()
        })
        .await
        .expect("sandbox");
        sb.settle(Duration::from_secs(30))
            .await
            .expect("keepers attest");
        let urls = serde_json::to_string(&sb.net.endpoint_urls()).unwrap();
        let mut node = dashboard_script(&sb, "test/bench-live.mjs");
        node.env("LIFELINE_ENDPOINT_URLS", urls);
        // The keepers run on this runtime: wait for node without blocking it.
        let status = tokio::task::spawn_blocking(move || node.status())
            .await
            .unwrap()
            .expect("node is installed");
        assert!(status.success(), "bench-live.mjs failed: {status}");
    });
}
