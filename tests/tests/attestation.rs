//! submit_attestation: verdicts computed on chain, and every attack that applies.
use lifeline::constants::MAX_ENDPOINTS;
use lifeline::instructions::*;
use lifeline::state::{PolicyParams, Reason, Role, Verdict};
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
async fn the_program_computes_verdicts_and_lag_from_the_figures() {
    let (mut t, p, s) = net().await;
    let ix = t
        .attestation(
            0,
            &[
                (p, Seen::frozen()),
                (
                    s,
                    Seen {
                        latency_ms: 900,
                        ..Seen::healthy()
                    },
                ),
            ],
        )
        .await;
    let keeper = t.keepers[0].insecure_clone();
    let events = t.send_with_events(&[ix], &[&keeper]).await.unwrap();
    let r = t.report(0).await;
    assert_eq!(r.seq, 1);
    assert_eq!(r.observation_count, 2);
    let op = r.observation(p).unwrap();
    assert_eq!(
        (op.verdict(), op.reason, op.slot_lag),
        (Verdict::Down, Reason::SlotLag as u8, 1_000)
    );
    let os = r.observation(s).unwrap();
    assert_eq!(
        (os.verdict(), os.reason),
        (Verdict::Degraded, Reason::Latency as u8)
    );
    assert_eq!(op.verdict_since_slot, r.reference_slot);
    assert!(
        matches!(events.as_slice(), [LifelineEvent::AttestationSubmitted(e)] if e.seq == 1 && e.down == 1 && e.degraded == 1 && e.healthy == 0)
    );

    // the verdict-since slot survives a re-attestation with the same verdict, resets on change
    let first_since = op.verdict_since_slot;
    t.warp(5).await;
    t.attest(0, &[(p, Seen::frozen()), (s, Seen::healthy())])
        .await
        .unwrap();
    let r = t.report(0).await;
    assert_eq!(r.observation(p).unwrap().verdict_since_slot, first_since);
    assert_eq!(
        r.observation(s).unwrap().verdict_since_slot,
        r.reference_slot
    );
}

#[tokio::test]
async fn only_keepers_in_the_set_may_attest_and_only_into_their_own_report() {
    let (mut t, p, _) = net().await;
    // missing signature
    let mut ix = t.attestation(0, &[(p, Seen::healthy())]).await;
    ix.accounts[3].is_signer = false;
    assert_anchor_err(
        t.send(&[ix], &[]).await,
        anchor_lang::error::ErrorCode::AccountNotSigner,
    );
    // keeper 1 signs but writes keeper 0's report
    let mut ix = t.attestation(1, &[(p, Seen::healthy())]).await;
    ix.accounts[2].pubkey = t.report_key(0);
    let k1 = t.keepers[1].insecure_clone();
    assert_lifeline_err(t.send(&[ix], &[&k1]).await, LifelineError::WrongReport);
    // a removed keeper: its report was closed (back to the system program)
    let gone = t.keepers[2].pubkey();
    t.send_as_authority(ix::remove_keeper(&t.network, &t.authority.pubkey(), &gone))
        .await
        .unwrap();
    let ix = t.attestation(2, &[(p, Seen::healthy())]).await;
    let k2 = t.keepers[2].insecure_clone();
    assert_anchor_err(
        t.send(&[ix], &[&k2]).await,
        anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram,
    );
    // a stranger with a report-shaped account of another network
    let stranger = Keypair::new();
    let name = "elsewhere".to_string();
    t.send_as_authority(ix::create_network(
        &t.authority.pubkey(),
        CreateNetworkArgs {
            name: name.clone(),
            policy: PolicyParams::default(),
            guardian: None,
        },
    ))
    .await
    .unwrap();
    let other = pda::network(&t.authority.pubkey(), &name).0;
    t.send_as_authority(ix::add_keeper(
        &other,
        &t.authority.pubkey(),
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
    let mut ix = ix::submit_attestation(
        &t.network,
        &stranger.pubkey(),
        SubmitAttestationArgs {
            seq: 1,
            topology_epoch: epoch,
            reference_slot: slot,
            observations: vec![],
        },
    );
    ix.accounts[2].pubkey = pda::report(&other, &stranger.pubkey()).0;
    assert_lifeline_err(
        t.send(&[ix], &[&stranger]).await,
        LifelineError::WrongReport,
    );
}

#[tokio::test]
async fn replayed_and_out_of_order_attestations_are_refused() {
    let (mut t, p, _) = net().await;
    let older = t.attestation(0, &[(p, Seen::down())]).await; // seq 1
    let newer = t.attestation(0, &[(p, Seen::healthy())]).await; // seq 2
    let k = t.keepers[0].insecure_clone();
    t.send(std::slice::from_ref(&newer), &[&k]).await.unwrap();
    // the older one arrives late: it must not overwrite the newer report
    assert_lifeline_err(t.send(&[older], &[&k]).await, LifelineError::StaleSequence);
    // the same attestation replayed (a new transaction carrying the same seq)
    assert_lifeline_err(t.send(&[newer], &[&k]).await, LifelineError::StaleSequence);
    assert_eq!(
        t.report(0).await.observation(p).unwrap().verdict(),
        Verdict::Healthy
    );
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
    let wrong_epoch = send(args.clone());
    args.topology_epoch = epoch - 1;
    let old_epoch = send(args.clone());
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
        t.send(&[wrong_epoch], &[&k]).await,
        LifelineError::EpochMismatch,
    );
    assert_lifeline_err(
        t.send(&[old_epoch], &[&k]).await,
        LifelineError::EpochMismatch,
    );
    assert_eq!(t.report(0).await.seq, 0, "nothing was written");
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
                flags: 0b10,
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
        endpoint_slot: 0,
        error_bps: 10_000,
        consecutive_bad: u8::MAX,
        flags: 1,
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
    let o = *t.report(0).await.observation(p).unwrap();
    assert_eq!(
        (o.slot_lag as u64, o.verdict()),
        ((now as u32) as u64, Verdict::Down)
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
    // a system-owned account in place of the report
    let mut ix = t.attestation(0, &[(p, Seen::healthy())]).await;
    ix.accounts[2].pubkey = k.pubkey();
    assert_anchor_err(
        t.send(&[ix], &[&k]).await,
        anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram,
    );
    // the topology (right owner, wrong type) in place of the report
    let mut ix = t.attestation(0, &[(p, Seen::healthy())]).await;
    ix.accounts[2].pubkey = t.topology;
    ix.accounts[2].is_writable = true;
    assert_anchor_err(
        t.send(&[ix], &[&k]).await,
        anchor_lang::error::ErrorCode::AccountDiscriminatorMismatch,
    );
    // the report in place of the network
    let mut ix = t.attestation(0, &[(p, Seen::healthy())]).await;
    ix.accounts[0].pubkey = t.report_key(1);
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
    assert_eq!(t.report(0).await.observation_count as usize, MAX_ENDPOINTS);
}
