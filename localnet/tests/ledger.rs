//! `--ledger DIR`: a restarted localnet keeps the network state (nothing lost on restart).
use std::time::Duration;

use lifeline::instructions::CreateNetworkArgs;
use lifeline::state::PolicyParams;
use lifeline_client::{ix, pda};
use lifeline_localnet::{Localnet, LocalnetConfig};
use solana_signer::Signer;

fn config(dir: &std::path::Path) -> LocalnetConfig {
    LocalnetConfig {
        slot_duration: Duration::from_millis(50),
        ledger: Some(dir.to_path_buf()),
        ..LocalnetConfig::ephemeral()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_with_a_ledger_keeps_accounts_and_moves_forward() {
    let dir = std::env::temp_dir().join(format!("lifeline-ledger-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);

    let net = Localnet::start(config(&dir)).await.unwrap();
    let creator = net
        .funded_keypairs(1, 5_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let create = ix::create_network(
        &creator.pubkey(),
        CreateNetworkArgs {
            name: "kept".into(),
            policy: PolicyParams::default(),
            guardian: None,
        },
    );
    net.send(&creator, &[create]).expect("created");
    let network = pda::network(&creator.pubkey(), "kept").0;
    let before = net
        .cluster
        .working_bank()
        .get_account(&network)
        .expect("exists");
    let slot_before = net.cluster.working_bank().slot();
    let balance = net.cluster.working_bank().get_balance(&creator.pubkey());
    net.shutdown();

    let net = Localnet::start(config(&dir)).await.unwrap();
    let bank = net.cluster.working_bank();
    let after = bank
        .get_account(&network)
        .expect("the network survived the restart");
    assert_eq!(after.data(), before.data());
    assert_eq!(bank.get_balance(&creator.pubkey()), balance);
    assert!(
        bank.slot() > slot_before,
        "slots resume after the persisted one ({} vs {slot_before})",
        bank.slot()
    );
    net.shutdown();

    // an unreadable ledger is a clear error, not a panic
    std::fs::write(dir.join("accounts.bin"), b"not a ledger").unwrap();
    let err = Localnet::start(config(&dir)).await.err().expect("refused");
    assert!(err.to_string().contains("not a localnet ledger"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

use solana_account::ReadableAccount;
