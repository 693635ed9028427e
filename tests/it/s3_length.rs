//! Uploads must declare their length before the body, as S3 requires: chunked transfer coding
//! is refused (501 NotImplemented, as AWS answers it), a missing length is refused (411
//! MissingContentLength), and neither leaves anything stored. Empty bodies with
//! `Content-Length: 0` keep working.

use crate::harness::TestServer;
use crate::s3::{bucket, client};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Send `PUT {target}` with `headers` and the raw `body` bytes over a fresh connection (so no
/// client fixes the framing up); the response's status and text.
async fn raw_put(server: &TestServer, target: &str, headers: &str, body: &[u8]) -> (u16, String) {
    let url = server.url(target);
    let authority = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .expect("authority")
        .to_string();
    let mut conn = tokio::net::TcpStream::connect(&authority)
        .await
        .expect("connect");
    let mut req = format!(
        "PUT {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, \
         SignedHeaders=host, Signature=0\r\n{headers}\r\n"
    )
    .into_bytes();
    req.extend_from_slice(body);
    // The server may answer and close before reading a refused body: what it said counts.
    let _ = conn.write_all(&req).await;
    let mut resp = Vec::new();
    let _ = conn.read_to_end(&mut resp).await;
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

/// `body` in HTTP chunked transfer coding.
fn te_chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for c in body.chunks(7000) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

async fn exists(s3: &Client, b: &str, k: &str) -> bool {
    match s3.head_object().bucket(b).key(k).send().await {
        Ok(_) => true,
        Err(e) => {
            assert_eq!(
                e.raw_response().map(|r| r.status().as_u16()),
                Some(404),
                "{e:?}"
            );
            false
        }
    }
}

fn assert_not_implemented(status: u16, text: &str) {
    assert_eq!(status, 501, "{text}");
    assert!(text.contains("<Code>NotImplemented</Code>"), "{text}");
    assert!(
        text.contains(
            "<Message>A header you provided implies functionality that is not implemented</Message>"
        ),
        "{text}"
    );
    assert!(
        text.contains("<Header>Transfer-Encoding</Header>"),
        "{text}"
    );
}

fn assert_missing_length(status: u16, text: &str) {
    assert_eq!(status, 411, "{text}");
    assert!(text.contains("<Code>MissingContentLength</Code>"), "{text}");
    assert!(
        text.contains("<Message>You must provide the Content-Length HTTP header.</Message>"),
        "{text}"
    );
}

#[tokio::test]
async fn put_object_needs_a_declared_length() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;

    // Chunked transfer coding, small and past the inline size: refused, nothing stored.
    for len in [5000usize, 200 * 1024] {
        let key = format!("te-{len}");
        let body = vec![b'x'; len];
        let (status, text) = raw_put(
            &server,
            &format!("/{b}/{key}"),
            "x-amz-content-sha256: UNSIGNED-PAYLOAD\r\nTransfer-Encoding: chunked\r\n",
            &te_chunked(&body),
        )
        .await;
        assert_not_implemented(status, &text);
        assert!(!exists(&s3, &b, &key).await, "{key} was stored");
    }

    // Chunked transfer coding with a Content-Length too: an ambiguous framing the HTTP server
    // refuses before S3 sees it (AWS says 501 here); either way nothing is stored.
    let (status, text) = raw_put(
        &server,
        &format!("/{b}/te-and-cl"),
        "Content-Length: 10\r\nTransfer-Encoding: chunked\r\n",
        &te_chunked(b"abc"),
    )
    .await;
    assert_eq!(status, 400, "{text}");
    assert!(!exists(&s3, &b, "te-and-cl").await);

    // No length and no body framing at all.
    let (status, text) = raw_put(&server, &format!("/{b}/bare"), "", b"").await;
    assert_missing_length(status, &text);
    assert!(!exists(&s3, &b, "bare").await);

    // aws-chunked without x-amz-decoded-content-length: the object's size is unknown, so it
    // is refused before any of the body is read.
    let framed = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
    let (status, text) = raw_put(
        &server,
        &format!("/{b}/framed"),
        &format!(
            "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n\
             Content-Encoding: aws-chunked\r\nx-amz-trailer: x-amz-checksum-crc32\r\n\
             Content-Length: {}\r\n",
            framed.len()
        ),
        framed,
    )
    .await;
    assert_missing_length(status, &text);
    assert!(!exists(&s3, &b, "framed").await);

    // The same body with its decoded length is taken.
    let (status, text) = raw_put(
        &server,
        &format!("/{b}/framed"),
        &format!(
            "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n\
             Content-Encoding: aws-chunked\r\nx-amz-trailer: x-amz-checksum-crc32\r\n\
             x-amz-decoded-content-length: 5\r\nContent-Length: {}\r\n",
            framed.len()
        ),
        framed,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let got = s3.get_object().bucket(&b).key("framed").send().await;
    let got = got.expect("GET").body.collect().await.expect("body");
    assert_eq!(got.into_bytes().as_ref(), b"hello");

    // Empty objects: raw `Content-Length: 0` and the SDK's empty body.
    let (status, text) = raw_put(
        &server,
        &format!("/{b}/empty"),
        "Content-Length: 0\r\n",
        b"",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    s3.put_object()
        .bucket(&b)
        .key("empty-sdk")
        .body(ByteStream::from_static(b""))
        .send()
        .await
        .expect("empty PUT");
    for key in ["empty", "empty-sdk"] {
        let head = s3.head_object().bucket(&b).key(key).send().await;
        assert_eq!(head.expect("HEAD").content_length(), Some(0), "{key}");
    }
    server.stop().await;
}

#[tokio::test]
async fn upload_part_needs_a_declared_length() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let up = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let id = up.upload_id().expect("upload id");
    let target = |n: u32| format!("/{b}/mp?partNumber={n}&uploadId={id}");

    let (status, text) = raw_put(
        &server,
        &target(1),
        "Transfer-Encoding: chunked\r\n",
        &te_chunked(b"part one"),
    )
    .await;
    assert_not_implemented(status, &text);

    let framed = b"3\r\nabc\r\n0\r\n\r\n";
    let (status, text) = raw_put(
        &server,
        &target(2),
        &format!(
            "x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER\r\n\
             Content-Encoding: aws-chunked\r\nContent-Length: {}\r\n",
            framed.len()
        ),
        framed,
    )
    .await;
    assert_missing_length(status, &text);

    // Refused parts were not recorded; a part with its length is.
    let (status, text) = raw_put(&server, &target(3), "Content-Length: 3\r\n", b"abc").await;
    assert_eq!(status, 200, "{text}");
    let parts = s3
        .list_parts()
        .bucket(&b)
        .key("mp")
        .upload_id(id)
        .send()
        .await
        .expect("ListParts");
    let numbers: Vec<_> = parts
        .parts()
        .iter()
        .filter_map(|p| p.part_number())
        .collect();
    assert_eq!(numbers, vec![3]);
    server.stop().await;
}
