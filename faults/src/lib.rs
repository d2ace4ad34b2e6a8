//! Endpoint faults, shared by everything that injects them: the fault table and what each
//! fault does (`fault`), one endpoint's fault state and the port it opens and closes
//! (`switch`), the admin API (`admin`), and fault proxies in front of a real node
//! (`proxy`). `tc netem` and toxiproxy are not available on these machines, so faults
//! live in our own code.
pub mod admin;
pub mod fault;
pub mod hostile;
pub mod proxy;
pub mod switch;

pub use admin::{EndpointInfo, FaultError, FaultSet};
pub use fault::{Fault, FrozenAt, HostileBody, Slot, SlotInfo, SlotView};
pub use proxy::{Proxies, ProxyKind};
pub use switch::Switch;
