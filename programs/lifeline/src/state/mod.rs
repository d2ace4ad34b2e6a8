//! On-chain accounts. All three are zero_copy: they are read on every hot path (every
//! decision reads the whole ballot) and must never sit on the stack.
pub mod ballot;
pub mod network;
pub mod policy;
pub mod text;
pub mod topology;

pub use ballot::*;
pub use network::*;
pub use policy::*;
pub use topology::*;

/// What an endpoint currently does in its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Role {
    /// Serves the group's traffic; at most one per group.
    Primary = 1,
    /// Ready to be promoted once quorum-healthy.
    Standby = 2,
    /// Ejected after a breach; readmitted as standby after quarantine + probation.
    Quarantined = 3,
    /// Taken out of rotation by the authority (maintenance); never promoted automatically.
    Retired = 4,
}

impl Role {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Self::Primary),
            2 => Some(Self::Standby),
            3 => Some(Self::Quarantined),
            4 => Some(Self::Retired),
            _ => None,
        }
    }
}

/// The protocol an endpoint speaks (tells keepers how to probe it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum EndpointKind {
    Rpc = 0,
    WebSocket = 1,
    Oracle = 2,
    Gateway = 3,
    Other = 4,
    /// A Yellowstone (Geyser) gRPC stream.
    Grpc = 5,
}

impl EndpointKind {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            0 => Some(Self::Rpc),
            1 => Some(Self::WebSocket),
            2 => Some(Self::Oracle),
            3 => Some(Self::Gateway),
            4 => Some(Self::Other),
            5 => Some(Self::Grpc),
            _ => None,
        }
    }
}

/// A keeper's judgement of one endpoint, computed on chain from the reported figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Verdict {
    Unknown = 0,
    Healthy = 1,
    Degraded = 2,
    Down = 3,
}

impl Verdict {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Healthy,
            2 => Self::Degraded,
            3 => Self::Down,
            _ => Self::Unknown,
        }
    }
}

/// Why a verdict is what it is, and which rule fired for a migration. Codes are stored:
/// append only, never renumber.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Reason {
    #[default]
    None = 0,
    Latency = 1,
    SlotLag = 2,
    ErrorRate = 3,
    Unreachable = 4,
    /// The endpoint's slot stayed unchanged while the cluster advanced `stall_slots`.
    Stalled = 5,
    /// The endpoint serves another fork (its block hash disagrees with the majority).
    Divergent = 6,
    /// The endpoint claimed a slot or time from the future (beyond the keeper's trusted
    /// reference): a frozen or lying node cannot hide behind it.
    Future = 7,
    /// The group had no primary and a quorum-healthy standby was promoted.
    VacantPrimary = 10,
    /// The authority forced the failover.
    Manual = 20,
}

impl Reason {
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => Self::Latency,
            2 => Self::SlotLag,
            3 => Self::ErrorRate,
            4 => Self::Unreachable,
            5 => Self::Stalled,
            6 => Self::Divergent,
            7 => Self::Future,
            10 => Self::VacantPrimary,
            20 => Self::Manual,
            _ => Self::None,
        }
    }
}
