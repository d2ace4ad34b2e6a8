//! Authority instructions: happy paths, events, and the attacks that apply to each.
use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use lifeline::constants::*;
use lifeline::instructions::*;
use lifeline::state::{PolicyParams, Role};
use lifeline_client::{events::LifelineEvent, ix, pda};
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn create_args(name: &str) -> CreateNetworkArgs {
    CreateNetworkArgs {
        name: name.into(),
        policy: PolicyParams::default(),
        guardian: None,
    }
}

/// An address derived from `seeds` with a valid but non-canonical bump.
fn non_canonical(seeds: &[&[u8]]) -> Pubkey {
    let (_, canonical) = Pubkey::find_program_address(seeds, &lifeline::ID);
    (0..canonical)
        .rev()
        .find_map(|bump| {
            let mut s = seeds.to_vec();
            let b = [bump];
            s.push(&b);
            Pubkey::create_program_address(&s, &lifeline::ID).ok()
        })
        .expect("some lower bump is off the curve")
}

#[tokio::test]
async fn create_network_initializes_both_accounts_and_emits() {
    let mut t = TestNet::bare().await;
    let guardian = Pubkey::new_unique();
    let args = CreateNetworkArgs {
        guardian: Some(guardian),
        ..create_args("testnet")
    };
    let authority = t.authority.insecure_clone();
    let events = t
        .send_with_events(
            &[ix::create_network(&authority.pubkey(), args)],
            &[&authority],
        )
        .await
        .unwrap();
    let n = t.network_state().await;
    assert_eq!(
        (n.authority, n.creator, n.guardian),
        (authority.pubkey(), authority.pubkey(), guardian)
    );
    assert_eq!(
        (n.name(), n.version, n.keeper_count, n.is_paused()),
        ("testnet", ACCOUNT_VERSION, 0, false)
    );
    assert_eq!(n.bump, pda::network(&authority.pubkey(), "testnet").1);
    let topo = t.topology().await;
    assert_eq!(
        (topo.network, topo.epoch, topo.endpoint_count),
        (t.network, 1, 0)
    );
    let acc = t.account(&t.network.clone()).await.unwrap();
    assert_eq!(acc.owner, lifeline::ID);
    assert!(
        matches!(events.as_slice(), [LifelineEvent::NetworkCreated(e)] if e.name == "testnet" && e.guardian == guardian)
    );
}

#[tokio::test]
async fn create_network_rejects_bad_names_and_policies() {
    let mut t = TestNet::bare().await;
    let me = t.authority.pubkey();
    for name in [
        "",
        "has space",
        "tab\there",
        "ünïcode",
        &"x".repeat(MAX_NAME_LEN + 1),
    ] {
        // the builder cannot derive a PDA from a seed over 32 bytes: use any address
        let mut ix = ix::create_network(&me, create_args("placeholder"));
        ix.data = anchor_lang::InstructionData::data(&lifeline::instruction::CreateNetwork {
            args: create_args(name),
        });
        assert_lifeline_err(t.send_as_authority(ix).await, LifelineError::InvalidName);
    }
    let bad_policy = CreateNetworkArgs {
        policy: PolicyParams {
            staleness_slots: 0,
            ..PolicyParams::default()
        },
        ..create_args("ok")
    };
    assert_lifeline_err(
        t.send_as_authority(ix::create_network(&me, bad_policy))
            .await,
        LifelineError::InvalidPolicy,
    );
    let max = "n".repeat(MAX_NAME_LEN);
    t.send_as_authority(ix::create_network(&me, create_args(&max)))
        .await
        .expect("a 32-byte name is fine");
}

#[tokio::test]
async fn create_network_requires_canonical_pdas_and_a_signer() {
    let mut t = TestNet::bare().await;
    let me = t.authority.pubkey();
    let mut ix = ix::create_network(&me, create_args("testnet"));
    ix.accounts[1].pubkey = non_canonical(&[NETWORK_SEED, me.as_ref(), b"testnet"]);
    assert_lifeline_err(t.send_as_authority(ix).await, LifelineError::InvalidPda);
    let mut ix = ix::create_network(&me, create_args("testnet"));
    ix.accounts[2].pubkey = non_canonical(&[TOPOLOGY_SEED, t.network.as_ref()]);
    assert_lifeline_err(t.send_as_authority(ix).await, LifelineError::InvalidPda);
    // someone else's name-space: the creator is part of the address
    let mallory = Keypair::new();
    fund(&mut t.ctx, &mallory.pubkey(), LAMPORTS).await;
    let mut ix = ix::create_network(&mallory.pubkey(), create_args("testnet"));
    ix.accounts[1].pubkey = t.network;
    ix.accounts[2].pubkey = t.topology;
    assert_lifeline_err(t.send(&[ix], &[&mallory]).await, LifelineError::InvalidPda);
    let mut ix = ix::create_network(&me, create_args("testnet"));
    ix.accounts[0].is_signer = false;
    let err = t.send(&[ix], &[]).await.unwrap_err();
    assert!(
        error_code(&err) == Some(u32::from(Anchor::AccountNotSigner))
            || instruction_error(&err).is_some(),
        "{err:?}"
    );
}

#[tokio::test]
async fn create_network_cannot_be_replayed_over_an_existing_network() {
    let mut t = TestNet::new(1, PolicyParams::default()).await;
    t.add_endpoint(0, Role::Primary, "a", "b").await;
    let again = ix::create_network(&t.authority.pubkey(), create_args("testnet"));
    assert_lifeline_err(
        t.send_as_authority(again).await,
        LifelineError::AlreadyInitialized,
    );
    assert_eq!(t.topology().await.endpoint_count, 1, "state untouched");
}

#[tokio::test]
async fn pre_funding_the_pdas_cannot_block_creation() {
    let mut t = TestNet::bare().await;
    let griefer = t.ctx.payer.pubkey();
    // a stranger sends lamports to every address the program will create
    for key in [t.network, t.topology] {
        let tx = solana_system_interface::instruction::transfer(&griefer, &key, 1_000_000);
        t.send(&[tx], &[]).await.unwrap();
    }
    t.send_as_authority(ix::create_network(
        &t.authority.pubkey(),
        create_args("testnet"),
    ))
    .await
    .expect("creation despite pre-funding");
    let keeper = Pubkey::new_unique();
    let report = pda::report(&t.network, &keeper).0;
    // more than rent: nothing to top up, still created
    let tx = solana_system_interface::instruction::transfer(&griefer, &report, 50 * LAMPORTS / 10);
    t.send(&[tx], &[]).await.unwrap();
    let add = ix::add_keeper(
        &t.network,
        &t.authority.pubkey(),
        AddKeeperArgs {
            keeper,
            region: "r".into(),
            provider: "p".into(),
        },
    );
    t.send_as_authority(add)
        .await
        .expect("keeper added despite pre-funding");
    let acc = t.account(&report).await.unwrap();
    assert_eq!(
        (acc.owner, acc.data.len()),
        (lifeline::ID, lifeline::state::KeeperReport::SPACE)
    );
    assert_eq!(t.network_state().await.keeper_count, 1);
}

#[tokio::test]
async fn update_policy_validates_bumps_the_epoch_and_is_authority_only() {
    let mut t = TestNet::new(4, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let epoch = t.topology().await.epoch;
    let new = PolicyParams {
        cooldown_slots: 999,
        quorum: 4,
        ..PolicyParams::default()
    };
    let authority = t.authority.insecure_clone();
    let events = t
        .send_with_events(&[ix::update_policy(&t.network, &me, new)], &[&authority])
        .await
        .unwrap();
    assert_eq!(t.network_state().await.policy.cooldown_slots, 999);
    assert_eq!(t.topology().await.epoch, epoch + 1);
    assert!(matches!(events.as_slice(), [LifelineEvent::PolicyUpdated(e)] if e.policy == new));
    assert_lifeline_err(
        t.send_as_authority(ix::update_policy(&t.network, &me, new))
            .await,
        LifelineError::NoChange,
    );
    // invalid values
    for bad in [
        PolicyParams { quorum: 5, ..new },
        PolicyParams {
            breach_windows: 0,
            ..new
        },
        PolicyParams {
            error_down_bps: 10_001,
            ..new
        },
        PolicyParams {
            latency_degraded_ms: 5_000,
            latency_down_ms: 4_000,
            ..new
        },
        PolicyParams {
            quarantine_base_slots: u64::MAX,
            quarantine_max_slots: 1,
            ..new
        },
    ] {
        assert_lifeline_err(
            t.send_as_authority(ix::update_policy(&t.network, &me, bad))
                .await,
            LifelineError::InvalidPolicy,
        );
    }
    // extreme but valid u64 values
    let edge = PolicyParams {
        cooldown_slots: u64::MAX,
        quarantine_base_slots: u64::MAX,
        quarantine_max_slots: u64::MAX,
        probation_slots: u64::MAX,
        ..new
    };
    t.send_as_authority(ix::update_policy(&t.network, &me, edge))
        .await
        .unwrap();
    // wrong authority, missing signer, another network's topology
    let mallory = Keypair::new();
    assert_lifeline_err(
        t.send(
            &[ix::update_policy(&t.network, &mallory.pubkey(), new)],
            &[&mallory],
        )
        .await,
        LifelineError::Unauthorized,
    );
    let mut unsigned = ix::update_policy(&t.network, &me, new);
    unsigned.accounts[2].is_signer = false;
    assert_anchor_err(t.send(&[unsigned], &[]).await, Anchor::AccountNotSigner);
    t.send_as_authority(ix::create_network(&me, create_args("other")))
        .await
        .unwrap();
    let other = pda::network(&me, "other").0;
    let mut swapped = ix::update_policy(&t.network, &me, new);
    swapped.accounts[1].pubkey = pda::topology(&other).0;
    assert_lifeline_err(
        t.send_as_authority(swapped).await,
        LifelineError::WrongTopology,
    );
}

#[tokio::test]
async fn endpoints_add_update_remove_with_limits() {
    let mut t = TestNet::new(1, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let net = t.network;
    let add = |args: AddEndpointArgs| ix::add_endpoint(&net, &me, args);
    let ok = endpoint_args(0, Role::Primary, "https://rpc.example", "prov", "eu");
    let authority = t.authority.insecure_clone();
    let events = t
        .send_with_events(&[add(ok.clone())], &[&authority])
        .await
        .unwrap();
    assert!(
        matches!(events.as_slice(), [LifelineEvent::EndpointAdded(e)] if e.endpoint_id == 0 && e.url == "https://rpc.example")
    );
    let e = *t.topology().await.endpoint(0).unwrap();
    assert_eq!(
        (e.url(), e.region(), e.provider(), e.role()),
        ("https://rpc.example", "eu", "prov", Some(Role::Primary))
    );

    let cases: Vec<(AddEndpointArgs, LifelineError)> = vec![
        (
            AddEndpointArgs {
                url: "https://other.example".into(),
                ..ok.clone()
            },
            LifelineError::PrimaryExists,
        ),
        (
            AddEndpointArgs {
                role: Role::Standby as u8,
                ..ok.clone()
            },
            LifelineError::DuplicateEndpoint,
        ),
        (
            AddEndpointArgs {
                url: format!("https://{}", "a".repeat(MAX_URL_LEN)),
                ..ok.clone()
            },
            LifelineError::InvalidUrl,
        ),
        (
            AddEndpointArgs {
                url: "ftp://x".into(),
                ..ok.clone()
            },
            LifelineError::InvalidUrl,
        ),
        (
            AddEndpointArgs {
                url: "https://".into(),
                ..ok.clone()
            },
            LifelineError::InvalidUrl,
        ),
        (
            AddEndpointArgs {
                url: "https://a b".into(),
                ..ok.clone()
            },
            LifelineError::InvalidUrl,
        ),
        (
            AddEndpointArgs {
                region: "r".repeat(MAX_LABEL_LEN + 1),
                ..ok.clone()
            },
            LifelineError::InvalidLabel,
        ),
        (
            AddEndpointArgs {
                provider: "p\n".into(),
                ..ok.clone()
            },
            LifelineError::InvalidLabel,
        ),
        (
            AddEndpointArgs {
                group: MAX_GROUPS as u8,
                ..ok.clone()
            },
            LifelineError::InvalidGroup,
        ),
        (
            AddEndpointArgs {
                kind: 99,
                ..ok.clone()
            },
            LifelineError::InvalidKind,
        ),
        (
            AddEndpointArgs {
                role: Role::Quarantined as u8,
                ..ok.clone()
            },
            LifelineError::InvalidRole,
        ),
        (
            AddEndpointArgs {
                role: 0,
                ..ok.clone()
            },
            LifelineError::InvalidRole,
        ),
    ];
    for (args, want) in cases {
        assert_lifeline_err(t.send_as_authority(add(args)).await, want);
    }
    // a URL of exactly MAX_URL_LEN bytes is accepted
    let exact = format!("https://{}", "b".repeat(MAX_URL_LEN - 8));
    t.send_as_authority(add(AddEndpointArgs {
        url: exact,
        role: Role::Standby as u8,
        ..ok.clone()
    }))
    .await
    .unwrap();
    // fill up to MAX_ENDPOINTS, then one more is refused
    let count = t.topology().await.endpoint_count as usize;
    for i in count..MAX_ENDPOINTS {
        let args = AddEndpointArgs {
            url: format!("https://s{i}.example"),
            role: Role::Standby as u8,
            group: (i % MAX_GROUPS) as u8,
            ..ok.clone()
        };
        t.send_as_authority(add(args)).await.unwrap();
    }
    let one_more = AddEndpointArgs {
        url: "https://overflow.example".into(),
        role: Role::Standby as u8,
        ..ok.clone()
    };
    assert_lifeline_err(
        t.send_as_authority(add(one_more)).await,
        LifelineError::TooManyEndpoints,
    );

    // update: retire a standby, refuse to retire the primary or to promote through update
    let upd = |args: UpdateEndpointArgs| ix::update_endpoint(&net, &me, args);
    t.send_as_authority(upd(UpdateEndpointArgs {
        endpoint_id: 1,
        role: Some(Role::Retired as u8),
        priority: Some(9),
        ..Default::default()
    }))
    .await
    .unwrap();
    let e1 = *t.topology().await.endpoint(1).unwrap();
    assert_eq!((e1.role(), e1.priority), (Some(Role::Retired), 9));
    assert_lifeline_err(
        t.send_as_authority(upd(UpdateEndpointArgs {
            endpoint_id: 0,
            role: Some(Role::Retired as u8),
            ..Default::default()
        }))
        .await,
        LifelineError::PrimaryInUse,
    );
    assert_lifeline_err(
        t.send_as_authority(upd(UpdateEndpointArgs {
            endpoint_id: 1,
            role: Some(Role::Primary as u8),
            ..Default::default()
        }))
        .await,
        LifelineError::InvalidRole,
    );
    assert_lifeline_err(
        t.send_as_authority(upd(UpdateEndpointArgs {
            endpoint_id: 1,
            ..Default::default()
        }))
        .await,
        LifelineError::NoChange,
    );
    assert_lifeline_err(
        t.send_as_authority(upd(UpdateEndpointArgs {
            endpoint_id: 999,
            priority: Some(1),
            ..Default::default()
        }))
        .await,
        LifelineError::EndpointNotFound,
    );
    assert_lifeline_err(
        t.send_as_authority(upd(UpdateEndpointArgs {
            endpoint_id: 1,
            url: Some("https://rpc.example".into()),
            ..Default::default()
        }))
        .await,
        LifelineError::DuplicateEndpoint,
    );
    t.send_as_authority(upd(UpdateEndpointArgs {
        endpoint_id: 0,
        url: Some("https://moved.example".into()),
        ..Default::default()
    }))
    .await
    .unwrap();
    assert_eq!(
        t.topology().await.endpoint(0).unwrap().url(),
        "https://moved.example"
    );

    // remove: the primary of a populated group cannot go; a standby can
    let rm = |id| ix::remove_endpoint(&net, &me, id);
    assert_lifeline_err(
        t.send_as_authority(rm(0)).await,
        LifelineError::PrimaryInUse,
    );
    let epoch = t.topology().await.epoch;
    t.send_as_authority(rm(1)).await.unwrap();
    let topo = t.topology().await;
    assert!(topo.endpoint(1).is_none());
    assert_eq!(
        (topo.endpoint_count as usize, topo.epoch),
        (MAX_ENDPOINTS - 1, epoch + 1)
    );
    assert_lifeline_err(
        t.send_as_authority(rm(1)).await,
        LifelineError::EndpointNotFound,
    );
    // ids are never reused
    let args = AddEndpointArgs {
        url: "https://new.example".into(),
        role: Role::Standby as u8,
        ..ok.clone()
    };
    t.send_as_authority(add(args)).await.unwrap();
    assert!(t.topology().await.endpoint(MAX_ENDPOINTS as u32).is_some());

    // not the authority
    let mallory = Keypair::new();
    let mut bad = ix::add_endpoint(&t.network, &mallory.pubkey(), ok.clone());
    assert_lifeline_err(
        t.send(&[bad.clone()], &[&mallory]).await,
        LifelineError::Unauthorized,
    );
    bad.accounts[2].pubkey = me;
    bad.accounts[2].is_signer = false;
    assert_anchor_err(t.send(&[bad], &[]).await, Anchor::AccountNotSigner);
}

#[tokio::test]
async fn a_lone_primary_can_be_removed_to_decommission_its_group() {
    let mut t = TestNet::new(1, PolicyParams::default()).await;
    let p = t.add_endpoint(3, Role::Primary, "a", "b").await;
    t.send_as_authority(ix::remove_endpoint(&t.network, &t.authority.pubkey(), p))
        .await
        .unwrap();
    assert_eq!(t.topology().await.endpoint_count, 0);
}

#[tokio::test]
async fn keepers_add_remove_with_limits_and_quorum_guard() {
    let mut t = TestNet::new(0, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let k = Pubkey::new_unique();
    let args = AddKeeperArgs {
        keeper: k,
        region: "eu-west".into(),
        provider: "aws".into(),
    };
    let authority = t.authority.insecure_clone();
    let events = t
        .send_with_events(
            &[ix::add_keeper(&t.network, &me, args.clone())],
            &[&authority],
        )
        .await
        .unwrap();
    assert!(
        matches!(events.as_slice(), [LifelineEvent::KeeperAdded(e)] if e.keeper == k && e.keeper_count == 1)
    );
    let n = t.network_state().await;
    assert_eq!(
        (
            n.keepers[0].keeper,
            n.keepers[0].region(),
            n.keepers[0].provider()
        ),
        (k, "eu-west", "aws")
    );
    let r = lifeline_client::accounts::report(
        &t.account(&pda::report(&t.network, &k).0)
            .await
            .unwrap()
            .data,
    )
    .unwrap();
    assert_eq!((r.network, r.keeper, r.seq), (t.network, k, 0));

    // duplicate keeper: the report PDA already exists, and the set refuses it too
    assert_lifeline_err(
        t.send_as_authority(ix::add_keeper(&t.network, &me, args.clone()))
            .await,
        LifelineError::KeeperExists,
    );
    let bad = AddKeeperArgs {
        region: "r".repeat(17),
        keeper: Pubkey::new_unique(),
        ..args.clone()
    };
    assert_lifeline_err(
        t.send_as_authority(ix::add_keeper(&t.network, &me, bad))
            .await,
        LifelineError::InvalidLabel,
    );
    let nobody = AddKeeperArgs {
        keeper: Pubkey::default(),
        ..args.clone()
    };
    assert_lifeline_err(
        t.send_as_authority(ix::add_keeper(&t.network, &me, nobody))
            .await,
        LifelineError::KeeperNotInSet,
    );
    let mut wrong_pda = ix::add_keeper(
        &t.network,
        &me,
        AddKeeperArgs {
            keeper: Pubkey::new_unique(),
            ..args.clone()
        },
    );
    wrong_pda.accounts[2].pubkey = pda::report(&t.network, &Pubkey::new_unique()).0;
    assert_lifeline_err(
        t.send_as_authority(wrong_pda).await,
        LifelineError::InvalidPda,
    );

    // fill the set, then one more is refused
    let mut keys = vec![k];
    for _ in 1..MAX_KEEPERS {
        let key = Pubkey::new_unique();
        keys.push(key);
        t.send_as_authority(ix::add_keeper(
            &t.network,
            &me,
            AddKeeperArgs {
                keeper: key,
                ..args.clone()
            },
        ))
        .await
        .unwrap();
    }
    let extra = AddKeeperArgs {
        keeper: Pubkey::new_unique(),
        ..args.clone()
    };
    assert_lifeline_err(
        t.send_as_authority(ix::add_keeper(&t.network, &me, extra))
            .await,
        LifelineError::TooManyKeepers,
    );

    // remove closes the report and refunds the authority; the slot is reused
    let before = t.account(&me).await.unwrap().lamports;
    let events = t
        .send_with_events(
            &[ix::remove_keeper(&t.network, &me, &keys[3])],
            &[&authority],
        )
        .await
        .unwrap();
    assert!(matches!(events.as_slice(), [LifelineEvent::KeeperRemoved(e)] if e.keeper == keys[3]));
    assert!(t
        .account(&pda::report(&t.network, &keys[3]).0)
        .await
        .is_none());
    assert!(t.account(&me).await.unwrap().lamports > before);
    let n = t.network_state().await;
    assert_eq!(
        (n.keeper_count as usize, n.keepers[3].is_empty()),
        (MAX_KEEPERS - 1, true)
    );
    let newcomer = Pubkey::new_unique();
    t.send_as_authority(ix::add_keeper(
        &t.network,
        &me,
        AddKeeperArgs {
            keeper: newcomer,
            ..args.clone()
        },
    ))
    .await
    .unwrap();
    assert_eq!(t.network_state().await.keepers[3].keeper, newcomer);

    // a report that is not this keeper's cannot be closed in its name
    let mut swapped = ix::remove_keeper(&t.network, &me, &keys[4]);
    swapped.accounts[2].pubkey = pda::report(&t.network, &keys[5]).0;
    assert_lifeline_err(
        t.send_as_authority(swapped).await,
        LifelineError::WrongReport,
    );
    let mallory = Keypair::new();
    assert_lifeline_err(
        t.send(
            &[ix::remove_keeper(&t.network, &mallory.pubkey(), &keys[4])],
            &[&mallory],
        )
        .await,
        LifelineError::Unauthorized,
    );
}

#[tokio::test]
async fn removing_a_keeper_below_an_explicit_quorum_is_refused() {
    let mut t = TestNet::new(
        3,
        PolicyParams {
            quorum: 3,
            ..PolicyParams::default()
        },
    )
    .await;
    let me = t.authority.pubkey();
    let k0 = t.keepers[0].pubkey();
    assert_lifeline_err(
        t.send_as_authority(ix::remove_keeper(&t.network, &me, &k0))
            .await,
        LifelineError::QuorumUnreachable,
    );
    t.send_as_authority(ix::update_policy(
        &t.network,
        &me,
        PolicyParams {
            quorum: 2,
            ..PolicyParams::default()
        },
    ))
    .await
    .unwrap();
    t.send_as_authority(ix::remove_keeper(&t.network, &me, &k0))
        .await
        .unwrap();
}

#[tokio::test]
async fn authority_transfer_is_two_step() {
    let mut t = TestNet::new(0, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let heir = Keypair::new();
    let mallory = Keypair::new();
    // only the authority proposes
    assert_lifeline_err(
        t.send(
            &[ix::propose_authority(
                &t.network,
                &mallory.pubkey(),
                &mallory.pubkey(),
            )],
            &[&mallory],
        )
        .await,
        LifelineError::Unauthorized,
    );
    t.send_as_authority(ix::propose_authority(&t.network, &me, &heir.pubkey()))
        .await
        .unwrap();
    assert_eq!(
        t.network_state().await.authority,
        me,
        "nothing changes hands yet"
    );
    // only the proposed key accepts
    assert_lifeline_err(
        t.send(
            &[ix::accept_authority(&t.network, &mallory.pubkey())],
            &[&mallory],
        )
        .await,
        LifelineError::NotPendingAuthority,
    );
    let mut unsigned = ix::accept_authority(&t.network, &heir.pubkey());
    unsigned.accounts[1].is_signer = false;
    assert_anchor_err(t.send(&[unsigned], &[]).await, Anchor::AccountNotSigner);
    let events = t
        .send_with_events(
            &[ix::accept_authority(&t.network, &heir.pubkey())],
            &[&heir],
        )
        .await
        .unwrap();
    assert!(
        matches!(events.as_slice(), [LifelineEvent::AuthorityAccepted(e)] if e.previous_authority == me && e.authority == heir.pubkey())
    );
    let n = t.network_state().await;
    assert_eq!(
        (n.authority, n.pending_authority),
        (heir.pubkey(), Pubkey::default())
    );
    // the old authority lost its powers; acceptance cannot be replayed
    assert_lifeline_err(
        t.send_as_authority(ix::set_guardian(&t.network, &me, &me))
            .await,
        LifelineError::Unauthorized,
    );
    assert_lifeline_err(
        t.send(
            &[ix::accept_authority(&t.network, &heir.pubkey())],
            &[&heir],
        )
        .await,
        LifelineError::NotPendingAuthority,
    );
}

#[tokio::test]
async fn the_guardian_may_pause_and_resume_and_nothing_else() {
    let mut t = TestNet::new(1, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let guardian = Keypair::new();
    let mallory = Keypair::new();
    assert_lifeline_err(
        t.send(
            &[ix::set_guardian(
                &t.network,
                &mallory.pubkey(),
                &mallory.pubkey(),
            )],
            &[&mallory],
        )
        .await,
        LifelineError::Unauthorized,
    );
    let authority = t.authority.insecure_clone();
    let events = t
        .send_with_events(
            &[ix::set_guardian(&t.network, &me, &guardian.pubkey())],
            &[&authority],
        )
        .await
        .unwrap();
    assert!(
        matches!(events.as_slice(), [LifelineEvent::GuardianSet(e)] if e.guardian == guardian.pubkey())
    );
    assert_lifeline_err(
        t.send_as_authority(ix::set_guardian(&t.network, &me, &guardian.pubkey()))
            .await,
        LifelineError::NoChange,
    );

    assert_lifeline_err(
        t.send(
            &[ix::set_paused(&t.network, &mallory.pubkey(), true)],
            &[&mallory],
        )
        .await,
        LifelineError::NotAuthorityOrGuardian,
    );
    let events = t
        .send_with_events(
            &[ix::set_paused(&t.network, &guardian.pubkey(), true)],
            &[&guardian],
        )
        .await
        .unwrap();
    assert!(
        matches!(events.as_slice(), [LifelineEvent::PausedSet(e)] if e.paused && e.by == guardian.pubkey())
    );
    assert!(t.network_state().await.is_paused());
    assert_lifeline_err(
        t.send(
            &[ix::set_paused(&t.network, &guardian.pubkey(), true)],
            &[&guardian],
        )
        .await,
        LifelineError::NoChange,
    );
    // the guardian cannot touch policy, endpoints or keepers
    assert_lifeline_err(
        t.send(
            &[ix::update_policy(
                &t.network,
                &guardian.pubkey(),
                PolicyParams {
                    cooldown_slots: 1,
                    ..PolicyParams::default()
                },
            )],
            &[&guardian],
        )
        .await,
        LifelineError::Unauthorized,
    );
    assert_lifeline_err(
        t.send(
            &[ix::add_endpoint(
                &t.network,
                &guardian.pubkey(),
                endpoint_args(0, Role::Primary, "https://g.example", "p", "r"),
            )],
            &[&guardian],
        )
        .await,
        LifelineError::Unauthorized,
    );
    // keepers keep attesting while paused
    let p = t.add_endpoint(0, Role::Primary, "p", "r").await;
    t.attest(0, &[(p, Seen::healthy())])
        .await
        .expect("attestation while paused");
    // the authority resumes; removing the guardian takes its power away
    t.send_as_authority(ix::set_paused(&t.network, &me, false))
        .await
        .unwrap();
    t.send_as_authority(ix::set_guardian(&t.network, &me, &Pubkey::default()))
        .await
        .unwrap();
    assert_lifeline_err(
        t.send(
            &[ix::set_paused(&t.network, &guardian.pubkey(), true)],
            &[&guardian],
        )
        .await,
        LifelineError::NotAuthorityOrGuardian,
    );
    // the default pubkey can never act as a guardian
    assert_eq!(t.network_state().await.guardian, Pubkey::default());
}

#[tokio::test]
async fn an_account_owned_by_another_program_is_not_a_network() {
    let mut t = TestNet::new(0, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let mut ix = ix::set_guardian(&t.network, &me, &Pubkey::new_unique());
    ix.accounts[0].pubkey = me; // system-owned
    assert_anchor_err(
        t.send_as_authority(ix).await,
        Anchor::AccountOwnedByWrongProgram,
    );
    let mut ix = ix::set_guardian(&t.network, &me, &Pubkey::new_unique());
    ix.accounts[0].pubkey = t.topology; // our program, wrong type
    assert_anchor_err(
        t.send_as_authority(ix).await,
        Anchor::AccountDiscriminatorMismatch,
    );
}

#[tokio::test]
async fn a_network_with_an_explicit_quorum_can_grow_its_keeper_set() {
    let mut t = TestNet::new(
        0,
        PolicyParams {
            quorum: 3,
            ..PolicyParams::default()
        },
    )
    .await;
    for i in 0..4 {
        t.add_keeper(&format!("r{i}"), "p").await;
    }
    assert_eq!(t.network_state().await.keeper_count, 4);
    // but a policy whose quorum exceeds the existing keepers is refused
    let me = t.authority.pubkey();
    let too_high = PolicyParams {
        quorum: 5,
        ..PolicyParams::default()
    };
    assert_lifeline_err(
        t.send_as_authority(ix::update_policy(&t.network, &me, too_high))
            .await,
        LifelineError::InvalidPolicy,
    );
}

/// Every authority instruction, built for `signer` (the index of the signer account in
/// each account list is looked up, not assumed).
fn authority_instructions(
    t: &TestNet,
    signer: &Pubkey,
) -> Vec<(&'static str, solana_instruction::Instruction)> {
    let n = &t.network;
    let k0 = t.keepers[0].pubkey();
    vec![
        (
            "update_policy",
            ix::update_policy(
                n,
                signer,
                PolicyParams {
                    cooldown_slots: 7,
                    ..PolicyParams::default()
                },
            ),
        ),
        (
            "add_endpoint",
            ix::add_endpoint(
                n,
                signer,
                endpoint_args(1, Role::Standby, "https://new.example", "p", "r"),
            ),
        ),
        (
            "update_endpoint",
            ix::update_endpoint(
                n,
                signer,
                UpdateEndpointArgs {
                    endpoint_id: 0,
                    priority: Some(3),
                    ..Default::default()
                },
            ),
        ),
        ("remove_endpoint", ix::remove_endpoint(n, signer, 1)),
        (
            "add_keeper",
            ix::add_keeper(
                n,
                signer,
                AddKeeperArgs {
                    keeper: Pubkey::new_unique(),
                    region: "r".into(),
                    provider: "p".into(),
                },
            ),
        ),
        ("remove_keeper", ix::remove_keeper(n, signer, &k0)),
        (
            "propose_authority",
            ix::propose_authority(n, signer, &Pubkey::new_unique()),
        ),
        (
            "set_guardian",
            ix::set_guardian(n, signer, &Pubkey::new_unique()),
        ),
        ("set_paused", ix::set_paused(n, signer, true)),
        (
            "force_failover",
            ix::force_failover(
                n,
                signer,
                ForceFailoverArgs {
                    group: 0,
                    to_id: 1,
                    expected_epoch: 3,
                    quarantine_old: false,
                },
            ),
        ),
    ]
}

#[tokio::test]
async fn every_authority_instruction_refuses_a_missing_or_wrong_signature() {
    let mut t = TestNet::new(2, PolicyParams::default()).await;
    t.add_endpoint(0, Role::Primary, "a", "eu").await;
    t.add_endpoint(0, Role::Standby, "b", "us").await;
    assert_eq!(t.topology().await.epoch, 3);
    let me = t.authority.pubkey();
    for (name, mut ix) in authority_instructions(&t, &me) {
        let meta = ix
            .accounts
            .iter_mut()
            .find(|m| m.pubkey == me && m.is_signer)
            .expect(name);
        meta.is_signer = false;
        let err = t.send(&[ix], &[]).await.expect_err(name);
        assert_eq!(
            error_code(&err),
            Some(u32::from(Anchor::AccountNotSigner)),
            "{name}: {err:?}"
        );
    }
    let mallory = Keypair::new();
    fund(&mut t.ctx, &mallory.pubkey(), LAMPORTS).await;
    for (name, ix) in authority_instructions(&t, &mallory.pubkey()) {
        let err = t.send(&[ix], &[&mallory]).await.expect_err(name);
        let want = if name == "set_paused" {
            LifelineError::NotAuthorityOrGuardian
        } else {
            LifelineError::Unauthorized
        };
        assert_eq!(error_code(&err), Some(u32::from(want)), "{name}: {err:?}");
    }
    // nothing was written by any of them
    let n = t.network_state().await;
    assert_eq!(
        (
            n.keeper_count,
            n.is_paused(),
            n.guardian,
            n.pending_authority
        ),
        (2, false, Pubkey::default(), Pubkey::default())
    );
    assert_eq!(t.topology().await.epoch, 3);
    // and each one succeeds for the real authority (the table is not vacuous)
    for (name, ix) in authority_instructions(&t, &me) {
        if name == "remove_endpoint" || name == "force_failover" {
            continue; // the primary/standby they touch are exercised elsewhere
        }
        t.send_as_authority(ix)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

#[tokio::test]
async fn a_report_pda_with_a_non_canonical_bump_is_refused() {
    let mut t = TestNet::new(0, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let keeper = Pubkey::new_unique();
    let mut add = ix::add_keeper(
        &t.network,
        &me,
        AddKeeperArgs {
            keeper,
            region: "r".into(),
            provider: "p".into(),
        },
    );
    add.accounts[2].pubkey = non_canonical(&[REPORT_SEED, t.network.as_ref(), keeper.as_ref()]);
    assert_lifeline_err(t.send_as_authority(add).await, LifelineError::InvalidPda);
    assert_eq!(t.network_state().await.keeper_count, 0);
}
