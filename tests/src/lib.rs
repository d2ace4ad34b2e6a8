//! Harness for running the Lifeline program natively inside solana-program-test's real
//! bank (no SBF toolchain): a processor wrapper, a `TestNet` fixture that creates a
//! network with keepers and endpoints, and helpers to send, warp, attest and read state.
//!
//! (Over 400 lines: one fixture with a helper per instruction, shared by every program
//! test file.)
pub mod compute;
pub mod dashboard;
pub mod scenario;
pub mod validator;

use std::collections::HashMap;

use anchor_lang::prelude::Pubkey;
use lifeline::instructions::*;
use lifeline::state::{Ballot, KeeperReport, Network, PolicyParams, Role, Topology};
use lifeline_client::{accounts, events::LifelineEvent, ix, pda};
use solana_account::Account;
use solana_clock::Clock;
use solana_compute_budget_interface::ComputeBudgetInstruction;
use solana_instruction::{error::InstructionError, Instruction};
use solana_keypair::Keypair;
use solana_program_test::{BanksClientError, ProgramTest, ProgramTestContext};
use solana_signer::Signer;
use solana_transaction::{Transaction, TransactionError};

pub use lifeline::errors::LifelineError;

/// A ProgramTest with Lifeline registered natively (the same builtin the localnet runs),
/// or, when BPF_OUT_DIR names a directory with its SBF build, that build, metered as on a
/// validator: `BPF_OUT_DIR=target/sbf cargo test -p lifeline-tests --test program`.
pub fn program_test() -> ProgramTest {
    if std::env::var_os("BPF_OUT_DIR").is_some() {
        let mut pt = ProgramTest::default();
        pt.prefer_bpf(true);
        pt.add_program("lifeline", lifeline::ID, None);
        pt
    } else {
        lifeline_localnet::program::program_test()
    }
}

pub const LAMPORTS: u64 = 1_000_000_000;
pub const START_SLOT: u64 = 10_000;

/// The custom error code of a failed transaction (Anchor: 6000 + variant index for
/// program errors, 2000–3999 for account constraint errors).
pub fn error_code(err: &BanksClientError) -> Option<u32> {
    let tx_err = match err {
        BanksClientError::TransactionError(e) => e,
        BanksClientError::SimulationError { err, .. } => err,
        _ => return None,
    };
    match tx_err {
        TransactionError::InstructionError(_, InstructionError::Custom(c)) => Some(*c),
        _ => None,
    }
}

pub fn instruction_error(err: &BanksClientError) -> Option<InstructionError> {
    match err {
        BanksClientError::TransactionError(TransactionError::InstructionError(_, e))
        | BanksClientError::SimulationError {
            err: TransactionError::InstructionError(_, e),
            ..
        } => Some(e.clone()),
        _ => None,
    }
}

/// Asserts that `result` failed with the given Lifeline error.
#[track_caller]
pub fn assert_lifeline_err<T: std::fmt::Debug>(
    result: Result<T, BanksClientError>,
    expected: LifelineError,
) {
    let err = result.expect_err("transaction should have failed");
    assert_eq!(
        error_code(&err),
        Some(u32::from(expected)),
        "expected {expected:?}, got {err:?}"
    );
}

/// Asserts that `result` failed with an Anchor framework error (constraint, signer, owner…).
#[track_caller]
pub fn assert_anchor_err<T: std::fmt::Debug>(
    result: Result<T, BanksClientError>,
    expected: anchor_lang::error::ErrorCode,
) {
    let err = result.expect_err("transaction should have failed");
    assert_eq!(
        error_code(&err),
        Some(u32::from(expected)),
        "expected {expected:?}, got {err:?}"
    );
}

pub fn endpoint_args(
    group: u8,
    role: Role,
    url: &str,
    provider: &str,
    region: &str,
) -> AddEndpointArgs {
    AddEndpointArgs {
        group,
        kind: 0,
        role: role as u8,
        priority: 0,
        url: url.into(),
        region: region.into(),
        provider: provider.into(),
    }
}

pub use lifeline_sandbox::Seen;

/// A network on a fresh bank: creator = authority, `keepers` keepers added.
pub struct TestNet {
    pub ctx: ProgramTestContext,
    pub authority: Keypair,
    pub name: String,
    pub network: Pubkey,
    pub topology: Pubkey,
    pub keepers: Vec<Keypair>,
    seqs: HashMap<Pubkey, u64>,
    nonce: u32,
}

impl TestNet {
    pub async fn start() -> ProgramTestContext {
        program_test().start_with_context().await
    }

    /// A bank with a funded authority, but no network yet.
    pub async fn bare() -> Self {
        Self::bare_on(program_test(), Keypair::new()).await
    }

    /// `bare` on a given ProgramTest (native or the SBF build) with a given authority
    /// (deterministic keys make two runs comparable byte for byte).
    pub async fn bare_on(pt: ProgramTest, authority: Keypair) -> Self {
        let mut ctx = pt.start_with_context().await;
        // Start at a realistic slot so that "N slots behind" never saturates at genesis.
        ctx.warp_to_slot(START_SLOT).unwrap();
        fund(&mut ctx, &authority.pubkey(), 100 * LAMPORTS).await;
        let name = "testnet".to_string();
        let network = pda::network(&authority.pubkey(), &name).0;
        Self {
            ctx,
            authority,
            topology: pda::topology(&network).0,
            network,
            name,
            keepers: Vec::new(),
            seqs: HashMap::new(),
            nonce: 0,
        }
    }

    pub async fn new(keepers: usize, policy: PolicyParams) -> Self {
        let mut t = Self::bare().await;
        let create = ix::create_network(
            &t.authority.pubkey(),
            CreateNetworkArgs {
                name: t.name.clone(),
                policy,
                guardian: None,
            },
        );
        t.send_as_authority(create).await.expect("create_network");
        for i in 0..keepers {
            t.add_keeper(&format!("region-{i}"), &format!("prov-{}", i % 2))
                .await;
        }
        t
    }

    pub async fn add_keeper(&mut self, region: &str, provider: &str) -> Pubkey {
        self.add_keeper_with(Keypair::new(), region, provider).await
    }

    /// Funds `keeper` and adds it to the set.
    pub async fn add_keeper_with(
        &mut self,
        keeper: Keypair,
        region: &str,
        provider: &str,
    ) -> Pubkey {
        fund(&mut self.ctx, &keeper.pubkey(), 10 * LAMPORTS).await;
        let add = ix::add_keeper(
            &self.network,
            &self.authority.pubkey(),
            AddKeeperArgs {
                keeper: keeper.pubkey(),
                region: region.into(),
                provider: provider.into(),
            },
        );
        self.send_as_authority(add).await.expect("add_keeper");
        let key = keeper.pubkey();
        self.keepers.push(keeper);
        key
    }

    /// Adds `keeper` (an existing key, e.g. one removed before) to the set.
    pub async fn add_keeper_key(&mut self, keeper: &Keypair, region: &str, provider: &str) {
        let add = ix::add_keeper(
            &self.network,
            &self.authority.pubkey(),
            AddKeeperArgs {
                keeper: keeper.pubkey(),
                region: region.into(),
                provider: provider.into(),
            },
        );
        self.send_as_authority(add).await.expect("add_keeper");
    }

    pub async fn add_endpoint(
        &mut self,
        group: u8,
        role: Role,
        provider: &str,
        region: &str,
    ) -> u32 {
        let id = self.topology().await.next_endpoint_id;
        let url = format!("https://ep{id}.{provider}.example");
        let add = ix::add_endpoint(
            &self.network,
            &self.authority.pubkey(),
            endpoint_args(group, role, &url, provider, region),
        );
        self.send_as_authority(add).await.expect("add_endpoint");
        id
    }

    /// Sends one transaction signed by the payer and `signers`. A compute-budget
    /// instruction with a fresh limit makes every transaction unique, so identical
    /// instructions can be sent twice without the bank deduplicating them.
    pub async fn send(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<(), BanksClientError> {
        let tx = self.transaction(ixs, signers).await;
        self.ctx.banks_client.process_transaction(tx).await
    }

    pub async fn transaction(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> Transaction {
        self.nonce += 1;
        let mut all = vec![ComputeBudgetInstruction::set_compute_unit_limit(
            1_400_000 - self.nonce,
        )];
        all.extend_from_slice(ixs);
        let blockhash = self.ctx.banks_client.get_latest_blockhash().await.unwrap();
        let mut keys: Vec<&Keypair> = vec![&self.ctx.payer];
        keys.extend_from_slice(signers);
        Transaction::new_signed_with_payer(&all, Some(&self.ctx.payer.pubkey()), &keys, blockhash)
    }

    /// Simulates first (to capture the events the transaction emits as inner
    /// instructions), then processes it for real.
    pub async fn send_with_events(
        &mut self,
        ixs: &[Instruction],
        signers: &[&Keypair],
    ) -> Result<Vec<LifelineEvent>, BanksClientError> {
        let tx = self.transaction(ixs, signers).await;
        let sim = self
            .ctx
            .banks_client
            .simulate_transaction(tx.clone())
            .await?;
        let details = sim.simulation_details.expect("simulation details");
        let events = details
            .inner_instructions
            .unwrap_or_default()
            .iter()
            .flat_map(|inner| inner.iter())
            .filter(|i| {
                tx.message.account_keys[i.instruction.program_id_index as usize] == lifeline::ID
            })
            .filter_map(|i| lifeline_client::events::decode_event(&i.instruction.data))
            .collect();
        self.ctx.banks_client.process_transaction(tx).await?;
        Ok(events)
    }

    pub async fn send_as_authority(&mut self, ix: Instruction) -> Result<(), BanksClientError> {
        let authority = self.authority.insecure_clone();
        self.send(&[ix], &[&authority]).await
    }

    pub async fn account(&mut self, key: &Pubkey) -> Option<Account> {
        self.ctx.banks_client.get_account(*key).await.unwrap()
    }

    pub async fn network_state(&mut self) -> Box<Network> {
        let key = self.network;
        accounts::network(&self.account(&key).await.expect("network").data).unwrap()
    }

    pub async fn topology(&mut self) -> Box<Topology> {
        let key = self.topology;
        accounts::topology(&self.account(&key).await.expect("topology").data).unwrap()
    }

    pub async fn ballot(&mut self) -> Box<Ballot> {
        let key = pda::ballot(&self.network).0;
        accounts::ballot(&self.account(&key).await.expect("ballot").data).unwrap()
    }

    /// Keeper `k`'s row of the ballot (found by key: slots are the program's business).
    pub async fn report(&mut self, k: usize) -> KeeperReport {
        let key = self.keepers[k].pubkey();
        let network = self.network_state().await;
        let i = network.keeper_index(&key).expect("keeper in the set");
        self.ballot().await.reports[i]
    }

    pub async fn slot(&mut self) -> u64 {
        self.ctx
            .banks_client
            .get_sysvar::<Clock>()
            .await
            .unwrap()
            .slot
    }

    /// Moves the bank `slots` slots ahead (and to a fresh blockhash).
    pub async fn warp(&mut self, slots: u64) {
        let now = self.slot().await;
        self.ctx.warp_to_slot(now + slots.max(1)).unwrap();
    }

    pub fn next_seq(&mut self, k: usize) -> u64 {
        let seq = self.seqs.entry(self.keepers[k].pubkey()).or_insert(0);
        *seq += 1;
        *seq
    }

    /// Builds keeper `k`'s attestation of `views` (endpoint id → what it saw) against the
    /// current slot and epoch.
    pub async fn attestation(&mut self, k: usize, views: &[(u32, Seen)]) -> Instruction {
        let reference_slot = self.slot().await;
        let epoch = self.topology().await.epoch;
        let policy = self.network_state().await.policy;
        let seq = self.next_seq(k);
        let observations = views
            .iter()
            .map(|(id, s)| s.observation(&policy, *id))
            .collect();
        ix::submit_attestation(
            &self.network,
            &self.keepers[k].pubkey(),
            SubmitAttestationArgs {
                seq,
                topology_epoch: epoch,
                reference_slot,
                observations,
            },
        )
    }

    pub async fn attest(
        &mut self,
        k: usize,
        views: &[(u32, Seen)],
    ) -> Result<(), BanksClientError> {
        let ix = self.attestation(k, views).await;
        let keeper = self.keepers[k].insecure_clone();
        self.send(&[ix], &[&keeper]).await
    }

    /// Keeper `k` attests `views` and returns the events of its transaction (the
    /// attestation's own, and a migration it completes).
    pub async fn attest_with_events(
        &mut self,
        k: usize,
        views: &[(u32, Seen)],
    ) -> Result<Vec<LifelineEvent>, BanksClientError> {
        let ix = self.attestation(k, views).await;
        let keeper = self.keepers[k].insecure_clone();
        self.send_with_events(&[ix], &[&keeper]).await
    }

    pub async fn pause(&mut self, paused: bool) {
        let ix = ix::set_paused(&self.network, &self.authority.pubkey(), paused);
        self.send_as_authority(ix).await.expect("set_paused");
    }

    /// Keepers in `range` all attest `views`.
    pub async fn attest_all(&mut self, range: std::ops::Range<usize>, views: &[(u32, Seen)]) {
        for k in range {
            self.attest(k, views).await.expect("attestation");
        }
    }

    pub async fn trigger(&mut self, group: u8) -> Result<Vec<LifelineEvent>, BanksClientError> {
        let epoch = self.topology().await.group_epoch(group);
        let caller = Keypair::new();
        let ix = ix::trigger_migration(
            &self.network,
            &caller.pubkey(),
            TriggerMigrationArgs {
                group,
                expected_group_epoch: epoch,
            },
        );
        self.send_with_events(&[ix], &[&caller]).await
    }

    pub async fn readmit(
        &mut self,
        endpoint_id: u32,
    ) -> Result<Vec<LifelineEvent>, BanksClientError> {
        let topology = self.topology().await;
        let group = topology.endpoint(endpoint_id).map_or(0, |e| e.group);
        let caller = Keypair::new();
        let ix = ix::readmit_endpoint(
            &self.network,
            &caller.pubkey(),
            ReadmitEndpointArgs {
                endpoint_id,
                expected_group_epoch: topology.group_epoch(group),
            },
        );
        self.send_with_events(&[ix], &[&caller]).await
    }

    pub async fn role_of(&mut self, id: u32) -> Option<Role> {
        self.topology().await.endpoint(id).and_then(|e| e.role())
    }
}

pub async fn fund(ctx: &mut ProgramTestContext, to: &Pubkey, lamports: u64) {
    let ix = solana_system_interface::instruction::transfer(&ctx.payer.pubkey(), to, lamports);
    let blockhash = ctx.banks_client.get_latest_blockhash().await.unwrap();
    let tx = Transaction::new_signed_with_payer(
        &[ix],
        Some(&ctx.payer.pubkey()),
        &[&ctx.payer],
        blockhash,
    );
    ctx.banks_client.process_transaction(tx).await.unwrap();
}

/// Size in bytes of a transaction as sent on the wire (limit: 1232).
pub fn wire_size(tx: &Transaction) -> usize {
    bincode::serialized_size(tx).unwrap() as usize
}
