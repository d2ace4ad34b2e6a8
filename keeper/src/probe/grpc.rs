//! The `grpc` prober's connection: a Yellowstone Geyser `Subscribe` stream with a slots
//! filter, kept open between probes like a PubSub stream (stream.rs). A probe's check is
//! a ping on the open stream (`SubscribeRequest { ping }`), answered by a pong: its round
//! trip is the probe's latency, a stream that ends on it is an error. The slot is the last
//! one the stream announced, so a stream that stays open but stops announcing slots is
//! judged by stall and lag like a frozen RPC node.
use std::collections::HashMap;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{ClientTlsConfig, Endpoint};
use yellowstone_grpc_proto::geyser::geyser_client::GeyserClient;
use yellowstone_grpc_proto::geyser::subscribe_update::UpdateOneof;
use yellowstone_grpc_proto::geyser::{
    CommitmentLevel, SubscribeRequest, SubscribeRequestFilterSlots, SubscribeRequestPing,
};

use super::stream::{Session, StreamOutcome};

fn slots_request() -> SubscribeRequest {
    SubscribeRequest {
        slots: HashMap::from([(
            "lifeline".to_string(),
            SubscribeRequestFilterSlots {
                filter_by_commitment: Some(false),
                interslot_updates: Some(false),
            },
        )]),
        commitment: Some(CommitmentLevel::Processed as i32),
        ..SubscribeRequest::default()
    }
}

fn ping(id: i32) -> SubscribeRequest {
    SubscribeRequest {
        ping: Some(SubscribeRequestPing { id }),
        ..SubscribeRequest::default()
    }
}

/// How a failed connection attempt reads.
fn connect_failure(e: &tonic::transport::Error) -> StreamOutcome {
    let text = format!("{e:?}").to_lowercase();
    if text.contains("refused") || text.contains("dns") || text.contains("unreachable") {
        StreamOutcome::Unreachable
    } else {
        StreamOutcome::Failed
    }
}

/// One Geyser connection: connect, subscribe to slots, record announcements and the
/// probes' pings until it ends.
pub(super) async fn subscribe(session: &Session) -> StreamOutcome {
    let started = Instant::now();
    let endpoint = match Endpoint::from_shared(session.url.clone()) {
        Ok(e) => e.connect_timeout(session.connect_timeout),
        Err(_) => return StreamOutcome::Unreachable,
    };
    let endpoint = if session.url.starts_with("https://") {
        match endpoint.tls_config(ClientTlsConfig::new().with_webpki_roots()) {
            Ok(e) => e,
            Err(_) => return StreamOutcome::Failed,
        }
    } else {
        endpoint
    };
    let channel = match tokio::time::timeout(session.connect_timeout, endpoint.connect()).await {
        Err(_) => return StreamOutcome::TimedOut,
        Ok(Err(e)) => return connect_failure(&e),
        Ok(Ok(c)) => c,
    };
    let (requests, outgoing) = mpsc::channel(8);
    if requests.send(slots_request()).await.is_err() {
        return StreamOutcome::Failed;
    }
    // A slot update is a few dozen bytes; tonic's own limit is 4 MiB.
    let mut client = GeyserClient::new(channel).max_decoding_message_size(super::MAX_ANSWER_BYTES);
    let opened = client.subscribe(ReceiverStream::new(outgoing));
    let mut updates = match tokio::time::timeout(session.connect_timeout, opened).await {
        Err(_) => return StreamOutcome::TimedOut,
        Ok(Err(_)) => return StreamOutcome::Failed,
        Ok(Ok(r)) => r.into_inner(),
    };
    let mut pending: Option<(i32, Instant)> = None;
    let mut next_id = 1;
    loop {
        let update = tokio::select! {
            u = updates.message() => u,
            _ = session.check.notified(), if pending.is_none() => {
                if requests.send(ping(next_id)).await.is_err() {
                    return StreamOutcome::Failed;
                }
                pending = Some((next_id, Instant::now()));
                next_id = next_id.wrapping_add(1);
                continue;
            }
        };
        let update = match update {
            Ok(Some(u)) => u,
            // the stream ended (cleanly or with a status): a probe that asked sees it fail
            _ => return StreamOutcome::Failed,
        };
        match update.update_oneof {
            Some(UpdateOneof::Slot(s)) => session.notified(s.slot, started),
            Some(UpdateOneof::Pong(p)) => {
                if let Some((_, sent)) = pending.filter(|(id, _)| *id == p.id) {
                    pending = None;
                    session.checked(sent, false);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use yellowstone_grpc_proto::geyser::SubscribeUpdate;

    proptest::proptest! {
        /// Any bytes a Geyser endpoint sends as a message decode into an update or an error
        /// — never a panic (tonic refuses more than the keeper's 64 KiB before this).
        #[test]
        fn any_protobuf_bytes_decode_or_fail_without_a_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
            let _ = SubscribeUpdate::decode(&bytes[..]);
        }
    }
}
