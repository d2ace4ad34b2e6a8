//! submit_attestation: verdicts computed on chain into the keeper's row of the ballot,
//! and every attack that applies.
use lifeline::constants::MAX_ENDPOINTS;
use lifeline::instructions::*;
use lifeline::state::{ObservationInput, PolicyParams, Reason, Role, Verdict};
use lifeline_client::{events::LifelineEvent, ix, pda};
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

async fn net() -> (TestNet, u32, u32) {
    let mut t = TestNet::new(3, PolicyParams::default()).await;
    let p = t.add_endpoint(0, Role::Primary, "prov-a", "eu").await;
    let s = t.add_endpoint(0, Role::Standby, "prov-b", "us").await;
    (t, p, s)
}

#[tokio::test]
async fn the_program_computes_verdicts_from_the_figures_and_counts_how_long_they_hold() {
    let (mut t, p, s) = net().await;
    let slow = Seen {
        latency_ms: 700,
        ..Seen::healthy()
    };
    let keeper = t.keepers[0].insecure_clone();
    let ix = t.attestation(0, &[(p, Seen::frozen()), (s, slow)]).await;
    let events = t.send_with_events(&[ix], &[&keeper]).await.unwrap();
    let landed = t.slot().await;
    let r = t.report(0).await;
    assert_eq!((r.seq, r.submitted_slot), (1, landed));
    let topo = t.topology().await;
    let (jp, js) = (topo.index_of(p).unwrap(), topo.index_of(s).unwrap());
    let vp = r.votes[jp];
    assert_eq!(
        (vp.verdict(), vp.reason(), vp.slot_lag),
        (Verdict::Down, Reason::Stalled, 1_000)
    );
    assert!(vp.votes_down(), "ten bad windows");
    let vs = r.votes[js];
    assert_eq!(
        (vs.verdict(), vs.reason()),
        (Verdict::Degraded, Reason::Latency)
    );
    assert!(!vs.votes_down() && !vs.votes_healthy());
    assert_eq!(r.verdict_since_slot(jp), landed);
    assert!(
        matches!(events.as_slice(), [LifelineEvent::AttestationSubmitted(e)] if e.seq == 1 && e.down == 1 && e.degraded == 1 && e.healthy == 0)
    );

    // the verdict's age grows over re-attestations with the same verdict, resets on change
    t.warp(5).await;
    t.attest(0, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await
        .unwrap();
    let r = t.report(0).await;
    assert_eq!(r.verdict_since_slot(jp), landed);
    assert_eq!(r.verdict_since_slot(js), t.slot().await);
}

#[tokio::test]
async fn only_keepers_in_the_set_may_attest_and_only_into_their_own_row() {
    let (mut t, p, _) = net().await;
    // missing signature
    let mut ix = t.attestation(0, &[(p, Seen::healthy())]).await;
    ix.accounts[3].is_signer = false;
    assert_anchor_err(
        t.send(&[ix], &[]).await,
        anchor_lang::error::ErrorCode::AccountNotSigner,
    );
    // the row written is always the signer's: keeper 1 cannot write keeper 0's
    t.attest(1, &[(p, Seen::down())]).await.unwrap();
    assert_eq!(t.report(0).await.seq, 0);
    assert_eq!(t.report(1).await.seq, 1);
    // a removed keeper
    let gone = t.keepers[2].pubkey();
    t.send_as_authority(ix::remove_keeper(&t.network, &t.authority.pubkey(), &gone))
        .await
        .unwrap();
    let k2 = t.keepers[2].insecure_clone();
    let ix = t.attestation(2, &[(p, Seen::healthy())]).await;
    assert_lifeline_err(t.send(&[ix], &[&k2]).await, LifelineError::KeeperNotInSet);
    // a keeper of another network, attesting with that network's ballot into ours
    let stranger = Keypair::new();
    let me = t.authority.pubkey();
    t.send_as_authority(ix::create_network(
        &me,
        CreateNetworkArgs {
            name: "elsewhere".into(),
            policy: PolicyParams::default(),
            guardian: None,
        },
    ))
    .await
    .unwrap();
    let other = pda::network(&me, "elsewhere").0;
    t.send_as_authority(ix::add_keeper(
        &other,
        &me,
        AddKeeperArgs {
            keeper: stranger.pubkey(),
            region: "x".into(),
            provider: "y".into(),
        },
    ))
    .await
    .unwrap();
    let slot = t.slot().await;
    let epoch = t.topology().await.epoch;
    let args = SubmitAttestationArgs {
        seq: 1,
        topology_epoch: epoch,
        reference_slot: slot,
        observations: vec![],
    };
    let ix = ix::submit_attestation(&t.network, &stranger.pubkey(), args.clone());
    assert_lifeline_err(
        t.send(&[ix], &[&stranger]).await,
        LifelineError::KeeperNotInSet,
    );
    let mut ix = ix::submit_attestation(&other, &stranger.pubkey(), args);
    ix.accounts[2].pubkey = pda::ballot(&t.network).0;
    assert_lifeline_err(
        t.send(&[ix], &[&stranger]).await,
        LifelineError::WrongBallot,
    );
}

#[tokio::test]
async fn replayed_and_out_of_order_attestations_are_refused() {
    let (mut t, p, _) = net().await;
    let older = t.attestation(0, &[(p, Seen::down())]).await; // seq 1
    let newer = t.attestation(0, &[(p, Seen::healthy())]).await; // seq 2
    let k = t.keepers[0].insecure_clone();
    t.send(std::slice::from_ref(&newer), &[&k]).await.unwrap();
    // the older one arrives late: it must not overwrite the newer row
    assert_lifeline_err(t.send(&[older], &[&k]).await, LifelineError::StaleSequence);
    // the same attestation replayed (a new transaction carrying the same seq)
    assert_lifeline_err(t.send(&[newer], &[&k]).await, LifelineError::StaleSequence);
    let j = t.topology().await.index_of(p).unwrap();
    assert_eq!(t.report(0).await.votes[j].verdict(), Verdict::Healthy);
}

#[tokio::test]
async fn stale_future_and_wrong_epoch_attestations_are_refused() {
    let (mut t, p, _) = net().await;
    let k = t.keepers[0].insecure_clone();
    let staleness = t.network_state().await.policy.staleness_slots;
    let now = t.slot().await;
    let epoch = t.topology().await.epoch;
    let mut args = SubmitAttestationArgs {
        seq: 1,
        topology_epoch: epoch,
        reference_slot: now - staleness - 1,
        observations: vec![ObservationInput {
            endpoint_id: p,
            ..Default::default()
        }],
    };
    let send = |args: SubmitAttestationArgs| ix::submit_attestation(&t.network, &k.pubkey(), args);
    let stale = send(args.clone());
    args.reference_slot = now + 1;
    let future = send(args.clone());
    args.reference_slot = u64::MAX;
    let far_future = send(args.clone());
    args.reference_slot = now;
    args.topology_epoch = epoch + 1;
    let future_epoch = send(args.clone());
    assert_lifeline_err(
        t.send(&[stale], &[&k]).await,
        LifelineError::StaleAttestation,
    );
    assert_lifeline_err(t.send(&[future], &[&k]).await, LifelineError::FutureSlot);
    assert_lifeline_err(
        t.send(&[far_future], &[&k]).await,
        LifelineError::FutureSlot,
    );
    assert_lifeline_err(
        t.send(&[future_epoch], &[&k]).await,
        LifelineError::EpochMismatch,
    );
    // an epoch read before the policy changed: the keeper's streaks were judged under
    // other thresholds
    let me = t.authority.pubkey();
    t.send_as_authority(ix::update_policy(
        &t.network,
        &me,
        PolicyParams {
            cooldown_slots: 1,
            ..PolicyParams::default()
        },
    ))
    .await
    .unwrap();
    args.topology_epoch = epoch;
    args.reference_slot = t.slot().await;
    let before_policy = ix::submit_attestation(&t.network, &k.pubkey(), args.clone());
    assert_lifeline_err(
        t.send(&[before_policy], &[&k]).await,
        LifelineError::PolicyChanged,
    );
    assert_eq!(t.report(0).await.seq, 0, "nothing was written");
    // an older epoch is fine when only the topology moved since (another group's change)
    t.add_endpoint(3, Role::Primary, "x", "y").await;
    args.topology_epoch = t.topology().await.epoch - 1;
    let older = ix::submit_attestation(&t.network, &k.pubkey(), args);
    t.send(&[older], &[&k])
        .await
        .expect("older epoch, same policy");
}

#[tokio::test]
async fn malformed_observations_are_refused_with_named_errors() {
    let (mut t, p, s) = net().await;
    let k = t.keepers[0].insecure_clone();
    let now = t.slot().await;
    let epoch = t.topology().await.epoch;
    let base = SubmitAttestationArgs {
        seq: 1,
        topology_epoch: epoch,
        reference_slot: now,
        observations: vec![],
    };
    let obs = |id| ObservationInput {
        endpoint_id: id,
        ..Default::default()
    };
    let cases = [
        (
            vec![obs(p), obs(s), obs(p)],
            LifelineError::DuplicateObservation,
        ),
        (vec![obs(42)], LifelineError::EndpointNotFound),
        (
            vec![ObservationInput {
                error_bps: 10_001,
                ..obs(p)
            }],
            LifelineError::InvalidObservation,
        ),
        (
            vec![ObservationInput {
                flags: 0b1000, // the first bit no OBS_* flag has
                ..obs(p)
            }],
            LifelineError::InvalidObservation,
        ),
        (
            vec![ObservationInput {
                flags: lifeline::state::VOTE_DOWN,
                ..obs(p)
            }],
            LifelineError::InvalidObservation,
        ),
        (
            vec![obs(p); MAX_ENDPOINTS + 1],
            LifelineError::TooManyObservations,
        ),
    ];
    for (observations, want) in cases {
        let ix = ix::submit_attestation(
            &t.network,
            &k.pubkey(),
            SubmitAttestationArgs {
                observations,
                ..base.clone()
            },
        );
        assert_lifeline_err(t.send(&[ix], &[&k]).await, want);
    }
    // extreme but legal figures are stored saturated, never overflowing
    let extreme = ObservationInput {
        latency_ms: u32::MAX,
        slot_lag: u32::MAX,
        stalled_slots: u16::MAX,
        error_bps: 10_000,
        consecutive_bad: u8::MAX,
        flags: lifeline::state::OBS_FLAGS,
        ..obs(p)
    };
    let ix = ix::submit_attestation(
        &t.network,
        &k.pubkey(),
        SubmitAttestationArgs {
            observations: vec![extreme],
            ..base.clone()
        },
    );
    t.send(&[ix], &[&k]).await.unwrap();
    let j = t.topology().await.index_of(p).unwrap();
    let v = t.report(0).await.votes[j];
    assert_eq!(
        (v.slot_lag, v.latency_ms, v.verdict(), v.streak),
        (u16::MAX, u32::MAX, Verdict::Down, u8::MAX)
    );
    // u64::MAX seq is accepted once, and then nothing can follow it
    let ix = ix::submit_attestation(
        &t.network,
        &k.pubkey(),
        SubmitAttestationArgs {
            seq: u64::MAX,
            observations: vec![],
            ..base.clone()
        },
    );
    t.send(&[ix], &[&k]).await.unwrap();
    let ix = ix::submit_attestation(
        &t.network,
        &k.pubkey(),
        SubmitAttestationArgs {
            seq: u64::MAX,
            observations: vec![],
            ..base
        },
    );
    assert_lifeline_err(t.send(&[ix], &[&k]).await, LifelineError::StaleSequence);
}

#[tokio::test]
async fn wrong_owner_and_wrong_type_accounts_are_refused() {
    let (mut t, p, _) = net().await;
    let k = t.keepers[0].insecure_clone();
    // a system-owned account in place of the ballot
    let mut ix = t.attestation(0, &[(p, Seen::healthy())]).await;
    ix.accounts[2].pubkey = k.pubkey();
    assert_anchor_err(
        t.send(&[ix], &[&k]).await,
        anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram,
    );
    // the topology (right owner, wrong type) in place of the ballot
    let mut ix = t.attestation(0, &[(p, Seen::healthy())]).await;
    ix.accounts[2].pubkey = t.topology;
    assert_anchor_err(
        t.send(&[ix], &[&k]).await,
        anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch,
    );
    // the ballot in place of the network
    let mut ix = t.attestation(0, &[(p, Seen::healthy())]).await;
    ix.accounts[0].pubkey = pda::ballot(&t.network).0;
    assert_anchor_err(
        t.send(&[ix], &[&k]).await,
        anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch,
    );
}

#[tokio::test]
async fn an_attestation_of_max_endpoints_fits_one_transaction() {
    let mut t = TestNet::new(1, PolicyParams::default()).await;
    let mut views = Vec::new();
    for i in 0..MAX_ENDPOINTS {
        let role = if i % 4 == 0 {
            Role::Primary
        } else {
            Role::Standby
        };
        let id = t.add_endpoint((i / 4) as u8, role, "prov", "region").await;
        views.push((id, Seen::healthy()));
    }
    assert_eq!(t.topology().await.endpoint_count as usize, MAX_ENDPOINTS);
    let ix = t.attestation(0, &views).await;
    let k = t.keepers[0].insecure_clone();
    let tx = t.transaction(&[ix], &[&k]).await;
    let size = wire_size(&tx);
    assert!(
        size <= 1232,
        "attestation of {MAX_ENDPOINTS} endpoints is {size} bytes"
    );
    eprintln!("attestation of {MAX_ENDPOINTS} endpoints: {size} bytes on the wire");
    t.ctx.banks_client.process_transaction(tx).await.unwrap();
    let r = t.report(0).await;
    assert!(r.votes.iter().all(|v| v.verdict() == Verdict::Healthy));
}
