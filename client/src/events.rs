//! Decoding of Lifeline events. Events are emitted by self-CPI: each is an inner
//! instruction to the Lifeline program whose data is
//! `EVENT_IX_TAG_LE ‖ event discriminator ‖ borsh(event)`.
use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::{AnchorDeserialize, Discriminator};
use lifeline::events::*;

/// Every Lifeline event, decoded.
#[derive(Debug, Clone)]
pub enum LifelineEvent {
    NetworkCreated(NetworkCreated),
    PolicyUpdated(PolicyUpdated),
    EndpointAdded(EndpointAdded),
    EndpointUpdated(EndpointUpdated),
    EndpointRemoved(EndpointRemoved),
    KeeperAdded(KeeperAdded),
    KeeperRemoved(KeeperRemoved),
    AuthorityProposed(AuthorityProposed),
    AuthorityAccepted(AuthorityAccepted),
    GuardianSet(GuardianSet),
    PausedSet(PausedSet),
    AttestationSubmitted(AttestationSubmitted),
    MigrationExecuted(MigrationExecuted),
    EndpointReadmitted(EndpointReadmitted),
}

fn try_as<T: Discriminator + AnchorDeserialize>(body: &[u8]) -> Option<T> {
    let rest = body.strip_prefix(T::DISCRIMINATOR)?;
    T::try_from_slice(rest).ok()
}

/// Decodes the data of one inner instruction to the Lifeline program; None if it is not
/// an event (or not one this SDK knows).
pub fn decode_event(ix_data: &[u8]) -> Option<LifelineEvent> {
    let body = ix_data.strip_prefix(EVENT_IX_TAG_LE)?;
    use LifelineEvent as E;
    try_as(body)
        .map(E::NetworkCreated)
        .or_else(|| try_as(body).map(E::PolicyUpdated))
        .or_else(|| try_as(body).map(E::EndpointAdded))
        .or_else(|| try_as(body).map(E::EndpointUpdated))
        .or_else(|| try_as(body).map(E::EndpointRemoved))
        .or_else(|| try_as(body).map(E::KeeperAdded))
        .or_else(|| try_as(body).map(E::KeeperRemoved))
        .or_else(|| try_as(body).map(E::AuthorityProposed))
        .or_else(|| try_as(body).map(E::AuthorityAccepted))
        .or_else(|| try_as(body).map(E::GuardianSet))
        .or_else(|| try_as(body).map(E::PausedSet))
        .or_else(|| try_as(body).map(E::AttestationSubmitted))
        .or_else(|| try_as(body).map(E::MigrationExecuted))
        .or_else(|| try_as(body).map(E::EndpointReadmitted))
}
