//! The web dashboard end to end: app/test/e2e.mjs builds the production bundle, opens it
//! in headless Chromium against this localnet, and checks that the page shows the
//! topology, then — after ep0 is frozen and real keepers migrate group 0 — the new primary
//! and the migration with its evidence, without a reload; then, with the new primary
//! frozen too, why the group cannot fail over again; a keeper that attested once and then
//! fell silent, shown as such with the slot it last attested; then the polling fallback
//! and the banners for a wrong network and an unreachable RPC, the form that fixes it, and
//! the choice between two networks when none is named.
//!
//! Needs `npm ci` in app/ and Debian's chromium (`.ci/run` installs both). Set
//! LIFELINE_SCREENSHOT=/abs/path.png to save the page after the migration.
use std::time::Duration;

use lifeline::instructions::CreateNetworkArgs;
use lifeline::state::PolicyParams;
use lifeline_client::ix;
use lifeline_sandbox::{fast_policy, Sandbox, SandboxConfig, Seen};
use lifeline_tests::dashboard::dashboard_script;
use solana_signer::Signer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_shows_the_topology_and_follows_a_migration_live() {
    // Four keepers: three daemons and an actor that attests once and then stays silent.
    // A liveness window of 60 slots (6 s) lets it fall silent while the test runs; the
    // daemons heartbeat at a third of it. The quorum (3 of 4) is the daemons'.
    let mut sb = Sandbox::start(SandboxConfig {
        keepers: 4,
        daemons: 3,
        policy: PolicyParams {
            liveness_slots: 60,
            ..fast_policy()
        },
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox");
    sb.settle(Duration::from_secs(20))
        .await
        .expect("keepers attest");
    let healthy: Vec<(u32, Seen)> = (0..2)
        .map(|i| (sb.endpoint_id(i), Seen::healthy()))
        .collect();
    sb.act(3, &healthy).expect("the actor attests once");
    let silent_slot = sb
        .network_state()
        .keeper_index(&sb.keepers[3].pubkey())
        .expect("the actor is in the set");
    // A second network on the same RPC: without ?network= the page must ask which.
    sb.send(&[ix::create_network(
        &sb.authority.pubkey(),
        CreateNetworkArgs {
            name: "other".into(),
            policy: PolicyParams::default(),
            guardian: None,
        },
    )])
    .expect("second network");
    let urls = sb.net.endpoint_urls();
    let mut node = dashboard_script(&sb, "test/e2e.mjs");
    node.env("LIFELINE_PRIMARY_URL", &urls[0])
        .env("LIFELINE_STANDBY_URL", &urls[1])
        .env("LIFELINE_SILENT_KEEPER_SLOT", silent_slot.to_string());
    // The keepers run on this runtime: wait for node without blocking it.
    let out = tokio::task::spawn_blocking(move || node.output())
        .await
        .unwrap()
        .expect("node is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "dashboard e2e failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // The page saw the migration the chain recorded.
    let t = sb.topology();
    assert_eq!(t.history_total, 1, "exactly one migration");
    assert!(stdout.contains("9 passed, 0 failed"), "{stdout}");
}
