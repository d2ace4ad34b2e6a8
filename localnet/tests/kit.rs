//! @solana/kit (the client the dashboard uses) against the localnet: app/test/kit-localnet.mjs
//! fetches the topology and receives an accountNotification when it changes. Needs
//! `npm ci` in app/ (the README's test command does it).
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use lifeline::instructions::{AddEndpointArgs, CreateNetworkArgs};
use lifeline::state::{PolicyParams, Role};
use lifeline_client::{ix, pda};
use lifeline_localnet::{Localnet, LocalnetConfig};
use solana_signer::Signer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solana_kit_fetches_the_topology_and_receives_its_update() {
    let app = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(
            || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            std::path::PathBuf::from,
        )
        .join("../app");
    assert!(
        app.join("node_modules/@solana/kit").exists(),
        "@solana/kit is not installed: run `npm ci --prefix app` (the README's test command does)"
    );
    let net = Localnet::start(LocalnetConfig {
        slot_duration: Duration::from_millis(100),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let creator = net
        .funded_keypairs(1, 5_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let send = |ixs: &[solana_instruction::Instruction]| {
        net.send(&creator, ixs).expect("lands");
    };
    send(&[ix::create_network(
        &creator.pubkey(),
        CreateNetworkArgs {
            name: "kit".into(),
            policy: PolicyParams::default(),
            guardian: None,
        },
    )]);
    let network = pda::network(&creator.pubkey(), "kit").0;
    let endpoint = |url: &str| AddEndpointArgs {
        group: 0,
        kind: 0,
        role: Role::Standby as u8,
        priority: 0,
        url: url.into(),
        region: "eu".into(),
        provider: "p".into(),
    };
    send(&[ix::add_endpoint(
        &network,
        &creator.pubkey(),
        endpoint("https://a.example"),
    )]);
    // let the slot end so "confirmed" reads see it
    tokio::time::sleep(Duration::from_millis(250)).await;

    let mut node = Command::new("node")
        .arg("test/kit-localnet.mjs")
        .current_dir(&app)
        .env("LIFELINE_RPC_URL", &net.rpc_url)
        .env("LIFELINE_WS_URL", &net.ws_url)
        .env("LIFELINE_TOPOLOGY", pda::topology(&network).0.to_string())
        .env("LIFELINE_PROGRAM_ID", lifeline::ID.to_string())
        .env("LIFELINE_EXPECT_EPOCH", "2")
        .env("LIFELINE_EXPECT_ENDPOINTS", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("node is installed");
    let stdout = node.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("node printed `subscribed` in time");
        lines.push(line.clone());
        if line == "subscribed" {
            break;
        }
    }
    send(&[ix::add_endpoint(
        &network,
        &creator.pubkey(),
        endpoint("https://b.example"),
    )]);
    let status = tokio::task::spawn_blocking(move || node.wait())
        .await
        .unwrap()
        .unwrap();
    lines.extend(rx.try_iter());
    assert!(status.success(), "kit script failed: {lines:?}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("notified epoch=3 endpoints=2")),
        "{lines:?}"
    );
}
