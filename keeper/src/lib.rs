//! The Lifeline keeper: configuration, probing, probe windows, the decision of when to
//! attest, and the daemon loop that attests and triggers failover. Verdicts and decisions
//! come from the program's own engine, never a copy.
pub mod attest;
pub mod attester;
pub mod cap;
pub mod config;
pub mod cost;
pub mod daemon;
pub mod feed;
pub mod forks;
pub mod jitter;
pub mod metrics;
pub mod migrator;
pub mod probe;
pub mod prober;
pub mod reference;
pub mod send;
pub mod shared;
pub mod signals;
pub mod stats;
pub mod wallet;
pub mod window;

pub use daemon::{Keeper, KeeperError};
pub use stats::KeeperStats;
