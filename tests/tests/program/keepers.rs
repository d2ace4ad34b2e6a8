//! add_keeper, update_keeper, remove_keeper, and the ballot rows that follow them.
use anchor_lang::prelude::Pubkey;
use lifeline::constants::*;
use lifeline::instructions::*;
use lifeline::state::{PolicyParams, Role};
use lifeline_client::{events::LifelineEvent, ix, pda};
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

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
    // its row of the ballot is fresh: its key, nothing attested
    let row = t.ballot().await.reports[0];
    assert_eq!((row.keeper, row.seq, row.submitted_slot), (k, 0, 0));

    // a keeper already in the set
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
    // another network's ballot in place of ours
    t.send_as_authority(ix::create_network(&me, crate::create_args("other")))
        .await
        .unwrap();
    let mut swapped = ix::add_keeper(
        &t.network,
        &me,
        AddKeeperArgs {
            keeper: Pubkey::new_unique(),
            ..args.clone()
        },
    );
    swapped.accounts[1].pubkey = pda::ballot(&pda::network(&me, "other").0).0;
    assert_lifeline_err(
        t.send_as_authority(swapped).await,
        LifelineError::WrongBallot,
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

    // remove clears the keeper's row; the slot (and a clean row) is reused
    let events = t
        .send_with_events(
            &[ix::remove_keeper(&t.network, &me, &keys[3])],
            &[&authority],
        )
        .await
        .unwrap();
    assert!(matches!(events.as_slice(), [LifelineEvent::KeeperRemoved(e)] if e.keeper == keys[3]));
    assert!(t.ballot().await.reports[3].is_empty());
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
    assert_eq!(t.ballot().await.reports[3].keeper, newcomer);
    assert_lifeline_err(
        t.send_as_authority(ix::remove_keeper(&t.network, &me, &keys[3]))
            .await,
        LifelineError::KeeperNotInSet,
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

#[tokio::test]
async fn update_keeper_changes_labels_only_and_is_authority_only() {
    let mut t = TestNet::new(4, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let p = t.add_endpoint(0, Role::Primary, "p", "r").await;
    t.attest(1, &[(p, Seen::healthy())]).await.unwrap();
    let before = (t.topology().await.epoch, t.ballot().await.reports[1]);
    let k1 = t.keepers[1].pubkey();
    let args = UpdateKeeperArgs {
        keeper: k1,
        region: "ap-south".into(),
        provider: "ovh".into(),
    };
    let authority = t.authority.insecure_clone();
    let events = t
        .send_with_events(
            &[ix::update_keeper(&t.network, &me, args.clone())],
            &[&authority],
        )
        .await
        .unwrap();
    assert!(
        matches!(events.as_slice(), [LifelineEvent::KeeperUpdated(e)] if e.keeper == k1 && e.region == "ap-south")
    );
    let n = t.network_state().await;
    assert_eq!(
        (n.keepers[1].region(), n.keepers[1].provider()),
        ("ap-south", "ovh")
    );
    // nothing a vote depends on moved: the epoch, the keeper's row and its votes
    assert_eq!(
        (t.topology().await.epoch, t.ballot().await.reports[1]),
        before
    );
    assert_lifeline_err(
        t.send_as_authority(ix::update_keeper(&t.network, &me, args.clone()))
            .await,
        LifelineError::NoChange,
    );
    for (bad, want) in [
        (
            UpdateKeeperArgs {
                region: "r".repeat(MAX_LABEL_LEN + 1),
                ..args.clone()
            },
            LifelineError::InvalidLabel,
        ),
        (
            UpdateKeeperArgs {
                provider: "a b".into(),
                ..args.clone()
            },
            LifelineError::InvalidLabel,
        ),
        (
            UpdateKeeperArgs {
                keeper: Pubkey::new_unique(),
                ..args.clone()
            },
            LifelineError::KeeperNotInSet,
        ),
    ] {
        assert_lifeline_err(
            t.send_as_authority(ix::update_keeper(&t.network, &me, bad))
                .await,
            want,
        );
    }
    let mallory = Keypair::new();
    fund(&mut t.ctx, &mallory.pubkey(), LAMPORTS).await;
    assert_lifeline_err(
        t.send(
            &[ix::update_keeper(&t.network, &mallory.pubkey(), args)],
            &[&mallory],
        )
        .await,
        LifelineError::Unauthorized,
    );
}
