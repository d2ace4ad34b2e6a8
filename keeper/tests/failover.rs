//! Real keepers (the daemon loop, in-process) against the localnet and its fault
//! endpoints: they detect a frozen primary, attest, and the migration lands.
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lifeline::instructions::{AddEndpointArgs, AddKeeperArgs, CreateNetworkArgs};
use lifeline::state::{PolicyParams, Reason, Role};
use lifeline_client::{accounts, ix, pda};
use lifeline_keeper::config::{load, KeeperConfig};
use lifeline_keeper::Keeper;
use lifeline_localnet::{Fault, Localnet, LocalnetConfig};
use solana_account::ReadableAccount;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn policy() -> PolicyParams {
    // 100 ms slots: a node 8 slots (0.8 s) behind is down.
    PolicyParams {
        staleness_slots: 60,
        cooldown_slots: 30,
        quarantine_base_slots: 100,
        quarantine_max_slots: 1_000,
        probation_slots: 30,
        lag_degraded_slots: 4,
        lag_down_slots: 8,
        ..PolicyParams::default()
    }
}

fn keeper_config(net: &Localnet, network: &anchor_lang::prelude::Pubkey) -> KeeperConfig {
    load(
        None,
        vec![],
        &[
            ("network", network.to_string()),
            ("url", net.rpc_url.clone()),
            ("probe_interval_ms", "300".into()),
            ("probe_timeout_ms", "250".into()),
            ("jitter_ms", "300".into()),
        ],
    )
    .expect("valid config")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keepers_detect_a_frozen_primary_attest_and_migrate() {
    let net = Localnet::start(LocalnetConfig {
        endpoints: 2,
        slot_duration: Duration::from_millis(100),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let authority = net
        .funded_keypairs(1, 10_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let keepers = net.funded_keypairs(4, 2_000_000_000).unwrap();
    let send = |ixs: &[solana_instruction::Instruction]| {
        net.send(&authority, ixs).expect("lands");
    };
    send(&[ix::create_network(
        &authority.pubkey(),
        CreateNetworkArgs {
            name: "kept".into(),
            policy: policy(),
            guardian: None,
        },
    )]);
    let network = pda::network(&authority.pubkey(), "kept").0;
    for (i, k) in keepers.iter().enumerate() {
        send(&[ix::add_keeper(
            &network,
            &authority.pubkey(),
            AddKeeperArgs {
                keeper: k.pubkey(),
                region: format!("r{i}"),
                provider: format!("p{}", i % 2),
            },
        )]);
    }
    let urls = net.endpoint_urls();
    for (i, url) in urls.iter().enumerate() {
        let role = if i == 0 { Role::Primary } else { Role::Standby };
        send(&[ix::add_endpoint(
            &network,
            &authority.pubkey(),
            AddEndpointArgs {
                group: 0,
                kind: 0,
                role: role as u8,
                priority: 0,
                url: url.clone(),
                region: format!("r{i}"),
                provider: format!("p{i}"),
            },
        )]);
    }
    tokio::time::sleep(Duration::from_millis(250)).await;

    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let mut stats = Vec::new();
    for k in &keepers {
        let keeper = Keeper::new(keeper_config(&net, &network), k.insecure_clone())
            .await
            .expect("keeper starts");
        stats.push(keeper.stats());
        tokio::spawn(keeper.run(stop_rx.clone()));
    }

    let topology = |net: &Localnet| {
        accounts::topology(
            net.cluster
                .working_bank()
                .get_account(&pda::topology(&network).0)
                .unwrap()
                .data(),
        )
        .unwrap()
    };
    // Healthy: keepers attest once, then stay quiet (no migration).
    let deadline = Instant::now() + Duration::from_secs(20);
    while stats
        .iter()
        .any(|s| s.attestations_sent.load(Ordering::Relaxed) == 0)
    {
        assert!(Instant::now() < deadline, "keepers never attested");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        topology(&net).history_total,
        0,
        "no migration while healthy"
    );

    // The primary freezes: 200 OK, but its slot stops.
    net.faults.set("ep0", Fault::Frozen).unwrap();
    let frozen_at = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let t = topology(&net);
        if t.history_total > 0 {
            let record = *t.recent_migrations().next().unwrap();
            assert_eq!(record.rule, Reason::Stalled as u8);
            assert!(
                record.voter_count >= 3,
                "a quorum voted: {}",
                record.voter_count
            );
            assert_eq!(t.primary_of(0).unwrap().url(), urls[1]);
            eprintln!("frozen primary migrated after {:?}", frozen_at.elapsed());
            break;
        }
        assert!(Instant::now() < deadline, "no migration within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The attestation that completed the quorum migrated in its own transaction: no
    // keeper needed to send trigger_migration, and nothing migrated twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let sent: u64 = stats
        .iter()
        .map(|s| s.migrations_sent.load(Ordering::Relaxed))
        .sum();
    assert_eq!(sent, 0, "no separate trigger was needed");
    assert_eq!(topology(&net).history_total, 1, "no duplicate migration");
    let _ = stop.send(true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_outside_the_set_is_refused_with_a_clear_error() {
    let net = Localnet::start(LocalnetConfig {
        slot_duration: Duration::from_millis(100),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let authority = net
        .funded_keypairs(1, 10_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let create = ix::create_network(
        &authority.pubkey(),
        CreateNetworkArgs {
            name: "n".into(),
            policy: policy(),
            guardian: None,
        },
    );
    net.send(&authority, &[create]).unwrap();
    let network = pda::network(&authority.pubkey(), "n").0;
    let stranger = Keypair::new();
    let err = Keeper::new(keeper_config(&net, &network), stranger)
        .await
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("not in the network's keeper set"),
        "{err}"
    );
    let nowhere = Keypair::new().pubkey();
    let err = Keeper::new(keeper_config(&net, &nowhere), Keypair::new())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("not a Lifeline network"), "{err}");
}

/// A network with `keepers` in its set and the localnet's endpoints in group 0.
async fn network_with(net: &Localnet, keepers: &[Keypair]) -> anchor_lang::prelude::Pubkey {
    let authority = net
        .funded_keypairs(1, 10_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let send = |ixs: &[solana_instruction::Instruction]| {
        net.send(&authority, ixs).expect("lands");
    };
    send(&[ix::create_network(
        &authority.pubkey(),
        CreateNetworkArgs {
            name: "k".into(),
            policy: policy(),
            guardian: None,
        },
    )]);
    let network = pda::network(&authority.pubkey(), "k").0;
    for k in keepers {
        send(&[ix::add_keeper(
            &network,
            &authority.pubkey(),
            AddKeeperArgs {
                keeper: k.pubkey(),
                region: "r".into(),
                provider: "p".into(),
            },
        )]);
    }
    for (i, url) in net.endpoint_urls().iter().enumerate() {
        let role = if i == 0 { Role::Primary } else { Role::Standby };
        send(&[ix::add_endpoint(
            &network,
            &authority.pubkey(),
            AddEndpointArgs {
                group: 0,
                kind: 0,
                role: role as u8,
                priority: 0,
                url: url.clone(),
                region: "r".into(),
                provider: format!("p{i}"),
            },
        )]);
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    network
}

/// A localnet with `endpoints` fault endpoints and a network whose only keeper is `me`.
async fn one_keeper_network(endpoints: usize) -> (Localnet, Keypair, anchor_lang::prelude::Pubkey) {
    let net = Localnet::start(LocalnetConfig {
        endpoints,
        slot_duration: Duration::from_millis(100),
        ..LocalnetConfig::ephemeral()
    })
    .await
    .unwrap();
    let me = net
        .funded_keypairs(1, 2_000_000_000)
        .unwrap()
        .pop()
        .unwrap();
    let network = network_with(&net, std::slice::from_ref(&me)).await;
    (net, me, network)
}

fn report_seq(net: &Localnet, network: &anchor_lang::prelude::Pubkey, keeper: &Keypair) -> u64 {
    let bank = net.cluster.working_bank();
    let ballot =
        accounts::ballot(bank.get_account(&pda::ballot(network).0).unwrap().data()).unwrap();
    let n = accounts::network(bank.get_account(network).unwrap().data()).unwrap();
    ballot.reports[n.keeper_index(&keeper.pubkey()).unwrap()].seq
}

/// Runs `keeper` until `done` holds (or 20 s pass), then stops it.
async fn run_until(keeper: Keeper, mut done: impl FnMut() -> bool) {
    let (stop, rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(keeper.run(rx));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(true);
    let _ = task.await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_keeper_resumes_its_sequence_and_costs_no_attestation() {
    let (net, me, network) = one_keeper_network(2).await;

    let first = Keeper::new(keeper_config(&net, &network), me.insecure_clone())
        .await
        .unwrap();
    let first_stats = first.stats();
    // until its healthy votes are on chain (a second attestation once the streak counts)
    run_until(first, || report_votes_healthy(&net, &network, &me)).await;
    let seq = report_seq(&net, &network, &me);
    assert!(seq >= 1, "the first keeper attested");
    assert_eq!(first_stats.attestations_failed.load(Ordering::Relaxed), 0);

    let second = Keeper::new(keeper_config(&net, &network), me.insecure_clone())
        .await
        .unwrap();
    let stats = second.stats();
    let started = std::time::Instant::now();
    run_until(second, || started.elapsed() > Duration::from_secs(3)).await;
    // Nothing changed: the restarted keeper resumes its streaks from chain and stays
    // quiet (its votes stand); nothing was refused, no sequence number reused.
    assert_eq!(report_seq(&net, &network, &me), seq);
    assert_eq!(stats.attestations_sent.load(Ordering::Relaxed), 0);
    assert_eq!(stats.attestations_failed.load(Ordering::Relaxed), 0);
    assert!(stats.probes.load(Ordering::Relaxed) > 0, "it did probe");
}

fn report_votes_healthy(
    net: &Localnet,
    network: &anchor_lang::prelude::Pubkey,
    keeper: &Keypair,
) -> bool {
    let bank = net.cluster.working_bank();
    let ballot =
        accounts::ballot(bank.get_account(&pda::ballot(network).0).unwrap().data()).unwrap();
    let topology =
        accounts::topology(bank.get_account(&pda::topology(network).0).unwrap().data()).unwrap();
    let n = accounts::network(bank.get_account(network).unwrap().data()).unwrap();
    let row = &ballot.reports[n.keeper_index(&keeper.pubkey()).unwrap()];
    (0..topology.endpoints().len()).all(|j| row.votes[j].votes_healthy())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keeper_whose_first_rpc_is_down_works_through_the_next() {
    let (net, me, network) = one_keeper_network(1).await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = load(
        None,
        vec![],
        &[
            ("network", network.to_string()),
            ("url", format!("http://127.0.0.1:{dead}")),
            ("rpc_urls", format!("[\"{}\"]", net.rpc_url)),
            ("probe_interval_ms", "300".into()),
        ],
    )
    .unwrap();
    let keeper = Keeper::new(config, me.insecure_clone())
        .await
        .expect("starts through the second RPC");
    run_until(keeper, || report_seq(&net, &network, &me) >= 1).await;
    assert!(
        report_seq(&net, &network, &me) >= 1,
        "and attests through it"
    );
}
