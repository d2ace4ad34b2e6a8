//! Compute units at the limits (16 keepers × 32 endpoints), measured on the program's SBF
//! build in solana-program-test's bank, which meters it as a validator does; the same
//! scenarios run natively too, and must leave the same accounts, results and events.
//! `cargo bench -p lifeline-tests --bench compute` prints the table; the `compute` test
//! fails when an instruction needs more than the keeper asks for with 1.5× to spare
//! (`lifeline_client::budget`).
//!
//! The SBF build is found like the real-validator tier's (`validator::program_so`):
//! `anchor build`'s target/deploy, $BPF_OUT_DIR, or ../shared/sbf's target/sbf.
use lifeline::constants::{MAX_ENDPOINTS, MAX_GROUPS, MAX_KEEPERS};
use lifeline::instructions::*;
use lifeline::state::{PolicyParams, Role};
use lifeline_client::{budget, events::LifelineEvent, ix, pda};
use solana_instruction::Instruction;
use solana_keypair::Keypair;
use solana_program_test::ProgramTest;
use solana_signer::Signer;

use crate::{Seen, TestNet};

/// What one measured transaction did.
#[derive(Clone, Debug)]
pub struct Measured {
    pub name: &'static str,
    /// Compute units the whole transaction consumed (its compute-budget instruction
    /// included: what a validator charges against the limit).
    pub units: u64,
    /// What the keeper asks for this kind of transaction.
    pub budget: u32,
    /// The result, the events it emitted and the three accounts afterwards: what the
    /// native run must reproduce.
    pub outcome: String,
}

/// How a scenario's transactions run: natively or on the SBF build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    Native,
    Sbf,
}

fn program_test(runtime: Runtime) -> ProgramTest {
    match runtime {
        Runtime::Native => lifeline_localnet::program::program_test(),
        Runtime::Sbf => {
            let so = crate::validator::program_so().expect("an SBF build");
            let dir = so.parent().expect("a directory").to_path_buf();
            // ProgramTest loads `lifeline.so` from BPF_OUT_DIR when it prefers BPF, at
            // the moment the program is added.
            std::env::set_var("BPF_OUT_DIR", &dir);
            crate::program_test()
        }
    }
}

/// Deterministic keys: the same accounts in both runs.
fn key(seed: u8) -> Keypair {
    Keypair::new_from_array([seed; 32])
}

/// A network of 16 keepers with `groups[g]` endpoints in group g (the first primary),
/// each endpoint on its own provider and region and all at priority 0, so ranking the
/// standbys needs their median latencies: the most work a decision can take.
async fn network(runtime: Runtime, groups: &[usize], policy: PolicyParams) -> TestNet {
    let mut t = TestNet::bare_on(program_test(runtime), key(200)).await;
    let create = ix::create_network(
        &t.authority.pubkey(),
        CreateNetworkArgs {
            name: t.name.clone(),
            policy,
            guardian: None,
        },
    );
    t.send_as_authority(create).await.expect("create_network");
    for k in 0..MAX_KEEPERS as u8 {
        t.add_keeper_with(key(k + 1), &format!("kr{k}"), &format!("kp{k}"))
            .await;
    }
    for (g, &n) in groups.iter().enumerate() {
        for i in 0..n {
            let role = if i == 0 { Role::Primary } else { Role::Standby };
            let id = t.topology().await.next_endpoint_id;
            t.add_endpoint(g as u8, role, &format!("p{id}"), &format!("r{id}"))
                .await;
        }
    }
    t
}

/// Every endpoint seen healthy (latencies spread so medians differ per endpoint).
fn all_healthy(n: u32) -> Vec<(u32, Seen)> {
    (0..n)
        .map(|id| {
            (
                id,
                Seen {
                    latency_ms: 30 + (id * 7) % 50,
                    ..Seen::healthy()
                },
            )
        })
        .collect()
}

/// `views` with the endpoints in `down` seen unreachable.
fn with_down(mut views: Vec<(u32, Seen)>, down: &[u32]) -> Vec<(u32, Seen)> {
    for (id, s) in views.iter_mut() {
        if down.contains(id) {
            *s = Seen::down();
        }
    }
    views
}

/// Sends `ix` signed by `signer` and measures it: units, result, events, accounts.
async fn measure(
    t: &mut TestNet,
    name: &'static str,
    budget: u32,
    ix: Instruction,
    signer: &Keypair,
) -> Measured {
    let tx = t.transaction(&[ix], &[signer]).await;
    let events: Vec<LifelineEvent> = match t.ctx.banks_client.simulate_transaction(tx.clone()).await
    {
        Ok(sim) => sim
            .simulation_details
            .and_then(|d| d.inner_instructions)
            .unwrap_or_default()
            .iter()
            .flat_map(|inner| inner.iter())
            .filter(|i| {
                tx.message.account_keys[i.instruction.program_id_index as usize] == lifeline::ID
            })
            .filter_map(|i| lifeline_client::events::decode_event(&i.instruction.data))
            .collect(),
        Err(_) => Vec::new(),
    };
    let done = t
        .ctx
        .banks_client
        .process_transaction_with_metadata(tx)
        .await
        .expect("the bank answers");
    let units = done
        .metadata
        .as_ref()
        .map_or(0, |m| m.compute_units_consumed);
    if std::env::var_os("LIFELINE_COMPUTE_LOGS").is_some() {
        for line in done.metadata.iter().flat_map(|m| &m.log_messages) {
            eprintln!("  {name}: {line}");
        }
    }
    let network = t.account(&t.network.clone()).await.map(|a| a.data);
    let topology = t.account(&t.topology.clone()).await.map(|a| a.data);
    let ballot = t.account(&pda::ballot(&t.network).0).await.map(|a| a.data);
    let outcome = format!(
        "result {:?}; events {events:?}; network {}; topology {}; ballot {}",
        done.result,
        digest(network.as_deref()),
        digest(topology.as_deref()),
        digest(ballot.as_deref()),
    );
    Measured {
        name,
        units,
        budget,
        outcome,
    }
}

/// A short fingerprint of account data (FNV-1a), enough to tell two runs apart.
fn digest(data: Option<&[u8]>) -> String {
    let Some(data) = data else {
        return "none".into();
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// The caller of the permissionless instructions (deterministic).
fn caller() -> Keypair {
    key(250)
}

async fn fund_caller(t: &mut TestNet) {
    crate::fund(&mut t.ctx, &caller().pubkey(), crate::LAMPORTS).await;
}

/// Every keeper attests `views`; keepers in `quiet` are left out.
async fn attest_all(t: &mut TestNet, views: &[(u32, Seen)], quiet: usize) {
    for k in quiet..MAX_KEEPERS {
        t.attest(k, views).await.expect("attestation");
    }
}

/// The quorum at 16 keepers (automatic): ⌊2·16/3⌋ + 1.
const QUORUM: usize = 11;

/// Every worst case, in order. Each scenario builds its own bank.
pub async fn scenarios(runtime: Runtime) -> Vec<Measured> {
    let mut out = Vec::new();
    let policy = PolicyParams::default();
    let one_group = [MAX_ENDPOINTS];
    let eight_groups = [MAX_ENDPOINTS / MAX_GROUPS; MAX_GROUPS];
    let n = MAX_ENDPOINTS as u32;

    // 1. A quiet attestation: nothing changes, nothing it votes down serves.
    let mut t = network(runtime, &eight_groups, policy).await;
    attest_all(&mut t, &all_healthy(n), 0).await;
    t.warp(5).await;
    let ix = t.attestation(0, &all_healthy(n)).await;
    let k = t.keepers[0].insecure_clone();
    out.push(
        measure(
            &mut t,
            "quiet attestation",
            budget::QUIET_ATTESTATION,
            ix,
            &k,
        )
        .await,
    );

    // 2. The attestation that completes the quorum and migrates a group of 32.
    let mut t = network(runtime, &one_group, policy).await;
    attest_all(&mut t, &all_healthy(n), 0).await;
    t.warp(5).await;
    let down = with_down(all_healthy(n), &[0]);
    for k in 0..QUORUM - 1 {
        t.attest(k, &down).await.expect("attestation");
    }
    let ix = t.attestation(QUORUM - 1, &down).await;
    let k = t.keepers[QUORUM - 1].insecure_clone();
    out.push(
        measure(
            &mut t,
            "attestation migrating a group of 32",
            budget::ATTESTATION,
            ix,
            &k,
        )
        .await,
    );

    // 3. The same, all 8 groups (of 4) at once.
    let mut t = network(runtime, &eight_groups, policy).await;
    attest_all(&mut t, &all_healthy(n), 0).await;
    t.warp(5).await;
    let primaries: Vec<u32> = (0..MAX_GROUPS as u32).map(|g| g * 4).collect();
    let down = with_down(all_healthy(n), &primaries);
    for k in 0..QUORUM - 1 {
        t.attest(k, &down).await.expect("attestation");
    }
    let ix = t.attestation(QUORUM - 1, &down).await;
    let k = t.keepers[QUORUM - 1].insecure_clone();
    out.push(
        measure(
            &mut t,
            "attestation migrating all 8 groups",
            budget::ATTESTATION,
            ix,
            &k,
        )
        .await,
    );

    // 4. The attestation that completes a breach quorum when no standby is healthy: every
    //    standby tallied, the migration refused (the last healthy endpoint stays).
    let mut t = network(runtime, &one_group, policy).await;
    attest_all(&mut t, &all_healthy(n), 0).await;
    t.warp(5).await;
    let everything: Vec<u32> = (0..n).collect();
    let all_down = with_down(all_healthy(n), &everything);
    for k in 0..QUORUM - 1 {
        t.attest(k, &all_down).await.expect("attestation");
    }
    let ix = t.attestation(QUORUM - 1, &all_down).await;
    let k = t.keepers[QUORUM - 1].insecure_clone();
    out.push(
        measure(
            &mut t,
            "attestation reaching a quorum, refused (no healthy standby)",
            budget::ATTESTATION,
            ix,
            &k,
        )
        .await,
    );
    fund_caller(&mut t).await;
    let trigger = trigger_ix(&mut t, 0).await;
    out.push(
        measure(
            &mut t,
            "trigger_migration refused (no healthy standby)",
            budget::DECISION,
            trigger,
            &caller(),
        )
        .await,
    );

    // 5. trigger_migration for a group of 32 once its cooldown ended: the group migrated
    //    once, a quorum voted its new primary down just before the cooldown ended (the
    //    attestations were refused), and nobody attested since.
    let mut t = network(runtime, &one_group, policy).await;
    fund_caller(&mut t).await;
    attest_all(&mut t, &all_healthy(n), 0).await;
    t.warp(5).await;
    attest_all(&mut t, &with_down(all_healthy(n), &[0]), 0).await;
    let now_primary = t
        .topology()
        .await
        .primary_of(0)
        .map(|e| e.id)
        .expect("a new primary");
    t.warp(policy.cooldown_slots - 10).await;
    attest_all(&mut t, &with_down(all_healthy(n), &[0, now_primary]), 0).await;
    assert_eq!(
        t.topology().await.primary_of(0).map(|e| e.id),
        Some(now_primary)
    );
    t.warp(10).await;
    let trigger = trigger_ix(&mut t, 0).await;
    out.push(
        measure(
            &mut t,
            "trigger_migration, a group of 32 after the cooldown",
            budget::DECISION,
            trigger,
            &caller(),
        )
        .await,
    );

    // 6. Readmission in a group of 32: the failed primary served its quarantine and a
    //    quorum has seen it healthy through probation.
    let mut t = network(runtime, &one_group, policy).await;
    fund_caller(&mut t).await;
    attest_all(&mut t, &all_healthy(n), 0).await;
    t.warp(5).await;
    attest_all(&mut t, &with_down(all_healthy(n), &[0]), 0).await;
    assert_eq!(t.role_of(0).await, Some(Role::Quarantined));
    t.warp(5).await;
    attest_all(&mut t, &all_healthy(n), 0).await;
    let mut waited = 0;
    while waited < policy.quarantine_base_slots + policy.probation_slots {
        t.warp(policy.liveness_slots / 3).await;
        waited += policy.liveness_slots / 3;
        attest_all(&mut t, &all_healthy(n), 0).await;
    }
    let readmit = readmit_ix(&mut t, 0).await;
    out.push(
        measure(
            &mut t,
            "readmit_endpoint, a group of 32",
            budget::DECISION,
            readmit,
            &caller(),
        )
        .await,
    );

    out
}

async fn trigger_ix(t: &mut TestNet, group: u8) -> Instruction {
    let epoch = t.topology().await.group_epoch(group);
    ix::trigger_migration(
        &t.network,
        &caller().pubkey(),
        TriggerMigrationArgs {
            group,
            expected_group_epoch: epoch,
        },
    )
}

async fn readmit_ix(t: &mut TestNet, endpoint_id: u32) -> Instruction {
    let topology = t.topology().await;
    let group = topology.endpoint(endpoint_id).map_or(0, |e| e.group);
    ix::readmit_endpoint(
        &t.network,
        &caller().pubkey(),
        ReadmitEndpointArgs {
            endpoint_id,
            expected_group_epoch: topology.group_epoch(group),
        },
    )
}
