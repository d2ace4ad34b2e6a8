//! Lifeline's Rust SDK: PDA derivation, one builder per instruction, and decoding of
//! accounts and events. The keeper, the CLI and the tests all build instructions here, so
//! there is exactly one copy of the account lists.
pub mod accounts;
pub mod events;
pub mod ix;
pub mod pda;

pub use lifeline::ID as PROGRAM_ID;
