//! Taking in a request body: streamed to the object store while its MD5 and flexible checksum
//! are computed, then checked against what the client declared (Content-Length, Content-MD5,
//! an `x-amz-checksum-*` header or trailer). A refused body is freed before the error returns.

use crate::checksum::{self, Algorithm, Hasher};
use crate::errors::S3Error;
use crate::S3;
use bytes::{Bytes, BytesMut};
use cloudemu_core::body::body_error;
use cloudemu_core::{Body, ServiceError, Trailer};
use cloudemu_storage::objects::StoredObject;
use cloudemu_storage::s3::{inline_stored, INLINE_MAX};
use cloudemu_storage::StorageError;
use futures_util::StreamExt;
use serde_json::{Map, Value};

/// What the client said about a body.
#[derive(Debug, Default)]
pub struct Declared {
    pub content_length: Option<i64>,
    pub content_md5: Option<String>,
    /// `x-amz-sdk-checksum-algorithm` / `x-amz-checksum-algorithm`.
    pub algorithm: Option<String>,
    /// Checksum members given as headers (member name → value).
    pub checksums: Map<String, Value>,
    /// The algorithm to compute when the client names none.
    pub default_algorithm: Option<Algorithm>,
    /// Largest body accepted.
    pub max: u64,
    /// May a small body be kept inline with its object row (objects yes, parts no: those
    /// stay files for the assembly)?
    pub inline: bool,
}

/// A stored body and its checksum.
pub struct Ingested {
    pub stored: StoredObject,
    pub checksum: Option<(Algorithm, String)>,
    /// The body, when it is small enough to be stored with its row (`stored.id` is then an
    /// inline id and no file was written).
    pub inline: Option<Bytes>,
}

pub(crate) fn member_of(a: Algorithm) -> String {
    format!("Checksum{}", a.name())
}

fn declared_in(map: &Map<String, Value>) -> Vec<(Algorithm, String)> {
    Algorithm::ALL
        .into_iter()
        .filter_map(|a| {
            map.get(&member_of(a))
                .and_then(Value::as_str)
                .map(|v| (a, v.to_string()))
        })
        .collect()
}

/// Refuse an upload whose length is not known before its body, as S3 does, so nothing of it
/// is read or stored: chunked transfer coding (501 even with a length), or no length at all
/// (an aws-chunked body without `x-amz-decoded-content-length` reaches here with none).
pub(crate) fn require_length(
    chunked_transfer: bool,
    content_length: Option<i64>,
) -> Result<(), S3Error> {
    if chunked_transfer {
        return Err(S3Error::ChunkedTransferNotImplemented);
    }
    if content_length.is_none() {
        return Err(S3Error::MissingContentLength);
    }
    Ok(())
}

impl S3 {
    pub(crate) async fn ingest(
        &self,
        body: Body,
        trailer: &Trailer,
        d: Declared,
    ) -> Result<Ingested, S3Error> {
        if let Some(len) = d.content_length {
            if len as u64 > d.max {
                return Err(S3Error::EntityTooLarge {
                    proposed: len as u64,
                    max: d.max,
                });
            }
        }
        let content_md5 = d
            .content_md5
            .as_deref()
            .map(checksum::parse_content_md5)
            .transpose()?;
        let in_headers = declared_in(&d.checksums);
        if in_headers.len() > 1 {
            return Err(S3Error::InvalidRequest(
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
                    .into(),
            ));
        }
        for (a, v) in &in_headers {
            checksum::check_value(*a, v)?;
        }
        let named = match d.algorithm.as_deref() {
            Some(name) => Some(Algorithm::parse(name).ok_or_else(|| {
                S3Error::InvalidRequest(
                    "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"
                        .into(),
                )
            })?),
            None => None,
        };
        // A trailer announced without naming the algorithm elsewhere still names one.
        let in_trailer = trailer
            .announced()
            .iter()
            .find_map(|m| m.strip_prefix("Checksum").and_then(Algorithm::parse));
        let algorithm = in_headers
            .first()
            .map(|(a, _)| *a)
            .or(named)
            .or(in_trailer)
            .or(d.default_algorithm);

        let mut hasher = algorithm.map(Hasher::new);
        let mut received = 0u64;
        let max = d.max;
        let stream = match body {
            Body::Stream(s) => s,
            Body::Bytes(b) => futures_util::stream::iter([Ok(b)]).boxed(),
            Body::Empty => futures_util::stream::empty().boxed(),
        };
        let counted = stream.map(|chunk| {
            let chunk = chunk?;
            received += chunk.len() as u64;
            if received > max {
                return Err(body_error(ServiceError::from(S3Error::EntityTooLarge {
                    proposed: received,
                    max,
                })));
            }
            if let Some(h) = hasher.as_mut() {
                h.update(&chunk);
            }
            Ok(chunk)
        });
        let small = d.inline && d.content_length.is_none_or(|l| l as u64 <= INLINE_MAX);
        let (stored, inline) = if small {
            self.take_small(counted).await?
        } else {
            let stored = self
                .objects
                .put_stream_md5(counted)
                .await
                .map_err(S3Error::from_store)?;
            (stored, None)
        };
        let checked = (|| {
            if let Some(len) = d.content_length {
                if stored.size != len as u64 {
                    return Err(S3Error::IncompleteBody);
                }
            }
            if content_md5.is_some_and(|md5| md5 != stored.md5) {
                return Err(S3Error::BadContentMd5);
            }
            let computed = hasher.map(Hasher::finish);
            let mut all = d.checksums.clone();
            all.extend(trailer.get());
            for (a, v) in declared_in(&all) {
                if Some(a) != algorithm {
                    continue;
                }
                checksum::check_value(a, &v)?;
                if computed.as_deref() != Some(v.trim()) {
                    return Err(S3Error::BadChecksum(a.name()));
                }
            }
            Ok(algorithm.zip(computed))
        })();
        match checked {
            Ok(checksum) => Ok(Ingested {
                stored,
                checksum,
                inline,
            }),
            Err(e) => {
                self.free_body(&stored.id).await;
                Err(e)
            }
        }
    }
}

impl S3 {
    /// Read a body that should be small into memory, up to [`INLINE_MAX`] bytes; one that
    /// turns out larger (no length was declared) goes on, with what was read, to a file.
    async fn take_small<S>(&self, mut body: S) -> Result<(StoredObject, Option<Bytes>), S3Error>
    where
        S: futures_util::Stream<Item = std::io::Result<Bytes>> + Unpin,
    {
        // Wrapped as the object store wraps its input's errors, so they map the same way.
        let failed =
            |e: std::io::Error| S3Error::from_store(StorageError::Io(std::io::Error::other(e)));
        let mut buf = BytesMut::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(failed)?;
            if (buf.len() + chunk.len()) as u64 > INLINE_MAX {
                let head = futures_util::stream::iter([Ok(buf.freeze()), Ok(chunk)]);
                let stored = self
                    .objects
                    .put_stream_md5(head.chain(body))
                    .await
                    .map_err(S3Error::from_store)?;
                return Ok((stored, None));
            }
            buf.extend_from_slice(&chunk);
        }
        let data = buf.freeze();
        Ok((inline_stored(&data), Some(data)))
    }
}
