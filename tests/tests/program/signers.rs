//! Every authority instruction refuses a missing or wrong signature.
use anchor_lang::error::ErrorCode as Anchor;
use anchor_lang::prelude::Pubkey;
use lifeline::instructions::*;
use lifeline::state::{PolicyParams, Role};
use lifeline_client::ix;
use lifeline_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

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
        (
            "update_keeper",
            ix::update_keeper(
                n,
                signer,
                UpdateKeeperArgs {
                    keeper: k0,
                    region: "moved".into(),
                    provider: "p".into(),
                },
            ),
        ),
        ("remove_keeper", ix::remove_keeper(n, signer, &k0)),
        ("close_network", ix::close_network(n, signer)),
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
                    expected_group_epoch: 3,
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
        if matches!(name, "remove_endpoint" | "force_failover" | "close_network") {
            continue; // exercised in their own modules (they need a particular state)
        }
        t.send_as_authority(ix)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}
