//! Hard limits and PDA seeds. Every limit is enforced with a named error.

/// Endpoints one topology can hold (all groups together).
pub const MAX_ENDPOINTS: usize = 32;
/// Keepers one network can hold. Sized so the whole ballot (every keeper's vote on every
/// endpoint) fits one account that one instruction may create (≤ 10 KiB).
pub const MAX_KEEPERS: usize = 16;
/// Service groups (rpc, ws, oracle, gateway, …); each has at most one primary.
pub const MAX_GROUPS: usize = 8;
/// Longest endpoint URL, in bytes.
pub const MAX_URL_LEN: usize = 128;
/// Longest network name, in bytes (it is a PDA seed, so at most 32).
pub const MAX_NAME_LEN: usize = 32;
/// Longest region / provider label, in bytes.
pub const MAX_LABEL_LEN: usize = 16;
/// Most recent migrations kept on chain with their evidence.
pub const HISTORY_LEN: usize = 8;

/// Current layout version of every account (bumped by a future migration instruction).
pub const ACCOUNT_VERSION: u8 = 1;

pub const NETWORK_SEED: &[u8] = b"network";
pub const TOPOLOGY_SEED: &[u8] = b"topology";
pub const BALLOT_SEED: &[u8] = b"ballot";

/// Basis points in 100 %.
pub const BPS_MAX: u16 = 10_000;
/// Upper bounds that keep policy arithmetic meaningful.
pub const MAX_STALENESS_SLOTS: u64 = 216_000; // ~1 day of 400 ms slots
pub const MAX_WINDOWS: u8 = 64;
pub const MAX_LATENCY_MS: u32 = 600_000;
/// Lag thresholds must be below what a ballot cell can hold (lag is stored as u16).
pub const MAX_LAG_SLOTS: u32 = u16::MAX as u32;
