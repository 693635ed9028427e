//! Bodies that do not pass through the model value tree: streaming payloads (S3 objects,
//! Lambda invoke payloads). Uploads arrive as a stream of chunks and are never buffered whole.

use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};

/// A stream of body chunks.
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

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
