//! The compute units a keeper asks for each transaction it sends, in one place. Each is at
//! least 1.5× the worst case measured on the program's SBF build at the program's limits
//! (16 keepers × 32 endpoints; `cargo bench -p lifeline-tests --bench compute`, table in
//! docs/benchmarks.md); the `compute` test fails when a measurement no longer fits. The
//! priority fee is charged on what is asked for, so asking for less is cheaper.
//!
//! Measured worst cases (2026-12-08, approximate SBF build of ../shared/sbf; Solana's own
//! toolchain may differ by some percent, which the margin absorbs):
//! quiet attestation 18,365; attestation migrating all 8 groups 155,815 (one group of 32:
//! 82,255); trigger_migration for a group of 32 66,281; readmit_endpoint 17,888.

/// An attestation that cannot execute a migration (nothing it votes down serves, no group
/// is without a primary): it only records the row. 1.63× 18,365.
pub const QUIET_ATTESTATION: u32 = 30_000;

/// An attestation that may execute migrations (up to one per group). 1.54× 155,815.
pub const ATTESTATION: u32 = 240_000;

/// `trigger_migration` and `readmit_endpoint`: one decision about one group. 1.66× 66,281.
pub const DECISION: u32 = 110_000;

/// The margin every budget keeps over its measured worst case, in percent.
pub const MARGIN_PERCENT: u64 = 150;
