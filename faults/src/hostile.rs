//! What a hostile HTTP endpoint answers: bodies too large to hold, bodies that never end or
//! arrive a byte a second, malformed JSON, redirect loops. All streamed: the endpoint
//! never holds what it sends, so it can send without end.
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, Response, StatusCode};
use futures_util::stream;

use crate::fault::HostileBody;

/// The size of each chunk a hostile body is streamed in.
const CHUNK: usize = 64 << 10;

/// The answer `hostile` gives to any request.
pub fn response(hostile: HostileBody) -> Response<Body> {
    let json = |body: Body| {
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .expect("valid response")
    };
    match hostile {
        HostileBody::Giant(bytes) => json(Body::from_stream(giant(bytes))),
        HostileBody::Endless => json(Body::from_stream(stream::repeat_with(|| {
            Ok::<_, std::io::Error>(Bytes::from(vec![b' '; CHUNK]))
        }))),
        HostileBody::Trickle => json(Body::from_stream(stream::unfold(0u64, |n| async move {
            if n > 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Some((Ok::<_, std::io::Error>(Bytes::from_static(b"[")), n + 1))
        }))),
        HostileBody::Garbage => json(Body::from(garbage())),
        HostileBody::Redirect => Response::builder()
            .status(StatusCode::TEMPORARY_REDIRECT)
            .header(header::LOCATION, "/")
            .body(Body::empty())
            .expect("valid response"),
    }
}

/// A JSON-RPC answer of `bytes` bytes: a result string padded to size.
fn giant(bytes: u64) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let head = b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"";
    let tail = b"\"}";
    let pad = bytes.saturating_sub((head.len() + tail.len()) as u64);
    let chunks = pad / CHUNK as u64;
    let rest = (pad % CHUNK as u64) as usize;
    stream::iter(
        std::iter::once(Bytes::from_static(head))
            .chain((0..chunks).map(|_| Bytes::from(vec![b'a'; CHUNK])))
            .chain(std::iter::once(Bytes::from(vec![b'a'; rest])))
            .chain(std::iter::once(Bytes::from_static(tail)))
            .map(Ok),
    )
}

/// Malformed JSON that starts like an answer.
pub fn garbage() -> &'static [u8] {
    b"{\"jsonrpc\":\"2.0\",\"result\":{\"context\":{\"slot\":[[[[\"\x00\xff"
}
