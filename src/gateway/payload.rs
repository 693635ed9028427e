//! How SigV4 clients frame a streaming request body, undone before the service sees it.
//!
//! `x-amz-content-sha256` says which mode a request uses: a hex SHA-256 of the payload (verified
//! here), `UNSIGNED-PAYLOAD`, or one of the `STREAMING-*` modes whose body is `aws-chunked`:
//! `<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` … a zero-size chunk, then trailer lines
//! (`x-amz-checksum-crc32:<b64>`) and an empty line. Chunk signatures are not checked, as no
//! request signature is. Trailers become input members through the model's header bindings.

use bytes::{Buf, Bytes, BytesMut};
use cloudemu_core::body::body_error;
use cloudemu_core::{ByteStream, ServiceError, Trailer};
use cloudemu_protocol::{Headers, Operation, ServiceModel};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

/// Longest chunk-header or trailer line accepted (a signature line is ~90 bytes).
const MAX_LINE: usize = 4096;

fn incomplete_body() -> ServiceError {
    ServiceError::client(
        "IncompleteBody",
        400,
        "You did not provide the number of bytes specified by the Content-Length HTTP header",
    )
}

fn malformed_chunk(what: &str) -> ServiceError {
    ServiceError::client(
        "InvalidRequest",
        400,
        format!("The aws-chunked request body is malformed: {what}"),
    )
}

/// Whether the body is aws-chunked framed: a `STREAMING-*` payload mode, or `Content-Encoding:
/// aws-chunked` with the decoded length beside it. `aws-chunked` alone is only a label a client
/// may put on a plain body.
pub fn is_aws_chunked(headers: &Headers) -> bool {
    headers
        .get("x-amz-content-sha256")
        .is_some_and(|v| v.starts_with("STREAMING-"))
        || (decoded_length(headers).is_some()
            && headers.get("content-encoding").is_some_and(|v| {
                v.split(',')
                    .any(|e| e.trim().eq_ignore_ascii_case("aws-chunked"))
            }))
}

/// `aws-chunked` is transport framing, not the object's encoding: drop it from
/// `Content-Encoding` (and drop the header when nothing else is left), as S3 does. The other
/// codings stay as the client wrote them (`deflate, gzip` reads back with its space).
pub fn strip_aws_chunked(headers: &mut Headers) {
    for (k, v) in headers.0.iter_mut() {
        if k.eq_ignore_ascii_case("content-encoding") {
            *v = v
                .split(',')
                .filter(|e| !e.trim().eq_ignore_ascii_case("aws-chunked") && !e.trim().is_empty())
                .collect::<Vec<_>>()
                .join(",")
                .trim()
                .to_string();
        }
    }
    headers
        .0
        .retain(|(k, v)| !(k.eq_ignore_ascii_case("content-encoding") && v.is_empty()));
}

/// The decoded length the client declared (`x-amz-decoded-content-length`): this is the
/// object's size, where `Content-Length` counts the framing too.
pub fn decoded_length(headers: &Headers) -> Option<u64> {
    headers
        .get("x-amz-decoded-content-length")
        .and_then(|v| v.trim().parse().ok())
}

/// Wrap a raw body stream: decode aws-chunked framing (filling `trailer` through
/// `trailer_members`, header name → member name) or verify a hex payload hash.
pub fn decode(
    headers: &Headers,
    body: ByteStream,
    trailer: Trailer,
    trailer_members: Vec<(String, String)>,
) -> ByteStream {
    if is_aws_chunked(headers) {
        let decoder = ChunkDecoder {
            inner: body,
            buf: BytesMut::new(),
            state: State::Header,
            decoded: 0,
            expected: decoded_length(headers),
            trailer,
            trailer_members,
        };
        return futures_util::stream::unfold(decoder, |mut d| async move {
            d.next_chunk().await.map(|item| (item, d))
        })
        .boxed();
    }
    match headers.get("x-amz-content-sha256") {
        Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
            verify_sha256(body, h.to_ascii_lowercase())
        }
        _ => body,
    }
}

/// Pass the body through, failing at its end if its SHA-256 is not the declared one.
fn verify_sha256(body: ByteStream, declared: String) -> ByteStream {
    let state = (body, Some(Sha256::new()), declared);
    futures_util::stream::unfold(state, |(mut body, hasher, declared)| async move {
        let mut hasher = hasher?;
        match body.next().await {
            Some(Ok(chunk)) => {
                hasher.update(&chunk);
                Some((Ok(chunk), (body, Some(hasher), declared)))
            }
            Some(Err(e)) => Some((Err(e), (body, None, declared))),
            None => {
                let computed = hex(&hasher.finalize());
                if computed == declared {
                    None
                } else {
                    let e = ServiceError::client(
                        "XAmzContentSHA256Mismatch",
                        400,
                        "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    )
                    .with_field("ClientComputedContentSHA256", declared.clone())
                    .with_field("S3ComputedContentSHA256", computed);
                    Some((Err(body_error(e)), (body, None, declared)))
                }
            }
        }
    })
    .boxed()
}

/// Header-bound input members of `op` as (header name, member name): where trailers go.
pub fn header_members(model: &ServiceModel, op: &Operation) -> Vec<(String, String)> {
    let Some(shape) = op.input.as_ref().and_then(|r| model.shape(&r.shape)) else {
        return Vec::new();
    };
    shape
        .members
        .iter()
        .filter(|(_, m)| m.location.as_deref() == Some("header"))
        .map(|(name, m)| {
            (
                m.location_name.clone().unwrap_or_else(|| name.clone()),
                name.clone(),
            )
        })
        .collect()
}

/// The trailer a request announces in `x-amz-trailer`, as member names.
pub fn announced_trailer(headers: &Headers, members: &[(String, String)]) -> Trailer {
    let announced = headers
        .get("x-amz-trailer")
        .unwrap_or("")
        .split(',')
        .filter_map(|name| {
            members
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(name.trim()))
                .map(|(_, m)| m.clone())
        })
        .collect();
    Trailer::announcing(announced)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

enum State {
    /// Expecting `<hex size>[;ext]\r\n`.
    Header,
    /// Inside a chunk's data, this many bytes left.
    Data(u64),
    /// After a chunk's data, expecting `\r\n`.
    DataEnd,
    /// After the zero-size chunk: trailer lines until an empty one.
    Trailers,
    Done,
}

struct ChunkDecoder {
    inner: ByteStream,
    buf: BytesMut,
    state: State,
    decoded: u64,
    expected: Option<u64>,
    trailer: Trailer,
    trailer_members: Vec<(String, String)>,
}

impl ChunkDecoder {
    /// Read more raw bytes; `false` at the end of the raw body.
    async fn fill(&mut self) -> Result<bool, std::io::Error> {
        match self.inner.next().await {
            Some(Ok(b)) => {
                self.buf.extend_from_slice(&b);
                Ok(true)
            }
            Some(Err(e)) => Err(e),
            None => Ok(false),
        }
    }

    /// A `\r\n`-terminated line, without its terminator; `None` at the end of the raw body.
    async fn line(&mut self) -> Result<Option<Bytes>, std::io::Error> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf.split_to(pos).freeze();
                self.buf.advance(2);
                return Ok(Some(line));
            }
            if self.buf.len() > MAX_LINE {
                return Err(body_error(malformed_chunk("chunk header line too long")));
            }
            if !self.fill().await? {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                // A last line without its terminator.
                return Ok(Some(self.buf.split().freeze()));
            }
        }
    }

    async fn next_chunk(&mut self) -> Option<Result<Bytes, std::io::Error>> {
        match self.step().await {
            Ok(Some(b)) => Some(Ok(b)),
            Ok(None) => None,
            Err(e) => {
                self.state = State::Done;
                Some(Err(e))
            }
        }
    }

    async fn step(&mut self) -> Result<Option<Bytes>, std::io::Error> {
        loop {
            match self.state {
                State::Done => return Ok(None),
                State::Header => {
                    let Some(line) = self.line().await? else {
                        return Err(body_error(incomplete_body()));
                    };
                    let text = std::str::from_utf8(&line)
                        .map_err(|_| body_error(malformed_chunk("chunk header is not text")))?;
                    let size_text = text.split(';').next().unwrap_or("").trim();
                    let size = u64::from_str_radix(size_text, 16).map_err(|_| {
                        body_error(malformed_chunk(&format!("bad chunk size {size_text:?}")))
                    })?;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    if self.buf.is_empty() && !self.fill().await? {
                        return Err(body_error(incomplete_body()));
                    }
                    let take = usize::try_from(left)
                        .unwrap_or(usize::MAX)
                        .min(self.buf.len());
                    let data = self.buf.split_to(take).freeze();
                    let left = left - take as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                    self.decoded += take as u64;
                    if self.expected.is_some_and(|e| self.decoded > e) {
                        return Err(body_error(incomplete_body()));
                    }
                    return Ok(Some(data));
                }
                State::DataEnd => {
                    while self.buf.len() < 2 {
                        if !self.fill().await? {
                            return Err(body_error(incomplete_body()));
                        }
                    }
                    if &self.buf[..2] != b"\r\n" {
                        return Err(body_error(malformed_chunk(
                            "chunk data is longer than its size",
                        )));
                    }
                    self.buf.advance(2);
                    self.state = State::Header;
                }
                State::Trailers => {
                    let line = self.line().await?;
                    let Some(line) = line.filter(|l| !l.is_empty()) else {
                        self.state = State::Done;
                        if self.expected.is_some_and(|e| e != self.decoded) {
                            return Err(body_error(incomplete_body()));
                        }
                        return Ok(None);
                    };
                    let text = String::from_utf8_lossy(&line);
                    let Some((name, value)) = text.split_once(':') else {
                        return Err(body_error(malformed_chunk("trailer line without a colon")));
                    };
                    let name = name.trim();
                    if let Some((_, member)) = self
                        .trailer_members
                        .iter()
                        .find(|(h, _)| h.eq_ignore_ascii_case(name))
                    {
                        self.trailer
                            .set(member, serde_json::Value::String(value.trim().to_string()));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        Headers(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    async fn run(h: &Headers, parts: Vec<&'static [u8]>) -> (Result<Vec<u8>, String>, Trailer) {
        let body = futures_util::stream::iter(
            parts
                .into_iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
        .boxed();
        let trailer = Trailer::default();
        let members = vec![(
            "x-amz-checksum-crc32".to_string(),
            "ChecksumCRC32".to_string(),
        )];
        let mut s = decode(h, body, trailer.clone(), members);
        let mut out = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(b) => out.extend_from_slice(&b),
                Err(e) => {
                    let code = cloudemu_core::body::service_error_of(&e)
                        .map(|e| e.code)
                        .unwrap_or_default();
                    return (Err(code), trailer);
                }
            }
        }
        (Ok(out), trailer)
    }

    #[tokio::test]
    async fn decodes_unsigned_trailer_bodies_split_anywhere() {
        let h = headers(&[
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("x-amz-decoded-content-length", "11"),
        ]);
        let (body, trailer) = run(
            &h,
            vec![
                b"5\r\nhel",
                b"lo\r\n6\r",
                b"\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n",
            ],
        )
        .await;
        assert_eq!(body.expect("decodes"), b"hello world");
        assert_eq!(trailer.get()["ChecksumCRC32"], "DUoRhQ==");
    }

    #[tokio::test]
    async fn decodes_signed_chunks() {
        let h = headers(&[
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
            ("x-amz-decoded-content-length", "3"),
        ]);
        let (body, _) = run(
            &h,
            vec![b"3;chunk-signature=abcd\r\nabc\r\n0;chunk-signature=ef01\r\n\r\n"],
        )
        .await;
        assert_eq!(body.expect("decodes"), b"abc");
    }

    #[tokio::test]
    async fn truncated_or_malformed_bodies_fail() {
        let h = headers(&[
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("x-amz-decoded-content-length", "5"),
        ]);
        assert_eq!(
            run(&h, vec![b"5\r\nhel"]).await.0,
            Err("IncompleteBody".into())
        );
        assert_eq!(
            run(&h, vec![b"zz\r\nhello\r\n0\r\n\r\n"]).await.0,
            Err("InvalidRequest".into())
        );
        assert_eq!(
            run(&h, vec![b"3\r\nhel\r\n0\r\n\r\n"]).await.0,
            Err("IncompleteBody".into())
        );
    }

    #[tokio::test]
    async fn verifies_hex_payload_hashes() {
        // SHA-256 of "abc".
        let good = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let h = headers(&[("x-amz-content-sha256", good)]);
        assert_eq!(run(&h, vec![b"abc"]).await.0.expect("matches"), b"abc");
        assert_eq!(
            run(&h, vec![b"abd"]).await.0,
            Err("XAmzContentSHA256Mismatch".into())
        );
    }

    #[test]
    fn aws_chunked_is_not_a_content_encoding() {
        let mut h = headers(&[("content-encoding", "aws-chunked")]);
        strip_aws_chunked(&mut h);
        assert_eq!(h.get("content-encoding"), None);
        let mut h = headers(&[("content-encoding", "aws-chunked,gzip")]);
        strip_aws_chunked(&mut h);
        assert_eq!(h.get("content-encoding"), Some("gzip"));
        let mut h = headers(&[("content-encoding", "deflate, gzip,aws-chunked")]);
        strip_aws_chunked(&mut h);
        assert_eq!(h.get("content-encoding"), Some("deflate, gzip"));
    }
}
