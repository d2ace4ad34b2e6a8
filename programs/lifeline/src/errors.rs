use anchor_lang::prelude::*;

/// Append-only: Anchor numbers codes by position (6000 + index).
#[error_code]
pub enum LifelineError {
    #[msg("Signer is not the network authority")]
    Unauthorized,
    #[msg("Signer is neither the network authority nor its guardian")]
    NotAuthorityOrGuardian,
    #[msg("Signer is not the pending authority")]
    NotPendingAuthority,
    #[msg("Network name must be 1 to 32 bytes")]
    InvalidName,
    #[msg("URL must be 1 to 128 bytes of printable ASCII with an http(s) or ws(s) scheme")]
    InvalidUrl,
    #[msg("Region and provider labels must be at most 16 bytes of printable ASCII")]
    InvalidLabel,
    #[msg("Group index is out of range")]
    InvalidGroup,
    #[msg("Role is not allowed here")]
    InvalidRole,
    #[msg("Endpoint kind is unknown")]
    InvalidKind,
    #[msg("Topology already holds the maximum number of endpoints")]
    TooManyEndpoints,
    #[msg("Network already holds the maximum number of keepers")]
    TooManyKeepers,
    #[msg("No endpoint with this id")]
    EndpointNotFound,
    #[msg("An endpoint with this URL already exists in the group")]
    DuplicateEndpoint,
    #[msg("The group already has a primary")]
    PrimaryExists,
    #[msg("The primary cannot be retired or removed while its group has other endpoints: fail over first")]
    PrimaryInUse,
    #[msg("Keeper is already in the set")]
    KeeperExists,
    #[msg("Keeper is not in the network's keeper set")]
    KeeperNotInSet,
    #[msg("Policy value out of range")]
    InvalidPolicy,
    #[msg("Quorum would exceed the number of keepers: lower the quorum first")]
    QuorumUnreachable,
    #[msg("Attestation sequence number must be strictly increasing")]
    StaleSequence,
    #[msg("Topology epoch does not match the current epoch")]
    EpochMismatch,
    #[msg("Reference slot is in the future")]
    FutureSlot,
    #[msg("Attestation is older than the policy's staleness window")]
    StaleAttestation,
    #[msg("Attestation has too many observations")]
    TooManyObservations,
    #[msg("Attestation names the same endpoint twice")]
    DuplicateObservation,
    #[msg("Observation value out of range")]
    InvalidObservation,
    #[msg("Network is paused")]
    NetworkPaused,
    #[msg("The group has no primary")]
    NoPrimary,
    #[msg("Fewer than quorum fresh reports attest a breach of the primary")]
    NoBreachQuorum,
    #[msg("The group migrated too recently (cooldown)")]
    CooldownActive,
    #[msg("No standby in the group has fresh quorum-healthy attestations")]
    NoHealthyStandby,
    #[msg("Endpoint is not quarantined")]
    NotQuarantined,
    #[msg("Endpoint's quarantine has not elapsed")]
    QuarantineActive,
    #[msg("Fewer than quorum keepers attest the endpoint healthy for the probation period")]
    ProbationIncomplete,
    /// No longer returned (decisions read the on-chain ballot); kept for code stability.
    #[msg("Remaining account is not a keeper report of this network")]
    InvalidReportAccount,
    /// No longer returned; kept for code stability.
    #[msg("Too many report accounts")]
    TooManyReports,
    #[msg("Account address is not the canonical PDA")]
    InvalidPda,
    #[msg("Account is already initialized")]
    AlreadyInitialized,
    #[msg("Target endpoint is not a standby of the group")]
    InvalidFailoverTarget,
    #[msg("Arithmetic overflow")]
    Overflow,
    #[msg("Account layout version is not supported by this program")]
    UnsupportedVersion,
    #[msg("Nothing to change")]
    NoChange,
    #[msg("Topology account does not belong to this network")]
    WrongTopology,
    #[msg("Report account does not belong to this network or keeper")]
    WrongReport,
    #[msg("Ballot account does not belong to this network")]
    WrongBallot,
    #[msg("The policy changed after the topology epoch the keeper read: read again and re-attest")]
    PolicyChanged,
    #[msg("The guardian may lift only a pause it set itself")]
    PausedByAuthority,
    #[msg("The network still has keepers or endpoints: remove them first")]
    NetworkNotEmpty,
    #[msg("A better-ranked standby may still be attested healthy: waiting for its votes")]
    StandbyUndecided,
}

/// Builds the Anchor error for `e` in one place. Anchor's `error!`/`require!` expand an
/// `AnchorError` (names, message, source location) inline at every call site, which
/// adds hundreds of stack bytes per check; SBF frames are 4 KiB.
#[inline(never)]
pub fn err(e: LifelineError) -> Error {
    e.into()
}

/// `require!` without the per-site stack cost: returns `err(e)` unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $e:expr $(,)?) => {
        if !($cond) {
            return Err($crate::errors::err($e));
        }
    };
}

/// Each engine refusal has one named program error.
impl From<crate::engine::Refusal> for LifelineError {
    fn from(r: crate::engine::Refusal) -> Self {
        use crate::engine::Refusal;
        match r {
            Refusal::InvalidGroup => Self::InvalidGroup,
            Refusal::EndpointNotFound => Self::EndpointNotFound,
            Refusal::Paused => Self::NetworkPaused,
            Refusal::NoPrimary => Self::NoPrimary,
            Refusal::NoBreachQuorum => Self::NoBreachQuorum,
            Refusal::Cooldown { .. } => Self::CooldownActive,
            Refusal::NoHealthyStandby => Self::NoHealthyStandby,
            Refusal::StandbyUndecided { .. } => Self::StandbyUndecided,
            Refusal::NotQuarantined => Self::NotQuarantined,
            Refusal::QuarantineActive { .. } => Self::QuarantineActive,
            Refusal::ProbationIncomplete => Self::ProbationIncomplete,
        }
    }
}
