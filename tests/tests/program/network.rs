//! create_network, close_network, update_policy, authority transfer, guardian and pause.
//!
//! (Over 400 lines: six instructions, each with its attack table.)
use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use lifeline::constants::*;
use lifeline::instructions::*;
use lifeline::state::{PolicyParams, Role};
use lifeline_client::{events::LifelineEvent, ix, pda};
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::{create_args, non_canonical};

#[tokio::test]
async fn create_network_initializes_its_three_accounts_and_emits() {
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
        (
            topo.network,
            topo.epoch,
            topo.policy_epoch,
            topo.endpoint_count
        ),
        (t.network, 1, 1, 0)
    );
    assert_eq!(topo.group_epochs, [0; MAX_GROUPS]);
    let ballot = t.ballot().await;
    assert_eq!(
        (ballot.network, ballot.bump, n.ballot_bump),
        (
            t.network,
            pda::ballot(&t.network).1,
            pda::ballot(&t.network).1
        )
    );
    assert!(ballot.reports.iter().all(|r| r.is_empty() && r.seq == 0));
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
    let mut ix = ix::create_network(&me, create_args("testnet"));
    ix.accounts[3].pubkey = non_canonical(&[BALLOT_SEED, t.network.as_ref()]);
    assert_lifeline_err(t.send_as_authority(ix).await, LifelineError::InvalidPda);
    // a ballot at another network's address
    let mut ix = ix::create_network(&me, create_args("testnet"));
    ix.accounts[3].pubkey = pda::ballot(&Pubkey::new_unique()).0;
    assert_lifeline_err(t.send_as_authority(ix).await, LifelineError::InvalidPda);
    // someone else's name-space: the creator is part of the address
    let mallory = Keypair::new();
    fund(&mut t.ctx, &mallory.pubkey(), LAMPORTS).await;
    let mut ix = ix::create_network(&mallory.pubkey(), create_args("testnet"));
    ix.accounts[1].pubkey = t.network;
    ix.accounts[2].pubkey = t.topology;
    ix.accounts[3].pubkey = pda::ballot(&t.network).0;
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
    let ballot = pda::ballot(&t.network).0;
    // a stranger sends lamports to every address the program will create: below rent for
    // two of them, above rent for the third
    for (key, lamports) in [
        (t.network, 1_000_000),
        (t.topology, 1_000_000),
        (ballot, 5 * LAMPORTS),
    ] {
        let tx = solana_system_interface::instruction::transfer(&griefer, &key, lamports);
        t.send(&[tx], &[]).await.unwrap();
    }
    t.send_as_authority(ix::create_network(
        &t.authority.pubkey(),
        create_args("testnet"),
    ))
    .await
    .expect("creation despite pre-funding");
    for (key, space) in [
        (t.network, lifeline::state::Network::SPACE),
        (t.topology, lifeline::state::Topology::SPACE),
        (ballot, lifeline::state::Ballot::SPACE),
    ] {
        let acc = t.account(&key).await.unwrap();
        assert_eq!((acc.owner, acc.data.len()), (lifeline::ID, space));
    }
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
    let topo = t.topology().await;
    assert_eq!(topo.epoch, epoch + 1);
    assert_eq!(
        topo.policy_epoch,
        epoch + 1,
        "reports read before now stop counting"
    );
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
        PolicyParams {
            liveness_slots: new.staleness_slots - 1,
            ..new
        },
        PolicyParams {
            stall_slots: new.lag_down_slots + 1,
            ..new
        },
        PolicyParams {
            lag_down_slots: u16::MAX as u32 + 1,
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
async fn a_pause_records_who_set_it_and_the_guardian_lifts_only_its_own() {
    let mut t = TestNet::new(1, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let guardian = Keypair::new();
    fund(&mut t.ctx, &guardian.pubkey(), LAMPORTS).await;
    t.send_as_authority(ix::set_guardian(&t.network, &me, &guardian.pubkey()))
        .await
        .unwrap();
    // the authority pauses: the guardian may not lift it
    t.pause(true).await;
    assert_eq!(t.network_state().await.paused_by, me);
    assert_lifeline_err(
        t.send(
            &[ix::set_paused(&t.network, &guardian.pubkey(), false)],
            &[&guardian],
        )
        .await,
        LifelineError::PausedByAuthority,
    );
    assert!(t.network_state().await.is_paused());
    t.pause(false).await;
    assert_eq!(t.network_state().await.paused_by, Pubkey::default());
    // the guardian pauses: it may lift its own pause, and so may the authority
    for lifter in [guardian.insecure_clone(), t.authority.insecure_clone()] {
        t.send(
            &[ix::set_paused(&t.network, &guardian.pubkey(), true)],
            &[&guardian],
        )
        .await
        .unwrap();
        assert_eq!(t.network_state().await.paused_by, guardian.pubkey());
        t.send(
            &[ix::set_paused(&t.network, &lifter.pubkey(), false)],
            &[&lifter],
        )
        .await
        .unwrap();
        assert!(!t.network_state().await.is_paused());
    }
    // the authority changes hands while paused: the guardian stays, cannot lift the old
    // authority's pause, and the new authority can
    t.pause(true).await;
    let heir = Keypair::new();
    fund(&mut t.ctx, &heir.pubkey(), LAMPORTS).await;
    t.send_as_authority(ix::propose_authority(&t.network, &me, &heir.pubkey()))
        .await
        .unwrap();
    t.send(
        &[ix::accept_authority(&t.network, &heir.pubkey())],
        &[&heir],
    )
    .await
    .unwrap();
    let n = t.network_state().await;
    assert_eq!((n.guardian, n.paused_by), (guardian.pubkey(), me));
    assert_lifeline_err(
        t.send(
            &[ix::set_paused(&t.network, &guardian.pubkey(), false)],
            &[&guardian],
        )
        .await,
        LifelineError::PausedByAuthority,
    );
    t.send(
        &[ix::set_paused(&t.network, &heir.pubkey(), false)],
        &[&heir],
    )
    .await
    .unwrap();
    assert!(!t.network_state().await.is_paused());
}

#[tokio::test]
async fn close_network_refunds_an_empty_network_and_refuses_a_populated_one() {
    let mut t = TestNet::new(1, PolicyParams::default()).await;
    let me = t.authority.pubkey();
    let ballot = pda::ballot(&t.network).0;
    // keepers (and endpoints) remain: refused, nothing vanishes
    assert_lifeline_err(
        t.send_as_authority(ix::close_network(&t.network, &me))
            .await,
        LifelineError::NetworkNotEmpty,
    );
    let k0 = t.keepers[0].pubkey();
    t.send_as_authority(ix::remove_keeper(&t.network, &me, &k0))
        .await
        .unwrap();
    let p = t.add_endpoint(0, Role::Primary, "p", "r").await;
    assert_lifeline_err(
        t.send_as_authority(ix::close_network(&t.network, &me))
            .await,
        LifelineError::NetworkNotEmpty,
    );
    t.send_as_authority(ix::remove_endpoint(&t.network, &me, p))
        .await
        .unwrap();
    // not the authority; another network's ballot substituted
    let mallory = Keypair::new();
    fund(&mut t.ctx, &mallory.pubkey(), LAMPORTS).await;
    assert_lifeline_err(
        t.send(
            &[ix::close_network(&t.network, &mallory.pubkey())],
            &[&mallory],
        )
        .await,
        LifelineError::Unauthorized,
    );
    t.send_as_authority(ix::create_network(&me, create_args("other")))
        .await
        .unwrap();
    let other = pda::network(&me, "other").0;
    let mut swapped = ix::close_network(&t.network, &me);
    swapped.accounts[2].pubkey = pda::ballot(&other).0;
    assert_lifeline_err(
        t.send_as_authority(swapped).await,
        LifelineError::WrongBallot,
    );

    let rent: u64 = {
        let mut sum = 0;
        for key in [t.network, t.topology, ballot] {
            sum += t.account(&key).await.unwrap().lamports;
        }
        sum
    };
    let before = t.account(&me).await.unwrap().lamports;
    let authority = t.authority.insecure_clone();
    let events = t
        .send_with_events(&[ix::close_network(&t.network, &me)], &[&authority])
        .await
        .unwrap();
    assert!(matches!(events.as_slice(), [LifelineEvent::NetworkClosed(e)] if e.authority == me));
    for key in [t.network, t.topology, ballot] {
        assert!(t.account(&key).await.is_none(), "{key} closed");
    }
    assert_eq!(
        t.account(&me).await.unwrap().lamports,
        before + rent,
        "every lamport of rent refunded"
    );
    // the name can be used again
    t.send_as_authority(ix::create_network(&me, create_args("testnet")))
        .await
        .expect("recreated");
}
