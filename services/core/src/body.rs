//! Bodies that do not pass through the model value tree: streaming payloads (S3 objects,
//! Lambda invoke payloads). Uploads arrive as a stream of chunks and are never buffered whole.

use crate::ServiceError;
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};

/// A stream of body chunks.
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// Input members that arrive after the body (aws-chunked trailers such as a checksum), keyed by
/// member name. The gateway fills them when the body stream ends; read them after consuming it.
#[derive(Debug, Clone, Default)]
pub struct Trailer {
    values: Arc<Mutex<Map<String, Value>>>,
    announced: Vec<String>,
}

impl Trailer {
    /// A trailer whose members the request announced up front (`x-amz-trailer`).
    pub fn announcing(members: Vec<String>) -> Self {
        Self {
            values: Arc::default(),
            announced: members,
        }
    }

    /// Members the request said will follow the body.
    pub fn announced(&self) -> &[String] {
        &self.announced
    }

    pub fn set(&self, member: &str, value: Value) {
        if let Ok(mut m) = self.values.lock() {
            m.insert(member.to_string(), value);
        }
    }

    /// The members received so far (all of them once the body has been read to its end).
    pub fn get(&self) -> Map<String, Value> {
        self.values.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// A stream failure that is the client's fault, carried to the service as an `io::Error`
/// (an aws-chunked body that is not well-formed, a payload hash that does not match).
pub fn body_error(e: ServiceError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, e)
}

/// The AWS error a body stream failed with, if it failed with one ([`body_error`]).
/// Wrapping layers (a store that wraps its input's errors) are looked through.
pub fn service_error_of(e: &std::io::Error) -> Option<ServiceError> {
    let inner = e.get_ref()?;
    if let Some(se) = inner.downcast_ref::<ServiceError>() {
        return Some(se.clone());
    }
    inner
        .downcast_ref::<std::io::Error>()
        .and_then(service_error_of)
}

pub enum Body {
    Empty,
    Bytes(Bytes),
    Stream(ByteStream),
}

impl Body {
    /// Read the whole body into memory, refusing more than `limit` bytes. For small streaming
    /// payloads only; large ones should be streamed to the object store.
    pub async fn collect(self, limit: usize) -> Result<Bytes, std::io::Error> {
        match self {
            Body::Empty => Ok(Bytes::new()),
            Body::Bytes(b) if b.len() <= limit => Ok(b),
            Body::Bytes(_) => Err(too_large(limit)),
            Body::Stream(mut s) => {
                let mut out = Vec::new();
                while let Some(chunk) = s.next().await {
                    let chunk = chunk?;
                    if out.len() + chunk.len() > limit {
                        return Err(too_large(limit));
                    }
                    out.extend_from_slice(&chunk);
                }
                Ok(Bytes::from(out))
            }
        }
    }
}

fn too_large(limit: usize) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("body exceeds {limit} bytes"),
    )
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Empty => f.write_str("Body::Empty"),
            Body::Bytes(b) => write!(f, "Body::Bytes({} bytes)", b.len()),
            Body::Stream(_) => f.write_str("Body::Stream"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn collects_within_the_limit_only() {
        let stream = futures_util::stream::iter(vec![
            Ok(Bytes::from_static(b"abc")),
            Ok(Bytes::from_static(b"def")),
        ])
        .boxed();
        assert_eq!(
            Body::Stream(stream).collect(6).await.expect("fits"),
            "abcdef"
        );
        let stream = futures_util::stream::iter(vec![Ok(Bytes::from_static(b"abcdefg"))]).boxed();
        assert!(Body::Stream(stream).collect(6).await.is_err());
        assert!(Body::Bytes(Bytes::from_static(b"1234567"))
            .collect(6)
            .await
            .is_err());
        assert_eq!(Body::Empty.collect(0).await.expect("empty"), "");
    }
}
