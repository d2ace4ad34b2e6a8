//! The real solana-rpc-client and solana-pubsub-client (3.1.x) against the localnet, over
//! real sockets.
//!
//! (Over 400 lines: one test per client library and RPC family.)
use std::time::Duration;

use futures_util::StreamExt;
use lifeline::instructions::{AddEndpointArgs, CreateNetworkArgs};
use lifeline::state::{Network, PolicyParams, Role};
use lifeline_client::{events::LifelineEvent, ix, pda};
use lifeline_localnet::{Localnet, LocalnetConfig};
use solana_account_decoder::UiAccountEncoding;
use solana_commitment_config::CommitmentConfig;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_pubsub_client::nonblocking::pubsub_client::PubsubClient;
use solana_rpc_client::nonblocking::rpc_client::RpcClient;
use solana_rpc_client_api::config::{
    RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSimulateTransactionConfig,
    RpcTransactionConfig,
};
use solana_rpc_client_api::filter::{Memcmp, RpcFilterType};
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_status_client_types::{
    option_serializer::OptionSerializer, UiTransactionEncoding,
};

const SOL: u64 = 1_000_000_000;

async fn start(slot_ms: u64) -> (Localnet, RpcClient) {
    let net = Localnet::start(LocalnetConfig {
        slot_duration: Duration::from_millis(slot_ms),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .expect("localnet starts");
    let client = RpcClient::new_with_commitment(net.rpc_url.clone(), CommitmentConfig::confirmed());
    (net, client)
}

fn create_args(name: &str) -> CreateNetworkArgs {
    CreateNetworkArgs {
        name: name.into(),
        policy: PolicyParams::default(),
        guardian: None,
    }
}

async fn funded(client: &RpcClient) -> Keypair {
    let kp = Keypair::new();
    let sig = client
        .request_airdrop(&kp.pubkey(), 10 * SOL)
        .await
        .expect("airdrop");
    client
        .poll_for_signature(&sig)
        .await
        .expect("airdrop confirmed");
    kp
}

async fn send(
    client: &RpcClient,
    ixs: &[solana_instruction::Instruction],
    payer: &Keypair,
) -> solana_signature::Signature {
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(ixs, Some(&payer.pubkey()), &[payer], blockhash);
    client
        .send_and_confirm_transaction(&tx)
        .await
        .expect("confirmed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn airdrop_transfer_and_balances() {
    let (_net, client) = start(100).await;
    assert_eq!(client.get_version().await.unwrap().solana_core, "3.1.12");
    let alice = funded(&client).await;
    assert_eq!(client.get_balance(&alice.pubkey()).await.unwrap(), 10 * SOL);
    let bob = Pubkey::new_unique();
    let ix = solana_system_interface::instruction::transfer(&alice.pubkey(), &bob, SOL);
    send(&client, &[ix], &alice).await;
    assert_eq!(client.get_balance(&bob).await.unwrap(), SOL);
    let fee = 10 * SOL - SOL - client.get_balance(&alice.pubkey()).await.unwrap();
    assert!(fee > 0 && fee < 100_000, "fee {fee}");
    let rent = client
        .get_minimum_balance_for_rent_exemption(Network::SPACE)
        .await
        .unwrap();
    assert!(rent > 0);
    // slots advance in real time
    let s1 = client.get_slot().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(client.get_slot().await.unwrap() > s1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_network_lands_and_program_accounts_filter() {
    let (_net, client) = start(100).await;
    let creator = funded(&client).await;
    let sig = send(
        &client,
        &[ix::create_network(&creator.pubkey(), create_args("alpha"))],
        &creator,
    )
    .await;
    send(
        &client,
        &[ix::create_network(&creator.pubkey(), create_args("beta"))],
        &creator,
    )
    .await;
    let (network, _) = pda::network(&creator.pubkey(), "alpha");
    let data = client.get_account_data(&network).await.unwrap();
    let decoded = lifeline_client::accounts::network(&data).unwrap();
    assert_eq!(
        (decoded.name(), decoded.authority),
        ("alpha", creator.pubkey())
    );

    // all Lifeline accounts, then only Networks (dataSize), then only this creator's (memcmp)
    let all = client.get_program_accounts(&lifeline::ID).await.unwrap();
    assert_eq!(all.len(), 6, "two networks, two topologies and two ballots");
    let by_size = RpcProgramAccountsConfig {
        filters: Some(vec![RpcFilterType::DataSize(Network::SPACE as u64)]),
        account_config: RpcAccountInfoConfig {
            encoding: Some(UiAccountEncoding::Base64),
            ..Default::default()
        },
        ..Default::default()
    };
    let networks = client
        .get_program_ui_accounts_with_config(&lifeline::ID, by_size.clone())
        .await
        .unwrap();
    assert_eq!(networks.len(), 2);
    let mut only_alpha = by_size.clone();
    let name_offset = 8
        + 32 * 4
        + std::mem::size_of::<lifeline::state::Policy>()
        + 64 * lifeline::constants::MAX_KEEPERS;
    only_alpha
        .filters
        .as_mut()
        .unwrap()
        .push(RpcFilterType::Memcmp(Memcmp::new_raw_bytes(
            name_offset,
            b"alpha".to_vec(),
        )));
    let alpha = client
        .get_program_ui_accounts_with_config(&lifeline::ID, only_alpha)
        .await
        .unwrap();
    assert_eq!(
        alpha.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
        vec![network]
    );

    // the transaction's events are visible to a client through getTransaction
    let tx = client
        .get_transaction_with_config(
            &sig,
            RpcTransactionConfig {
                encoding: Some(UiTransactionEncoding::Base64),
                commitment: Some(CommitmentConfig::confirmed()),
                max_supported_transaction_version: Some(0),
            },
        )
        .await
        .unwrap();
    let events = lifeline_client::events::from_transaction(&tx);
    assert!(
        matches!(events.as_slice(), [LifelineEvent::NetworkCreated(e)] if e.name == "alpha"),
        "{events:?}"
    );
    let meta = tx.transaction.meta.unwrap();
    let OptionSerializer::Some(logs) = meta.log_messages else {
        panic!("logs")
    };
    assert!(logs.iter().any(|l| l.contains(&lifeline::ID.to_string())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_subscription_receives_the_topology_update() {
    let (net, client) = start(100).await;
    let creator = funded(&client).await;
    send(
        &client,
        &[ix::create_network(&creator.pubkey(), create_args("subs"))],
        &creator,
    )
    .await;
    let (network, _) = pda::network(&creator.pubkey(), "subs");
    let topology = pda::topology(&network).0;

    let pubsub = PubsubClient::new(&net.ws_url).await.expect("ws connects");
    let config = RpcAccountInfoConfig {
        encoding: Some(UiAccountEncoding::Base64),
        commitment: Some(CommitmentConfig::confirmed()),
        ..Default::default()
    };
    let (mut updates, unsubscribe) = pubsub
        .account_subscribe(&topology, Some(config))
        .await
        .expect("subscribed");
    let (mut slots, _unsub_slots) = pubsub.slot_subscribe().await.expect("slot subscription");
    let first_slot = tokio::time::timeout(Duration::from_secs(5), slots.next())
        .await
        .expect("a slot notification")
        .unwrap();
    assert!(first_slot.slot > 0);

    let add = ix::add_endpoint(
        &network,
        &creator.pubkey(),
        AddEndpointArgs {
            group: 0,
            kind: 0,
            role: Role::Primary as u8,
            priority: 0,
            url: "https://rpc.example".into(),
            region: "eu".into(),
            provider: "p".into(),
        },
    );
    send(&client, &[add], &creator).await;
    let update = tokio::time::timeout(Duration::from_secs(5), updates.next())
        .await
        .expect("notification in time")
        .expect("stream open");
    let data = update.value.data.decode().expect("base64 data");
    let topo = lifeline_client::accounts::topology(&data).unwrap();
    assert_eq!((topo.endpoint_count, topo.epoch), (1, 2));
    assert!(update.context.slot > 0);
    unsubscribe().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_and_program_subscriptions() {
    let (net, client) = start(100).await;
    let creator = funded(&client).await;
    let pubsub = PubsubClient::new(&net.ws_url).await.unwrap();
    let (mut program_updates, _u1) = pubsub
        .program_subscribe(
            &lifeline::ID,
            Some(RpcProgramAccountsConfig {
                filters: Some(vec![RpcFilterType::DataSize(Network::SPACE as u64)]),
                account_config: RpcAccountInfoConfig {
                    encoding: Some(UiAccountEncoding::Base64),
                    ..Default::default()
                },
                ..Default::default()
            }),
        )
        .await
        .unwrap();
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(
        &[ix::create_network(&creator.pubkey(), create_args("sig"))],
        Some(&creator.pubkey()),
        &[&creator],
        blockhash,
    );
    let (mut sig_updates, _u2) = pubsub
        .signature_subscribe(&tx.signatures[0], None)
        .await
        .unwrap();
    client.send_transaction(&tx).await.unwrap();
    let sig_update = tokio::time::timeout(Duration::from_secs(5), sig_updates.next())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(sig_update.value, solana_rpc_client_api::response::RpcSignatureResult::ProcessedSignature(ref r) if r.err.is_none())
    );
    let keyed = tokio::time::timeout(Duration::from_secs(5), program_updates.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        keyed.value.pubkey,
        pda::network(&creator.pubkey(), "sig").0.to_string(),
        "only the Network matches the dataSize filter"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_blockhash_is_rejected() {
    // 20 ms slots: the 150-slot blockhash lifetime passes in ~3 s
    let (_net, client) = start(20).await;
    let payer = funded(&client).await;
    let old = client.get_latest_blockhash().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while client
        .is_blockhash_valid(&old, CommitmentConfig::processed())
        .await
        .unwrap()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "blockhash never expired"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ix =
        solana_system_interface::instruction::transfer(&payer.pubkey(), &Pubkey::new_unique(), 1);
    let tx = Transaction::new_signed_with_payer(&[ix], Some(&payer.pubkey()), &[&payer], old);
    let err = client
        .send_transaction(&tx)
        .await
        .expect_err("expired blockhash");
    assert!(err.to_string().contains("Blockhash not found"), "{err}");
    // and without preflight the transaction is not committed either
    let cfg = solana_rpc_client_api::config::RpcSendTransactionConfig {
        skip_preflight: true,
        ..Default::default()
    };
    assert!(client.send_transaction_with_config(&tx, cfg).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_transaction_shows_its_logs_in_simulation_and_status() {
    let (_net, client) = start(100).await;
    let creator = funded(&client).await;
    let bad = ix::create_network(
        &creator.pubkey(),
        CreateNetworkArgs {
            policy: PolicyParams {
                staleness_slots: 0,
                ..PolicyParams::default()
            },
            ..create_args("bad")
        },
    );
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let tx =
        Transaction::new_signed_with_payer(&[bad], Some(&creator.pubkey()), &[&creator], blockhash);
    let sim = client
        .simulate_transaction_with_config(
            &tx,
            RpcSimulateTransactionConfig {
                sig_verify: true,
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .value;
    let code = u32::from(lifeline::errors::LifelineError::InvalidPolicy);
    assert!(
        format!("{:?}", sim.err).contains(&code.to_string()),
        "{:?}",
        sim.err
    );
    let logs = sim.logs.unwrap();
    assert!(
        logs.iter()
            .any(|l| l.contains(&format!("custom program error: {code:#x}"))),
        "{logs:?}"
    );

    // preflight refuses it with the logs attached
    let err = client
        .send_transaction(&tx)
        .await
        .expect_err("preflight fails");
    assert!(err.to_string().contains("custom program error"), "{err}");

    // without preflight it lands as a failed transaction; the status and the logs say why
    let cfg = solana_rpc_client_api::config::RpcSendTransactionConfig {
        skip_preflight: true,
        ..Default::default()
    };
    let sig = client.send_transaction_with_config(&tx, cfg).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = client.get_signature_statuses(&[sig]).await.unwrap().value[0].clone() {
            break s;
        }
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(format!("{:?}", status.err).contains(&code.to_string()));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let tx = client
        .get_transaction(&sig, UiTransactionEncoding::Json)
        .await
        .unwrap();
    let OptionSerializer::Some(logs) = tx.transaction.meta.unwrap().log_messages else {
        panic!()
    };
    assert!(
        logs.iter()
            .any(|l| l.contains("failed: custom program error")),
        "{logs:?}"
    );
    let sigs = client
        .get_signatures_for_address(&creator.pubkey())
        .await
        .unwrap();
    assert!(sigs
        .iter()
        .any(|s| s.signature == sig.to_string() && s.err.is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_read_methods_answer_like_a_validator() {
    let (net, client) = start(100).await;
    let payer = funded(&client).await;
    let epoch = client.get_epoch_info().await.unwrap();
    assert!(epoch.absolute_slot > 0 && epoch.slots_in_epoch > 0);
    assert!(client.get_block_height().await.unwrap() > 0);
    assert_eq!(
        client.get_genesis_hash().await.unwrap(),
        net.cluster.genesis_hash()
    );
    assert_eq!(client.get_identity().await.unwrap(), lifeline::ID);
    let ix =
        solana_system_interface::instruction::transfer(&payer.pubkey(), &Pubkey::new_unique(), 1);
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let message =
        solana_message::Message::new_with_blockhash(&[ix], Some(&payer.pubkey()), &blockhash);
    assert_eq!(
        client.get_fee_for_message(&message).await.unwrap(),
        5_000,
        "one signature"
    );
    let fees = client
        .get_recent_prioritization_fees(&[payer.pubkey()])
        .await
        .unwrap();
    assert!(!fees.is_empty() && fees.iter().all(|f| f.prioritization_fee == 0));
    let accounts = client
        .get_multiple_accounts(&[payer.pubkey(), Pubkey::new_unique()])
        .await
        .unwrap();
    assert!(accounts[0].is_some() && accounts[1].is_none());
    // processed sees a transfer before confirmed does; both see it after the slot ends
    let to = Pubkey::new_unique();
    let blockhash = client.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(
        &[solana_system_interface::instruction::transfer(
            &payer.pubkey(),
            &to,
            2_000_000,
        )],
        Some(&payer.pubkey()),
        &[&payer],
        blockhash,
    );
    client.send_transaction(&tx).await.unwrap();
    let processed = client
        .get_balance_with_commitment(&to, CommitmentConfig::processed())
        .await
        .unwrap();
    assert_eq!(processed.value, 2_000_000);
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(client.get_balance(&to).await.unwrap(), 2_000_000);
}
