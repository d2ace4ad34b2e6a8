//! Lifeline's Rust SDK: PDA derivation, one builder per instruction, decoding of accounts
//! and events, a `TopologyWatcher` that follows a network's topology, and `FailoverRpc`,
//! an RPC transport that routes every call to the group's current primary and fails over.
//! The keeper, the CLI and the tests all build instructions here, so there is exactly one
//! copy of the account lists.
pub mod accounts;
pub mod budget;
pub mod describe;
pub mod errors;
pub mod events;
pub mod floors;
pub mod history;
pub mod ix;
pub mod kinds;
pub mod pda;
pub mod plan;
pub mod router;
pub mod state;
pub mod urls;
pub mod view;
pub mod watcher;

pub use lifeline::ID as PROGRAM_ID;
pub use router::{FailoverRpc, RouterConfig};
pub use state::ChainState;
pub use view::{EndpointView, TopologyView};
pub use watcher::{TopologyWatcher, WatcherConfig};
