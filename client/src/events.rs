//! Decoding of Lifeline events. Events are emitted by self-CPI: each is an inner
//! instruction to the Lifeline program whose data is
//! `EVENT_IX_TAG_LE ‖ event discriminator ‖ borsh(event)`.
use anchor_lang::event::EVENT_IX_TAG_LE;
use anchor_lang::{AnchorDeserialize, Discriminator};
use lifeline::events::*;

/// The event list, once: the enum, its decoder and its names all come from it.
macro_rules! events {
    ($($name:ident),+ $(,)?) => {
        /// Every Lifeline event, decoded.
        #[derive(Debug, Clone)]
        pub enum LifelineEvent {
            $($name($name)),+
        }

        impl LifelineEvent {
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$name(_) => stringify!($name)),+
                }
            }
        }

        /// Decodes the data of one inner instruction to the Lifeline program; None if it is
        /// not an event (or not one this SDK knows).
        pub fn decode_event(ix_data: &[u8]) -> Option<LifelineEvent> {
            let body = ix_data.strip_prefix(EVENT_IX_TAG_LE)?;
            $(if let Some(e) = try_as::<$name>(body) {
                return Some(LifelineEvent::$name(e));
            })+
            None
        }
    };
}

events!(
    NetworkCreated,
    NetworkClosed,
    PolicyUpdated,
    EndpointAdded,
    EndpointUpdated,
    EndpointRemoved,
    KeeperAdded,
    KeeperUpdated,
    KeeperRemoved,
    AuthorityProposed,
    AuthorityAccepted,
    GuardianSet,
    PausedSet,
    AttestationSubmitted,
    MigrationExecuted,
    EndpointReadmitted,
);

fn try_as<T: Discriminator + AnchorDeserialize>(body: &[u8]) -> Option<T> {
    let rest = body.strip_prefix(T::DISCRIMINATOR)?;
    T::try_from_slice(rest).ok()
}

/// Every Lifeline event in a transaction fetched with `getTransaction` (any binary or
/// JSON encoding): the inner instructions that call the Lifeline program with event data.
pub fn from_transaction(
    tx: &solana_transaction_status_client_types::EncodedConfirmedTransactionWithStatusMeta,
) -> Vec<LifelineEvent> {
    use solana_transaction_status_client_types::option_serializer::OptionSerializer;
    use solana_transaction_status_client_types::{EncodedTransaction, UiInstruction, UiMessage};
    let keys: Vec<String> = match &tx.transaction.transaction {
        EncodedTransaction::Json(ui) => match &ui.message {
            UiMessage::Raw(m) => m.account_keys.clone(),
            UiMessage::Parsed(m) => m.account_keys.iter().map(|k| k.pubkey.clone()).collect(),
        },
        other => other
            .decode()
            .map(|t| {
                t.message
                    .static_account_keys()
                    .iter()
                    .map(|k| k.to_string())
                    .collect()
            })
            .unwrap_or_default(),
    };
    let program = lifeline::ID.to_string();
    let Some(meta) = &tx.transaction.meta else {
        return Vec::new();
    };
    let OptionSerializer::Some(inner) = &meta.inner_instructions else {
        return Vec::new();
    };
    inner
        .iter()
        .flat_map(|i| i.instructions.iter())
        .filter_map(|ix| match ix {
            UiInstruction::Compiled(c)
                if keys.get(c.program_id_index as usize) == Some(&program) =>
            {
                bs58::decode(&c.data)
                    .into_vec()
                    .ok()
                    .and_then(|d| decode_event(&d))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;
    use anchor_lang::Event;
    use lifeline::state::PolicyParams;

    fn wire<E: Event>(e: &E) -> Vec<u8> {
        let mut d = EVENT_IX_TAG_LE.to_vec();
        d.extend(e.data());
        d
    }

    #[test]
    fn every_event_round_trips() {
        let h = EventHeader {
            network: Pubkey::new_unique(),
            slot: 7,
            epoch: 3,
        };
        let k = Pubkey::new_unique();
        let s = |v: &str| v.to_string();
        let cases: Vec<(Vec<u8>, LifelineEvent)> = vec![
            {
                let e = NetworkCreated {
                    header: h,
                    creator: k,
                    name: s("n"),
                    guardian: k,
                    policy: PolicyParams::default(),
                };
                (wire(&e), LifelineEvent::NetworkCreated(e))
            },
            {
                let e = PolicyUpdated {
                    header: h,
                    policy: PolicyParams::default(),
                };
                (wire(&e), LifelineEvent::PolicyUpdated(e))
            },
            {
                let e = EndpointAdded {
                    header: h,
                    endpoint_id: 1,
                    group: 2,
                    kind: 0,
                    role: 1,
                    priority: 3,
                    url: s("https://a"),
                    region: s("eu"),
                    provider: s("p"),
                };
                (wire(&e), LifelineEvent::EndpointAdded(e))
            },
            {
                let e = EndpointUpdated {
                    header: h,
                    endpoint_id: 1,
                    role: 2,
                    priority: 4,
                    url: s("https://b"),
                    region: s("us"),
                    provider: s("q"),
                };
                (wire(&e), LifelineEvent::EndpointUpdated(e))
            },
            {
                let e = EndpointRemoved {
                    header: h,
                    endpoint_id: 9,
                    group: 1,
                };
                (wire(&e), LifelineEvent::EndpointRemoved(e))
            },
            {
                let e = KeeperAdded {
                    header: h,
                    keeper: k,
                    region: s("eu"),
                    provider: s("p"),
                    keeper_count: 4,
                };
                (wire(&e), LifelineEvent::KeeperAdded(e))
            },
            {
                let e = KeeperRemoved {
                    header: h,
                    keeper: k,
                    keeper_count: 3,
                };
                (wire(&e), LifelineEvent::KeeperRemoved(e))
            },
            {
                let e = AuthorityProposed {
                    header: h,
                    authority: k,
                    pending_authority: k,
                };
                (wire(&e), LifelineEvent::AuthorityProposed(e))
            },
            {
                let e = AuthorityAccepted {
                    header: h,
                    previous_authority: k,
                    authority: k,
                };
                (wire(&e), LifelineEvent::AuthorityAccepted(e))
            },
            {
                let e = GuardianSet {
                    header: h,
                    guardian: k,
                };
                (wire(&e), LifelineEvent::GuardianSet(e))
            },
            {
                let e = PausedSet {
                    header: h,
                    paused: true,
                    by: k,
                };
                (wire(&e), LifelineEvent::PausedSet(e))
            },
            {
                let e = AttestationSubmitted {
                    header: h,
                    keeper: k,
                    seq: 5,
                    reference_slot: 6,
                    healthy: 1,
                    degraded: 2,
                    down: 3,
                };
                (wire(&e), LifelineEvent::AttestationSubmitted(e))
            },
            {
                let e = MigrationExecuted {
                    header: h,
                    old_epoch: 2,
                    group: 0,
                    from_id: Some(1),
                    to_id: 2,
                    rule: 2,
                    cause: 1,
                    voters: vec![k, k],
                    median_latency_ms: 40,
                    median_slot_lag: 900,
                    median_error_bps: 0,
                    quarantine_until_slot: 99,
                    triggered_by: k,
                };
                (wire(&e), LifelineEvent::MigrationExecuted(e))
            },
            {
                let e = EndpointReadmitted {
                    header: h,
                    endpoint_id: 1,
                    group: 0,
                    voters: vec![k],
                    triggered_by: k,
                };
                (wire(&e), LifelineEvent::EndpointReadmitted(e))
            },
            {
                let e = KeeperUpdated {
                    header: h,
                    keeper: k,
                    region: s("ap"),
                    provider: s("r"),
                };
                (wire(&e), LifelineEvent::KeeperUpdated(e))
            },
            {
                let e = NetworkClosed {
                    header: h,
                    authority: k,
                };
                (wire(&e), LifelineEvent::NetworkClosed(e))
            },
        ];
        let mut names: Vec<&str> = cases.iter().map(|(_, e)| e.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 16, "one case per event");
        for (data, expected) in cases {
            let decoded =
                decode_event(&data).unwrap_or_else(|| panic!("{expected:?} did not decode"));
            assert_eq!(format!("{decoded:?}"), format!("{expected:?}"));
        }
    }

    #[test]
    fn non_events_are_not_decoded() {
        assert!(decode_event(&[]).is_none());
        assert!(decode_event(&[1, 2, 3, 4, 5, 6, 7, 8, 9]).is_none());
        let mut unknown = EVENT_IX_TAG_LE.to_vec();
        unknown.extend([0u8; 16]);
        assert!(decode_event(&unknown).is_none());
    }
}
