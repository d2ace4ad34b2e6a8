//! add_endpoint, update_endpoint, remove_endpoint, and the ballot columns that follow them.
use anchor_lang::error::ErrorCode as Anchor;
use lifeline::constants::*;
use lifeline::instructions::*;
use lifeline::state::{PolicyParams, Role};
use lifeline_client::{events::LifelineEvent, ix, pda};
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

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
    bad.accounts[3].pubkey = me;
    bad.accounts[3].is_signer = false;
    assert_anchor_err(t.send(&[bad], &[]).await, Anchor::AccountNotSigner);
    // another network's ballot in place of ours
    t.send_as_authority(ix::create_network(&me, crate::create_args("other")))
        .await
        .unwrap();
    let mut swapped = ix::add_endpoint(&t.network, &me, ok.clone());
    swapped.accounts[2].pubkey = pda::ballot(&pda::network(&me, "other").0).0;
    assert_lifeline_err(
        t.send_as_authority(swapped).await,
        LifelineError::WrongBallot,
    );
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

/// Votes about an endpoint live in its column of the ballot. Adding an endpoint starts an
/// empty column; a new URL clears it (another server: nobody has judged it yet); removing
/// an endpoint moves the last column into its place, so every other endpoint keeps its
/// votes; and each change bumps only its own group's epoch.
#[tokio::test]
async fn the_ballot_columns_follow_the_endpoints() {
    let mut t = TestNet::new(3, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let a = t.add_endpoint(0, Role::Primary, "pa", "ra").await;
    let b = t.add_endpoint(0, Role::Standby, "pb", "rb").await;
    let c = t.add_endpoint(1, Role::Primary, "pc", "rc").await;
    let slow = |ms| Seen {
        latency_ms: ms,
        ..Seen::healthy()
    };
    for k in 0..3 {
        t.attest(k, &[(a, slow(10)), (b, slow(20)), (c, slow(30))])
            .await
            .unwrap();
    }
    let latency_of = |t: &lifeline::state::Topology, b: &lifeline::state::Ballot, id: u32| {
        b.reports[0].votes[t.index_of(id).unwrap()].latency_ms
    };
    let (topo, ballot) = (t.topology().await, t.ballot().await);
    assert_eq!(
        [a, b, c].map(|id| latency_of(&topo, &ballot, id)),
        [10, 20, 30]
    );
    let epochs = topo.group_epochs;

    // a new endpoint in group 1 starts with no votes and leaves group 0's epoch alone
    let d = t.add_endpoint(1, Role::Standby, "pd", "rd").await;
    let (topo, ballot) = (t.topology().await, t.ballot().await);
    let j = topo.index_of(d).unwrap();
    assert!(ballot.reports.iter().all(|r| !r.votes[j].is_observed()));
    assert_eq!(topo.group_epochs[0], epochs[0]);
    assert_eq!(topo.group_epochs[1], topo.epoch);
    assert_eq!(topo.endpoint(d).unwrap().config_epoch, topo.epoch);

    // removing a (group 0) moves the last column (d) into a's place
    t.send_as_authority(ix::update_endpoint(
        &t.network,
        &me,
        UpdateEndpointArgs {
            endpoint_id: a,
            role: Some(Role::Retired as u8),
            ..Default::default()
        },
    ))
    .await
    .expect_err("a primary cannot be retired");
    t.send_as_authority(ix::remove_endpoint(&t.network, &me, b))
        .await
        .unwrap();
    let (topo, ballot) = (t.topology().await, t.ballot().await);
    assert_eq!(
        [a, c].map(|id| latency_of(&topo, &ballot, id)),
        [10, 30],
        "the others keep their votes"
    );
    assert!(!ballot.reports[0].votes[topo.index_of(d).unwrap()].is_observed());
    assert_eq!(topo.group_epochs[1], epochs[1].max(topo.group_epochs[1]));

    // a new URL for c: its votes go; a's stay; only group 1's epoch moves
    let before = t.topology().await.group_epochs;
    t.send_as_authority(ix::update_endpoint(
        &t.network,
        &me,
        UpdateEndpointArgs {
            endpoint_id: c,
            url: Some("https://moved.example".into()),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let (topo, ballot) = (t.topology().await, t.ballot().await);
    assert!(ballot
        .reports
        .iter()
        .all(|r| !r.votes[topo.index_of(c).unwrap()].is_observed()));
    assert_eq!(latency_of(&topo, &ballot, a), 10);
    assert_eq!(topo.group_epochs[0], before[0]);
    assert!(topo.group_epochs[1] > before[1]);
    // a label or priority change keeps the votes (the server is the same)
    t.send_as_authority(ix::update_endpoint(
        &t.network,
        &me,
        UpdateEndpointArgs {
            endpoint_id: a,
            priority: Some(4),
            region: Some("moved".into()),
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    let (topo, ballot) = (t.topology().await, t.ballot().await);
    assert_eq!(latency_of(&topo, &ballot, a), 10);
}
