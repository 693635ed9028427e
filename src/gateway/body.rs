//! Request bodies that stream through to a service.
//!
//! actix's payload lives on its worker thread (it is not `Send`), while services take `Send`
//! streams. A local task forwards chunks through a small bounded channel, so a slow consumer
//! slows the client (backpressure) and at most a few chunks are held in memory.

use actix_web::web;
use bytes::Bytes;
use cloudemu_core::ByteStream;
use futures_util::StreamExt;

/// Chunks in flight between the connection and the service.
const IN_FLIGHT_CHUNKS: usize = 4;

pub fn bridge(mut payload: web::Payload) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(IN_FLIGHT_CHUNKS);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()));
            let failed = chunk.is_err();
            // The service stopped reading: stop reading the client too.
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::FromRequest;

    #[actix_web::test]
    async fn a_body_arrives_whole_and_in_order() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let (req, mut pl) = actix_web::test::TestRequest::default()
            .set_payload(data.clone())
            .to_http_parts();
        let payload = web::Payload::from_request(&req, &mut pl)
            .await
            .expect("payload");
        let body = cloudemu_core::Body::Stream(bridge(payload));
        let got = body.collect(1 << 20).await.expect("collects");
        assert_eq!(got.as_ref(), data.as_slice());
    }
}
