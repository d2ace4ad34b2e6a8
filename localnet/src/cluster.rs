//! The cluster core: solana-runtime's `Bank`/`BankForks` driven directly, with the Lifeline
//! program registered as a native builtin.
//!
//! Concurrency:
//! * `gate: RwLock<Arc<Bank>>` holds the working (unfrozen) bank. Executing or simulating a
//!   transaction holds a *read* guard for the whole load/execute/commit, so a bank is never
//!   frozen under an in-flight commit (committing into a frozen bank panics).
//! * The slot thread takes the *write* guard to fill ticks, freeze, and swap in the child.
//! * `Bank::new_from_parent` is never called under the BankForks write lock: it takes the
//!   program-cache lock, and transaction processing takes program cache → BankForks (read).
//!   (solana-program-test's warp does exactly that and deadlocks under concurrent traffic.)
//!
//! (Over 400 lines: genesis, the slot clock, sending and simulating, the transaction
//! records and the ledger hooks all act on the same bank forks; split, they would share
//! their locks across files.)
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use agave_feature_set::FeatureSet;
use solana_account::{AccountSharedData, ReadableAccount};
use solana_accounts_db::accounts_db::ACCOUNTS_DB_CONFIG_FOR_TESTING;
use solana_accounts_db::accounts_index::ScanConfig;
use solana_clock::{Clock, Slot, MAX_PROCESSING_AGE};
use solana_cluster_type::ClusterType;
use solana_fee_calculator::{FeeRateGovernor, DEFAULT_TARGET_LAMPORTS_PER_SIGNATURE};
use solana_genesis_config::GenesisConfig;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::inner_instruction::InnerInstructionsList;
use solana_native_token::LAMPORTS_PER_SOL;
use solana_poh_config::PohConfig;
use solana_program_runtime::loaded_programs::ProgramCacheEntry;
use solana_pubkey::Pubkey;
use solana_rent::Rent;
use solana_runtime::bank::Bank;
use solana_runtime::bank_forks::BankForks;
use solana_runtime::genesis_utils::create_genesis_config_with_leader_ex;
use solana_runtime::runtime_config::RuntimeConfig;
use solana_runtime_transaction::runtime_transaction::RuntimeTransaction;
use solana_signature::Signature;
use solana_signer::Signer;
use solana_svm::transaction_processor::ExecutionRecordingConfig;
use solana_svm_timings::ExecuteTimings;
use solana_transaction::sanitized::SanitizedTransaction;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;
use tokio::sync::broadcast;

use crate::ledger::Ledger;
use crate::program;

const TICKS_PER_SLOT: u64 = 64;
/// Signatures remembered per address for getSignaturesForAddress.
const SIGNATURES_PER_ADDRESS: usize = 1_000;
/// Transaction records older than this many slots are pruned (well past blockhash expiry).
const RECORD_RETENTION_SLOTS: u64 = 10 * MAX_PROCESSING_AGE as u64;

type RtTx = RuntimeTransaction<SanitizedTransaction>;

/// What a committed transaction left behind (for getSignatureStatuses / getTransaction).
#[derive(Clone, Debug)]
pub struct TxRecord {
    pub slot: Slot,
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub units: u64,
    pub fee: u64,
    pub transaction: VersionedTransaction,
    pub inner_instructions: Option<InnerInstructionsList>,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    pub block_time: i64,
}

/// The outcome of a simulation (preflight or simulateTransaction).
#[derive(Clone, Debug)]
pub struct Simulation {
    pub slot: Slot,
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub units: u64,
    pub return_data: Option<solana_transaction_context::TransactionReturnData>,
    pub inner_instructions: Option<InnerInstructionsList>,
}

#[derive(Debug)]
pub enum SendError {
    /// Failed signature verification or sanitization, or was not committed (expired
    /// blockhash, already processed, fee payer cannot pay…).
    Rejected(TransactionError),
    /// Preflight simulation failed; nothing was committed.
    Preflight(Box<Simulation>),
}

impl SendError {
    /// The transaction error, whichever way it failed.
    pub fn transaction_error(&self) -> Option<&TransactionError> {
        match self {
            SendError::Rejected(e) => Some(e),
            SendError::Preflight(sim) => sim.err.as_ref(),
        }
    }
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SendError::Rejected(e) => write!(f, "rejected: {e}"),
            SendError::Preflight(sim) => match &sim.err {
                Some(e) => write!(f, "preflight failed: {e}"),
                None => write!(f, "preflight failed"),
            },
        }
    }
}

impl std::error::Error for SendError {}

/// Broadcast to subscribers (PubSub, fault proxies) as the cluster moves.
#[derive(Clone, Debug)]
pub enum ClusterEvent {
    Slot {
        slot: Slot,
        parent: Slot,
        root: Slot,
    },
    Committed {
        signature: Signature,
        slot: Slot,
        err: Option<TransactionError>,
        writable: Arc<Vec<Pubkey>>,
    },
}

#[derive(Clone, Debug)]
pub struct ClusterConfig {
    pub slot_duration: Duration,
    /// Persist touched accounts here so a restart keeps the network state.
    pub ledger: Option<std::path::PathBuf>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            slot_duration: Duration::from_millis(400),
            ledger: None,
        }
    }
}

#[derive(Default)]
struct Records {
    by_signature: HashMap<Signature, TxRecord>,
    by_address: HashMap<Pubkey, VecDeque<(Signature, Slot)>>,
}

pub struct Cluster {
    bank_forks: Arc<RwLock<BankForks>>,
    gate: RwLock<Arc<Bank>>,
    faucet: Keypair,
    genesis_hash: Hash,
    collector: Pubkey,
    records: Mutex<Records>,
    /// Accounts written by committed transactions since genesis (what the ledger persists).
    touched: Mutex<HashSet<Pubkey>>,
    events: broadcast::Sender<ClusterEvent>,
    ledger: Option<Ledger>,
    config: ClusterConfig,
    stopped: AtomicBool,
    /// Each recent frozen slot's blockhash, so a node held back at an older slot (frozen,
    /// lagging) serves that slot's hash, as a real one would.
    frozen_hashes: Mutex<BTreeMap<Slot, Hash>>,
}

/// How many recent slots' blockhashes are kept for held-back views.
const FROZEN_HASHES_KEPT: usize = 2_048;

impl Cluster {
    /// Builds genesis, registers the Lifeline program, restores a persisted ledger if one
    /// is configured, and returns a cluster whose slot clock is not yet running
    /// (see `spawn_slot_clock`).
    pub fn new(config: ClusterConfig) -> Result<Arc<Self>, crate::Error> {
        program::install_syscall_stubs();
        let ledger = config.ledger.as_deref().map(Ledger::open).transpose()?;
        let saved = match &ledger {
            Some(l) => l.load()?,
            None => None,
        };

        let faucet = Keypair::new();
        let collector = Pubkey::new_unique();
        let genesis = genesis(&faucet.pubkey(), &collector, config.slot_duration);
        let bank0 = bank0(&genesis);
        let mut touched = HashSet::new();
        let mut start_slot = 1;
        if let Some(saved) = saved {
            for (key, account) in &saved.accounts {
                bank0.store_account(key, account);
                touched.insert(*key);
            }
            start_slot = saved.slot.max(1) + 1;
        }
        bank0.set_capitalization_for_tests(bank0.calculate_capitalization_for_tests());
        let bank0 = Arc::new(bank0);
        bank0.fill_bank_with_ticks_for_tests();
        bank0.freeze();
        let working = if start_slot == 1 {
            Bank::new_from_parent(bank0.clone(), &collector, 1)
        } else {
            // Resume near the persisted slot so that slots recorded in accounts (report
            // reference slots, cooldowns, quarantines) keep their meaning.
            let warped = Arc::new(Bank::warp_from_parent(
                bank0.clone(),
                &collector,
                start_slot - 1,
            ));
            Bank::new_from_parent(warped, &collector, start_slot)
        };
        drop(bank0);
        let bank_forks = BankForks::new_rw_arc(working);
        let working = bank_forks.read().unwrap().working_bank();
        let (events, _) = broadcast::channel(4096);
        Ok(Arc::new(Self {
            bank_forks,
            gate: RwLock::new(working),
            genesis_hash: genesis.hash(),
            faucet,
            collector,
            records: Mutex::new(Records::default()),
            touched: Mutex::new(touched),
            events,
            ledger,
            config,
            stopped: AtomicBool::new(false),
            frozen_hashes: Mutex::new(BTreeMap::new()),
        }))
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// The blockhash slot `slot` ended with, while it is recent.
    pub fn frozen_hash(&self, slot: Slot) -> Option<Hash> {
        self.frozen_hashes.lock().unwrap().get(&slot).copied()
    }

    pub fn slot_duration(&self) -> Duration {
        self.config.slot_duration
    }

    pub fn subscribe(&self) -> broadcast::Receiver<ClusterEvent> {
        self.events.subscribe()
    }

    /// The working bank ("processed"). Do not hold it across a slot advance.
    pub fn working_bank(&self) -> Arc<Bank> {
        self.gate.read().unwrap().clone()
    }

    /// The last frozen, rooted bank ("confirmed" / "finalized": on a single node every
    /// frozen slot is final).
    pub fn root_bank(&self) -> Arc<Bank> {
        self.bank_forks.read().unwrap().root_bank()
    }

    /// Closes the current slot and opens the next one.
    pub fn advance_slot(&self) -> Slot {
        let (parent, child) = {
            let mut gate = self.gate.write().unwrap();
            let parent = gate.clone();
            // The last tick's hash becomes the new latest blockhash.
            parent.fill_bank_with_ticks_for_tests();
            parent.freeze();
            let mut hashes = self.frozen_hashes.lock().unwrap();
            hashes.insert(parent.slot(), parent.last_blockhash());
            while hashes.len() > FROZEN_HASHES_KEPT {
                hashes.pop_first();
            }
            drop(hashes);
            let child = Bank::new_from_parent(parent.clone(), &self.collector, parent.slot() + 1);
            // The natural Clock estimate runs ~25 % slow without votes: use wall time.
            let clock = child.clock();
            let now = unix_now();
            if clock.unix_timestamp < now {
                child.set_sysvar_for_tests(&Clock {
                    unix_timestamp: now,
                    ..clock
                });
            }
            let child = self
                .bank_forks
                .write()
                .unwrap()
                .insert(child)
                .clone_without_scheduler();
            // Root the parent before the new working bank is visible: a status read
            // against the new working slot says "finalized" for the parent's
            // transactions, so a read at confirmed must already see them.
            drop(self.bank_forks.write().unwrap().set_root(
                parent.slot(),
                None,
                Some(parent.slot()),
            ));
            *gate = child.clone();
            (parent, child)
        };
        let slot = child.slot();
        if slot % 100 == 0 {
            self.maintenance(&parent);
        }
        if slot % 25 == 0 {
            self.persist();
        }
        let _ = self.events.send(ClusterEvent::Slot {
            slot,
            parent: parent.slot(),
            root: parent.slot(),
        });
        slot
    }

    /// What AccountsBackgroundService does on a validator: without it memory grows.
    fn maintenance(&self, root: &Arc<Bank>) {
        root.prune_program_cache(root.slot(), root.epoch());
        root.force_flush_accounts_cache();
        let db = &root.rc.accounts.accounts_db;
        db.clean_accounts(
            Some(root.slot().saturating_sub(1)),
            false,
            root.epoch_schedule(),
        );
        root.shrink_candidate_slots();
        let oldest = root.slot().saturating_sub(RECORD_RETENTION_SLOTS);
        let mut records = self.records.lock().unwrap();
        records.by_signature.retain(|_, r| r.slot >= oldest);
        for sigs in records.by_address.values_mut() {
            sigs.retain(|(_, slot)| *slot >= oldest);
        }
        records.by_address.retain(|_, sigs| !sigs.is_empty());
    }

    /// Starts the real-time slot thread (absolute deadlines: no drift accumulates). It
    /// stops when `stop` is called.
    pub fn spawn_slot_clock(self: &Arc<Self>) -> std::thread::JoinHandle<()> {
        let me = self.clone();
        std::thread::Builder::new()
            .name("lifeline-slot-clock".into())
            .spawn(move || {
                let start = Instant::now();
                let mut n = 0u32;
                while !me.stopped.load(Ordering::Acquire) {
                    n = n.saturating_add(1);
                    let deadline = start + me.config.slot_duration * n;
                    if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    if me.stopped.load(Ordering::Acquire) {
                        break;
                    }
                    me.advance_slot();
                }
            })
            .expect("spawn slot clock thread")
    }

    /// Stops the slot clock and writes the ledger (if any).
    pub fn stop(&self) {
        if !self.stopped.swap(true, Ordering::AcqRel) {
            self.persist();
        }
    }

    fn persist(&self) {
        let Some(ledger) = &self.ledger else { return };
        let keys: Vec<Pubkey> = self.touched.lock().unwrap().iter().copied().collect();
        let bank = self.working_bank();
        let accounts: Vec<(Pubkey, AccountSharedData)> = keys
            .into_iter()
            .filter_map(|k| bank.get_account(&k).map(|a| (k, a)))
            .collect();
        if let Err(e) = ledger.save(bank.slot(), &accounts) {
            tracing::error!("could not persist the ledger: {e}");
        }
    }

    fn verify(
        &self,
        bank: &Bank,
        tx: VersionedTransaction,
        sig_verify: bool,
    ) -> Result<RtTx, TransactionError> {
        if sig_verify {
            bank.fully_verify_transaction(tx)
        } else {
            bank.verify_transaction(
                tx,
                solana_transaction::TransactionVerificationMode::HashOnly,
            )
        }
    }

    fn simulate_on(bank: &Bank, tx: &RtTx) -> Simulation {
        let r = bank.simulate_transaction_unchecked(tx, true);
        Simulation {
            slot: bank.slot(),
            err: r.result.err(),
            logs: r.logs,
            units: r.units_consumed,
            return_data: r.return_data,
            inner_instructions: r.inner_instructions,
        }
    }

    /// simulateTransaction: runs against the working bank without committing.
    pub fn simulate(
        &self,
        tx: VersionedTransaction,
        sig_verify: bool,
    ) -> Result<Simulation, TransactionError> {
        let gate = self.gate.read().unwrap();
        let sanitized = self.verify(&gate, tx, sig_verify)?;
        Ok(Self::simulate_on(&gate, &sanitized))
    }

    /// sendTransaction: verify, optional preflight, then execute and commit into the
    /// working bank. Returns once committed ("processed"); the slot's end makes it final.
    pub fn send_transaction(
        &self,
        tx: VersionedTransaction,
        skip_preflight: bool,
    ) -> Result<Signature, SendError> {
        let gate = self.gate.read().unwrap();
        let bank: &Bank = &gate;
        let sanitized = bank
            .fully_verify_transaction(tx.clone())
            .map_err(SendError::Rejected)?;
        let signature = *sanitized.signature();
        if !skip_preflight {
            let sim = Self::simulate_on(bank, &sanitized);
            if sim.err.is_some() {
                return Err(SendError::Preflight(Box::new(sim)));
            }
        }
        let keys: Vec<Pubkey> = sanitized.message().account_keys().iter().copied().collect();
        let writable: Vec<Pubkey> = keys
            .iter()
            .enumerate()
            .filter(|(i, _)| sanitized.message().is_writable(*i))
            .map(|(_, k)| *k)
            .collect();
        loop {
            let batch = bank.prepare_sanitized_batch(std::slice::from_ref(&sanitized));
            if let Err(TransactionError::AccountInUse) = batch.lock_results()[0] {
                // Another in-flight transaction holds a write lock on one of our accounts.
                drop(batch);
                std::thread::yield_now();
                continue;
            }
            let pre_balances: Vec<u64> = keys.iter().map(|k| bank.get_balance(k)).collect();
            let (mut results, _) = bank.load_execute_and_commit_transactions(
                &batch,
                MAX_PROCESSING_AGE,
                ExecutionRecordingConfig {
                    enable_cpi_recording: true,
                    enable_log_recording: true,
                    enable_return_data_recording: true,
                    enable_transaction_balance_recording: false,
                },
                &mut ExecuteTimings::default(),
                None,
            );
            drop(batch);
            let committed = results.remove(0).map_err(SendError::Rejected)?;
            let post_balances: Vec<u64> = keys.iter().map(|k| bank.get_balance(k)).collect();
            let record = TxRecord {
                slot: bank.slot(),
                err: committed.status.err(),
                logs: committed.log_messages.unwrap_or_default(),
                units: committed.executed_units,
                fee: committed.fee_details.total_fee(),
                transaction: tx,
                inner_instructions: committed.inner_instructions,
                pre_balances,
                post_balances,
                block_time: bank.clock().unix_timestamp,
            };
            self.record(signature, record, &keys, &writable);
            return Ok(signature);
        }
    }

    fn record(&self, signature: Signature, record: TxRecord, keys: &[Pubkey], writable: &[Pubkey]) {
        let (slot, err) = (record.slot, record.err.clone());
        {
            let mut records = self.records.lock().unwrap();
            for key in keys {
                let sigs = records.by_address.entry(*key).or_default();
                sigs.push_front((signature, slot));
                sigs.truncate(SIGNATURES_PER_ADDRESS);
            }
            records.by_signature.insert(signature, record);
        }
        self.touched
            .lock()
            .unwrap()
            .extend(writable.iter().copied());
        let _ = self.events.send(ClusterEvent::Committed {
            signature,
            slot,
            err,
            writable: Arc::new(writable.to_vec()),
        });
    }

    /// requestAirdrop: a transfer from the faucet.
    pub fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<Signature, SendError> {
        let blockhash = self.working_bank().last_blockhash();
        let tx = solana_system_transaction::transfer(&self.faucet, to, lamports, blockhash);
        self.send_transaction(tx.into(), true)
    }

    pub fn transaction(&self, signature: &Signature) -> Option<TxRecord> {
        self.records
            .lock()
            .unwrap()
            .by_signature
            .get(signature)
            .cloned()
    }

    /// Newest first.
    pub fn signatures_for_address(
        &self,
        address: &Pubkey,
        limit: usize,
    ) -> Vec<(Signature, TxRecord)> {
        let records = self.records.lock().unwrap();
        records
            .by_address
            .get(address)
            .map(|sigs| {
                sigs.iter()
                    .filter_map(|(s, _)| records.by_signature.get(s).map(|r| (*s, r.clone())))
                    .take(limit)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn program_accounts(bank: &Bank, program: &Pubkey) -> Vec<(Pubkey, AccountSharedData)> {
        bank.get_program_accounts(program, &ScanConfig::default())
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, a)| a.lamports() > 0)
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A development genesis: the faucet and the collector funded, every feature on, fees at
/// half the default, ticks paced for `slot_duration`.
fn genesis(faucet: &Pubkey, collector: &Pubkey, slot_duration: Duration) -> GenesisConfig {
    let fee_rate_governor = FeeRateGovernor {
        lamports_per_signature: DEFAULT_TARGET_LAMPORTS_PER_SIGNATURE / 2,
        ..FeeRateGovernor::default()
    };
    let mut genesis = create_genesis_config_with_leader_ex(
        1_000_000_000 * LAMPORTS_PER_SOL,
        faucet,
        collector,
        &Pubkey::new_unique(),
        &Pubkey::new_unique(),
        None,
        1_000_000 * LAMPORTS_PER_SOL,
        42,
        fee_rate_governor,
        Rent::default(),
        ClusterType::Development,
        &FeatureSet::all_enabled(),
        vec![],
    );
    genesis.ticks_per_slot = TICKS_PER_SLOT;
    let tick = slot_duration / TICKS_PER_SLOT as u32;
    genesis.poh_config = PohConfig::new_sleep(tick);
    genesis.creation_time = unix_now();
    genesis
}

/// Slot 0 from `genesis`, with the SPL and core BPF programs and Lifeline as a builtin.
fn bank0(genesis: &GenesisConfig) -> Bank {
    let bank0 = Bank::new_from_genesis(
        genesis,
        Arc::new(RuntimeConfig::default()),
        Vec::new(),
        None,
        ACCOUNTS_DB_CONFIG_FOR_TESTING,
        None,
        None,
        Arc::default(),
        None,
        None,
    );
    let rent = Rent::default();
    for (id, account) in solana_program_binaries::spl_programs(&rent) {
        bank0.store_account(&id, &account);
    }
    for (id, account) in
        solana_program_binaries::core_bpf_programs(&rent, |f| genesis.accounts.contains_key(f))
    {
        bank0.store_account(&id, &account);
    }
    let (id, name, entry) = program::builtin();
    bank0.add_builtin(
        id,
        name,
        ProgramCacheEntry::new_builtin(0, name.len(), entry),
    );
    bank0
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
