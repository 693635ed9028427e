//! S3 through the AWS SDK for Rust (with its default request checksums, which arrive as
//! aws-chunked bodies with a CRC trailer) and raw HTTP for what SDKs will not send.

use crate::harness::{http, unique, TestServer};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, ChecksumMode, CreateBucketConfiguration, Delete, ObjectIdentifier,
};
use aws_sdk_s3::Client;

/// A path-style client in us-east-1 (the other S3 test modules use it too).
pub(crate) fn client(server: &TestServer) -> Client {
    client_in(server, "us-east-1", "test")
}

fn client_in(server: &TestServer, region: &str, key: &str) -> Client {
    let conf = aws_sdk_s3::config::Builder::from(&server.sdk_config_with(key, "test", None))
        .region(aws_sdk_s3::config::Region::new(region.to_string()))
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new bucket with a unique name.
pub(crate) async fn bucket(s3: &Client) -> String {
    let name = unique("bkt");
    s3.create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("CreateBucket");
    name
}

#[tokio::test]
async fn bucket_lifecycle_and_errors() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let name = unique("life");

    let created = s3
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("CreateBucket");
    assert_eq!(created.location(), Some(format!("/{name}").as_str()));
    let head = s3
        .head_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("HeadBucket");
    assert_eq!(head.bucket_region(), Some("us-east-1"));
    // us-east-1 keeps S3's legacy answer: re-creating your own bucket succeeds.
    s3.create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("re-create in us-east-1");
    // Another account cannot have the name: bucket names are global.
    let other = client_in(&server, "us-east-1", "111122223333");
    let err = other
        .create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect_err("taken");
    assert_eq!(err.code(), Some("BucketAlreadyExists"));
    // ... and does not see it in its list.
    let theirs = other.list_buckets().send().await.expect("ListBuckets");
    assert!(theirs.buckets().iter().all(|b| b.name() != Some(&name)));
    let mine = s3.list_buckets().send().await.expect("ListBuckets");
    let listed = mine
        .buckets()
        .iter()
        .find(|b| b.name() == Some(&name))
        .expect("listed");
    assert_eq!(listed.bucket_region(), Some("us-east-1"));
    assert!(listed.creation_date().is_some());
    assert_eq!(mine.owner().and_then(|o| o.id()).map(str::len), Some(64));

    let bad = s3
        .create_bucket()
        .bucket("Not_A_Valid_Name")
        .send()
        .await
        .expect_err("invalid");
    assert_eq!(bad.code(), Some("InvalidBucketName"));

    s3.put_object()
        .bucket(&name)
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("PutObject");
    let err = s3
        .delete_bucket()
        .bucket(&name)
        .send()
        .await
        .expect_err("not empty");
    assert_eq!(err.code(), Some("BucketNotEmpty"));
    s3.delete_object()
        .bucket(&name)
        .key("k")
        .send()
        .await
        .expect("DeleteObject");
    s3.delete_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("DeleteBucket");
    let err = s3
        .head_bucket()
        .bucket(&name)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    let err = s3
        .delete_bucket()
        .bucket(&name)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err.code(), Some("NoSuchBucket"));
    server.stop().await;
}

#[tokio::test]
async fn location_constraints_follow_the_region() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let name = unique("eu");
    s3.create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest2)
                .build(),
        )
        .send()
        .await
        .expect("CreateBucket in eu-west-2");
    let head = s3.head_bucket().bucket(&name).send().await.expect("Head");
    assert_eq!(head.bucket_region(), Some("eu-west-2"));
    let loc = s3
        .get_bucket_location()
        .bucket(&name)
        .send()
        .await
        .expect("GetBucketLocation");
    assert_eq!(
        loc.location_constraint(),
        Some(&BucketLocationConstraint::EuWest2)
    );
    // Your own bucket outside us-east-1: BucketAlreadyOwnedByYou.
    let err = s3
        .create_bucket()
        .bucket(&name)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest2)
                .build(),
        )
        .send()
        .await
        .expect_err("owned");
    assert_eq!(err.code(), Some("BucketAlreadyOwnedByYou"));

    // A regional endpoint needs a matching constraint.
    let eu = client_in(&server, "eu-west-1", "test");
    let err = eu
        .create_bucket()
        .bucket(unique("noloc"))
        .send()
        .await
        .expect_err("unspecified constraint");
    assert_eq!(err.code(), Some("IllegalLocationConstraintException"));
    let name2 = unique("euw1");
    eu.create_bucket()
        .bucket(&name2)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .expect("matching constraint");
    let err = s3
        .create_bucket()
        .bucket(unique("use1"))
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from("us-east-1"))
                .build(),
        )
        .send()
        .await
        .expect_err("us-east-1 is no constraint");
    assert_eq!(err.code(), Some("InvalidLocationConstraint"));
    server.stop().await;
}

#[tokio::test]
async fn objects_round_trip_with_headers_metadata_and_checksums() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let body = b"hello, object".to_vec();

    let put = s3
        .put_object()
        .bucket(&b)
        .key("docs/readme.txt")
        .body(ByteStream::from(body.clone()))
        .content_type("text/plain")
        .cache_control("max-age=60")
        .content_disposition("attachment")
        .content_language("en")
        .metadata("Colour", "blue")
        .send()
        .await
        .expect("PutObject");
    let etag = format!("\"{}\"", md5_hex(&body));
    assert_eq!(put.e_tag(), Some(etag.as_str()));
    // The SDK sends a CRC32 by default; S3 stores it and says so.
    assert!(put.checksum_crc32().is_some(), "{put:?}");

    let got = s3
        .get_object()
        .bucket(&b)
        .key("docs/readme.txt")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(got.content_disposition(), Some("attachment"));
    assert_eq!(got.content_language(), Some("en"));
    assert_eq!(got.content_length(), Some(body.len() as i64));
    // Names of user metadata come back lower-cased, as S3 stores them.
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("colour"))
            .map(String::as_str),
        Some("blue")
    );
    assert_eq!(got.checksum_crc32(), put.checksum_crc32());
    assert!(got.last_modified().is_some());
    let data = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(data.as_ref(), body.as_slice());

    let head = s3
        .head_object()
        .bucket(&b)
        .key("docs/readme.txt")
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.content_length(), Some(body.len() as i64));
    assert_eq!(head.e_tag(), Some(etag.as_str()));
    // Without checksum mode, no checksum.
    assert_eq!(head.checksum_crc32(), None);

    // Overwrite, then delete.
    s3.put_object()
        .bucket(&b)
        .key("docs/readme.txt")
        .body(ByteStream::from_static(b"v2"))
        .send()
        .await
        .expect("overwrite");
    let got = s3
        .get_object()
        .bucket(&b)
        .key("docs/readme.txt")
        .send()
        .await
        .expect("GetObject v2");
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"v2"
    );
    s3.delete_object()
        .bucket(&b)
        .key("docs/readme.txt")
        .send()
        .await
        .expect("DeleteObject");
    let err = s3
        .get_object()
        .bucket(&b)
        .key("docs/readme.txt")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(err.code(), Some("NoSuchKey"));
    let err = s3
        .head_object()
        .bucket(&b)
        .key("docs/readme.txt")
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(404));
    // Deleting what is not there succeeds; a bucket that is not there does not.
    s3.delete_object()
        .bucket(&b)
        .key("never-was")
        .send()
        .await
        .expect("idempotent delete");
    let err = s3
        .get_object()
        .bucket(unique("nobucket"))
        .key("k")
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(err.code(), Some("NoSuchBucket"));
    server.stop().await;
}

#[tokio::test]
async fn every_checksum_algorithm_is_validated_and_returned() {
    use aws_sdk_s3::types::ChecksumAlgorithm as A;
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    for alg in [A::Crc32, A::Crc32C, A::Crc64Nvme, A::Sha1, A::Sha256] {
        let key = format!("obj-{}", alg.as_str());
        let put = s3
            .put_object()
            .bucket(&b)
            .key(&key)
            .checksum_algorithm(alg.clone())
            .body(ByteStream::from_static(b"Hello world"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {alg:?}: {e:?}"));
        let head = s3
            .head_object()
            .bucket(&b)
            .key(&key)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("HeadObject");
        let (sent, got) = match alg {
            A::Crc32 => (put.checksum_crc32(), head.checksum_crc32()),
            A::Crc32C => (put.checksum_crc32_c(), head.checksum_crc32_c()),
            A::Crc64Nvme => (put.checksum_crc64_nvme(), head.checksum_crc64_nvme()),
            A::Sha1 => (put.checksum_sha1(), head.checksum_sha1()),
            _ => (put.checksum_sha256(), head.checksum_sha256()),
        };
        assert!(sent.is_some(), "{alg:?}");
        assert_eq!(sent, got, "{alg:?}");
    }
    // Known values for "Hello world".
    let head = s3
        .head_object()
        .bucket(&b)
        .key("obj-CRC32")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.checksum_crc32(), Some("i9aeUg=="));
    assert_eq!(
        head.checksum_type(),
        Some(&aws_sdk_s3::types::ChecksumType::FullObject)
    );
    server.stop().await;
}

#[tokio::test]
async fn keys_of_any_utf8_round_trip_and_list() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let keys = [
        "dir/",
        "a//b",
        "../up",
        "sp ace+plus%percent",
        "ünïcødé/日本語/🙂",
        "q?x=1&y=#frag",
        "trailing/slash/",
    ];
    for k in keys {
        s3.put_object()
            .bucket(&b)
            .key(k)
            .body(ByteStream::from(k.as_bytes().to_vec()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("PutObject {k:?}: {e:?}"));
    }
    for k in keys {
        let got = s3
            .get_object()
            .bucket(&b)
            .key(k)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {k:?}: {e:?}"));
        let data = got.body.collect().await.expect("body").into_bytes();
        assert_eq!(data.as_ref(), k.as_bytes(), "{k:?}");
    }
    let listed = s3
        .list_objects_v2()
        .bucket(&b)
        .send()
        .await
        .expect("ListObjectsV2");
    let mut expected: Vec<&str> = keys.to_vec();
    expected.sort();
    let got: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(got, expected);
    let too_long = "k".repeat(1025);
    let err = s3
        .put_object()
        .bucket(&b)
        .key(&too_long)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("too long");
    assert_eq!(err.code(), Some("KeyTooLongError"));
    server.stop().await;
}

#[tokio::test]
async fn listings_page_and_group_by_delimiter() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let keys = [
        "a.txt",
        "photos/2024/jan.jpg",
        "photos/2024/feb.jpg",
        "photos/2025/mar.jpg",
        "photos/index.html",
        "z.txt",
    ];
    for k in keys {
        s3.put_object()
            .bucket(&b)
            .key(k)
            .body(ByteStream::from_static(b"."))
            .send()
            .await
            .expect("PutObject");
    }
    // Delimiter at the top level.
    let top = s3
        .list_objects_v2()
        .bucket(&b)
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let files: Vec<&str> = top.contents().iter().filter_map(|o| o.key()).collect();
    let dirs: Vec<&str> = top
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(files, ["a.txt", "z.txt"]);
    assert_eq!(dirs, ["photos/"]);
    assert_eq!(top.key_count(), Some(3));
    // Prefix and delimiter.
    let photos = s3
        .list_objects_v2()
        .bucket(&b)
        .prefix("photos/")
        .delimiter("/")
        .send()
        .await
        .expect("list");
    let dirs: Vec<&str> = photos
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(dirs, ["photos/2024/", "photos/2025/"]);
    assert_eq!(
        photos
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .collect::<Vec<_>>(),
        ["photos/index.html"]
    );
    // Pages of two, through continuation tokens, see every key once.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(&b)
            .max_keys(2)
            .set_continuation_token(token.clone())
            .fetch_owner(true)
            .send()
            .await
            .expect("page");
        assert!(page.contents().len() <= 2);
        assert!(page.contents().iter().all(|o| o.owner().is_some()));
        seen.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(String::from)),
        );
        if page.is_truncated() != Some(true) {
            break;
        }
        token = page.next_continuation_token().map(String::from);
    }
    let mut expected: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    // Paginating with a delimiter never repeats a common prefix.
    let first = s3
        .list_objects_v2()
        .bucket(&b)
        .delimiter("/")
        .max_keys(2)
        .send()
        .await
        .expect("page 1");
    assert_eq!(first.is_truncated(), Some(true));
    let second = s3
        .list_objects_v2()
        .bucket(&b)
        .delimiter("/")
        .max_keys(2)
        .continuation_token(first.next_continuation_token().expect("token"))
        .send()
        .await
        .expect("page 2");
    assert_eq!(
        second
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .collect::<Vec<_>>(),
        ["z.txt"]
    );
    assert!(second.common_prefixes().is_empty());
    // start-after
    let after = s3
        .list_objects_v2()
        .bucket(&b)
        .start_after("photos/index.html")
        .send()
        .await
        .expect("start-after");
    assert_eq!(
        after
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .collect::<Vec<_>>(),
        ["z.txt"]
    );
    // v1 with marker and NextMarker.
    let v1 = s3
        .list_objects()
        .bucket(&b)
        .delimiter("/")
        .max_keys(1)
        .marker("a.txt")
        .send()
        .await
        .expect("ListObjects");
    assert_eq!(v1.is_truncated(), Some(true));
    assert_eq!(v1.next_marker(), Some("photos/"));
    assert_eq!(
        v1.common_prefixes()
            .iter()
            .filter_map(|p| p.prefix())
            .collect::<Vec<_>>(),
        ["photos/"]
    );
    let err = s3
        .list_objects_v2()
        .bucket(unique("missing"))
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(err.code(), Some("NoSuchBucket"));
    server.stop().await;
}

#[tokio::test]
async fn url_encoding_type_encodes_keys_in_listings() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    s3.put_object()
        .bucket(&b)
        .key("a b/ü+c")
        .body(ByteStream::from_static(b"."))
        .send()
        .await
        .expect("PutObject");
    let resp = http()
        .get(server.url(&format!("/{b}?list-type=2&encoding-type=url")))
        .send()
        .await
        .expect("raw list");
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.expect("body");
    assert!(text.contains("<ListBucketResult"), "{text}");
    assert!(text.contains("<Key>a+b/%C3%BC%2Bc</Key>"), "{text}");
    assert!(text.contains("<EncodingType>url</EncodingType>"), "{text}");
    // The SDK asks for url encoding itself and decodes it.
    let listed = s3.list_objects_v2().bucket(&b).send().await.expect("list");
    assert_eq!(listed.contents()[0].key(), Some("a b/ü+c"));
    // V1 echoes its Prefix as sent (botocore does not decode it); V2 encodes it like the keys.
    for (list_type, echoed) in [
        ("", "<Prefix>a b/</Prefix>"),
        ("list-type=2&", "<Prefix>a+b/</Prefix>"),
    ] {
        let text = http()
            .get(server.url(&format!("/{b}?{list_type}encoding-type=url&prefix=a%20b/")))
            .send()
            .await
            .expect("raw list")
            .text()
            .await
            .expect("body");
        assert!(text.contains(echoed), "{list_type}: {text}");
        assert!(
            text.contains("<Key>a+b/%C3%BC%2Bc</Key>"),
            "{list_type}: {text}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn delete_objects_reports_each_key() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    for k in ["one", "two"] {
        s3.put_object()
            .bucket(&b)
            .key(k)
            .body(ByteStream::from_static(b"."))
            .send()
            .await
            .expect("PutObject");
    }
    let ids = |keys: &[&str]| {
        Delete::builder().set_objects(Some(
            keys.iter()
                .map(|k| ObjectIdentifier::builder().key(*k).build().expect("id"))
                .collect(),
        ))
    };
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(ids(&["one", "missing"]).build().expect("delete"))
        .send()
        .await
        .expect("DeleteObjects");
    let mut deleted: Vec<&str> = out.deleted().iter().filter_map(|d| d.key()).collect();
    deleted.sort();
    assert_eq!(deleted, ["missing", "one"]);
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(ids(&["two"]).quiet(true).build().expect("delete"))
        .send()
        .await
        .expect("quiet DeleteObjects");
    assert!(out.deleted().is_empty() && out.errors().is_empty());
    let left = s3.list_objects_v2().bucket(&b).send().await.expect("list");
    assert_eq!(left.key_count(), Some(0));
    server.stop().await;
}

#[tokio::test]
async fn large_bodies_stream_both_ways() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let data: Vec<u8> = (0..(24 * 1024 * 1024 + 7))
        .map(|i| (i % 251) as u8)
        .collect();
    let put = s3
        .put_object()
        .bucket(&b)
        .key("big")
        .body(ByteStream::from(data.clone()))
        .send()
        .await
        .expect("PutObject");
    assert_eq!(
        put.e_tag(),
        Some(format!("\"{}\"", md5_hex(&data)).as_str())
    );
    let got = s3
        .get_object()
        .bucket(&b)
        .key("big")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.content_length(), Some(data.len() as i64));
    let back = got.body.collect().await.expect("body").into_bytes();
    assert!(back.as_ref() == data.as_slice());
    server.stop().await;
}

/// Raw requests: framing and digests the SDK always gets right.
#[tokio::test]
async fn raw_bodies_digests_and_framing() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let url = server.url(&format!("/{b}/raw"));

    // Signed aws-chunked with a trailer; the stored object holds no framing.
    let framed = "5;chunk-signature=00\r\nhello\r\n0;chunk-signature=00\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n";
    let resp = http()
        .put(&url)
        .header(
            "x-amz-content-sha256",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        )
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", "5")
        .header("x-amz-trailer", "x-amz-checksum-crc32")
        .body(framed)
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    assert_eq!(
        resp.headers()
            .get("x-amz-checksum-crc32")
            .and_then(|v| v.to_str().ok()),
        Some("NhCmhg==")
    );
    let got = http().get(&url).send().await.expect("GET");
    assert!(got.headers().get("content-encoding").is_none());
    // No Content-Type given: S3's default.
    assert_eq!(
        got.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("binary/octet-stream")
    );
    assert_eq!(got.text().await.expect("body"), "hello");

    // A trailer checksum that does not match.
    let framed = "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
    let resp = http()
        .put(&url)
        .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", "5")
        .header("x-amz-trailer", "x-amz-checksum-crc32")
        .body(framed)
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 400);
    let text = resp.text().await.expect("body");
    assert!(text.contains("<Code>BadDigest</Code>"), "{text}");
    assert!(
        text.contains("The CRC32 you specified did not match the calculated checksum."),
        "{text}"
    );
    // The failed write left the earlier object in place.
    let got = http().get(&url).send().await.expect("GET");
    assert_eq!(got.text().await.expect("body"), "hello");

    // Content-MD5: wrong, then malformed.
    let resp = http()
        .put(&url)
        .header("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")
        .body("data")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 400);
    assert!(resp
        .text()
        .await
        .expect("body")
        .contains("<Code>BadDigest</Code>"));
    let resp = http()
        .put(&url)
        .header("content-md5", "nope")
        .body("data")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 400);
    assert!(resp
        .text()
        .await
        .expect("body")
        .contains("<Code>InvalidDigest</Code>"));

    // A hex payload hash is verified.
    let resp = http()
        .put(&url)
        .header(
            "x-amz-content-sha256",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        )
        .body("abd")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 400);
    assert!(resp
        .text()
        .await
        .expect("body")
        .contains("<Code>XAmzContentSHA256Mismatch</Code>"));
    let resp = http()
        .put(&url)
        .header(
            "x-amz-content-sha256",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        )
        .body("abc")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 200);

    // Truncated framing.
    let resp = http()
        .put(&url)
        .header("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        .header("content-encoding", "aws-chunked")
        .header("x-amz-decoded-content-length", "10")
        .body("a\r\nhello")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 400);
    assert!(resp
        .text()
        .await
        .expect("body")
        .contains("<Code>IncompleteBody</Code>"));
    server.stop().await;
}

#[tokio::test]
async fn objects_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::disk_at(dir.path()).await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    s3.put_object()
        .bucket(&b)
        .key("kept")
        .content_type("text/plain")
        .body(ByteStream::from_static(b"durable"))
        .send()
        .await
        .expect("PutObject");
    // Bodies above the inline threshold (64 KiB) are files; "kept" is stored inline.
    s3.put_object()
        .bucket(&b)
        .key("replaced")
        .body(ByteStream::from(vec![b'1'; 70 * 1024]))
        .send()
        .await
        .expect("PutObject");
    s3.put_object()
        .bucket(&b)
        .key("replaced")
        .body(ByteStream::from(vec![b'2'; 70 * 1024]))
        .send()
        .await
        .expect("PutObject");
    server.stop().await;

    let server = TestServer::disk_at(dir.path()).await;
    let s3 = client(&server);
    let got = s3
        .get_object()
        .bucket(&b)
        .key("kept")
        .send()
        .await
        .expect("GetObject after restart");
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"durable"
    );
    // The replaced body's file is freed: one file, the live large object's.
    let files = walk(&dir.path().join("objects"));
    assert_eq!(files, 1, "files under objects/");
    server.stop().await;
}

/// Body files under the object store (temp files excluded).
fn walk(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "tmp" {
                n += walk(&path);
            }
        } else {
            n += 1;
        }
    }
    n
}

#[tokio::test]
async fn range_reads_and_conditional_requests() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let put = s3
        .put_object()
        .bucket(&b)
        .key("digits")
        .body(ByteStream::from_static(b"0123456789"))
        .send()
        .await
        .expect("PutObject");
    let etag = put.e_tag().expect("etag").to_string();

    let part = s3
        .get_object()
        .bucket(&b)
        .key("digits")
        .range("bytes=2-5")
        .send()
        .await
        .expect("ranged GET");
    assert_eq!(part.content_range(), Some("bytes 2-5/10"));
    assert_eq!(part.content_length(), Some(4));
    assert_eq!(
        part.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"2345"
    );
    let tail = s3
        .get_object()
        .bucket(&b)
        .key("digits")
        .range("bytes=-3")
        .send()
        .await
        .expect("suffix GET");
    assert_eq!(
        tail.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"789"
    );
    let raw = http()
        .get(server.url(&format!("/{b}/digits")))
        .header("range", "bytes=7-")
        .send()
        .await
        .expect("raw");
    assert_eq!(raw.status(), 206);
    let err = s3
        .get_object()
        .bucket(&b)
        .key("digits")
        .range("bytes=10-")
        .send()
        .await
        .expect_err("past the end");
    assert_eq!(err.code(), Some("InvalidRange"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(416));

    // Reads: If-Match / If-None-Match.
    s3.get_object()
        .bucket(&b)
        .key("digits")
        .if_match(&etag)
        .send()
        .await
        .expect("If-Match holds");
    let err = s3
        .get_object()
        .bucket(&b)
        .key("digits")
        .if_match("\"other\"")
        .send()
        .await
        .expect_err("If-Match fails");
    assert_eq!(err.code(), Some("PreconditionFailed"));
    let raw = http()
        .get(server.url(&format!("/{b}/digits")))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("raw");
    assert_eq!(raw.status(), 304);
    assert!(raw.bytes().await.expect("body").is_empty());
    let raw = http()
        .get(server.url(&format!("/{b}/digits")))
        .header("if-modified-since", "Sat, 01 Jan 2000 00:00:00 GMT")
        .send()
        .await
        .expect("raw");
    assert_eq!(raw.status(), 200);
    let raw = http()
        .get(server.url(&format!("/{b}/digits")))
        .header("if-unmodified-since", "Sat, 01 Jan 2000 00:00:00 GMT")
        .send()
        .await
        .expect("raw");
    assert_eq!(raw.status(), 412);

    // Writes: If-None-Match: * refuses to overwrite; If-Match needs the current ETag.
    let err = s3
        .put_object()
        .bucket(&b)
        .key("digits")
        .if_none_match("*")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("exists");
    assert_eq!(err.code(), Some("PreconditionFailed"));
    s3.put_object()
        .bucket(&b)
        .key("fresh")
        .if_none_match("*")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("new key");
    let err = s3
        .put_object()
        .bucket(&b)
        .key("digits")
        .if_match("\"stale\"")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("stale etag");
    assert_eq!(err.code(), Some("PreconditionFailed"));
    s3.put_object()
        .bucket(&b)
        .key("digits")
        .if_match(&etag)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("matching etag");
    server.stop().await;
}

#[tokio::test]
async fn virtual_hosted_addressing() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let port = server
        .endpoint
        .rsplit(':')
        .next()
        .expect("port")
        .to_string();
    for host in [
        format!("{b}.s3.localhost.localstack.cloud:{port}"),
        format!("{b}.localhost:{port}"),
        format!("{b}.s3.us-east-1.amazonaws.com"),
    ] {
        let resp = http()
            .put(server.url("/dir/key.txt"))
            .header("host", &host)
            .body("hosted")
            .send()
            .await
            .expect("PUT");
        assert_eq!(resp.status(), 200, "{host}");
        let got = s3
            .get_object()
            .bucket(&b)
            .key("dir/key.txt")
            .send()
            .await
            .expect("path-style GET");
        assert_eq!(
            got.body
                .collect()
                .await
                .expect("body")
                .into_bytes()
                .as_ref(),
            b"hosted"
        );
        let list = http()
            .get(server.url("/?list-type=2"))
            .header("host", &host)
            .send()
            .await
            .expect("list");
        let text = list.text().await.expect("body");
        assert!(text.contains("<Key>dir/key.txt</Key>"), "{host}: {text}");
        s3.delete_object()
            .bucket(&b)
            .key("dir/key.txt")
            .send()
            .await
            .expect("delete");
    }
    server.stop().await;
}

#[tokio::test]
async fn multipart_uploads_assemble_parts_in_order() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let part1: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 241) as u8).collect();
    let part2 = b"the tail".to_vec();

    let created = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("assembled")
        .content_type("application/x-test")
        .metadata("origin", "mpu")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .expect("CreateMultipartUpload");
    let id = created.upload_id().expect("upload id").to_string();
    let up = |n: i32, data: Vec<u8>| {
        s3.upload_part()
            .bucket(&b)
            .key("assembled")
            .upload_id(&id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(data))
            .send()
    };
    let p2 = up(2, part2.clone()).await.expect("UploadPart 2");
    let p1 = up(1, part1.clone()).await.expect("UploadPart 1");
    assert_eq!(
        p1.e_tag(),
        Some(format!("\"{}\"", md5_hex(&part1)).as_str())
    );
    assert!(p1.checksum_crc32().is_some());

    let parts = s3
        .list_parts()
        .bucket(&b)
        .key("assembled")
        .upload_id(&id)
        .send()
        .await
        .expect("ListParts");
    let numbers: Vec<i32> = parts
        .parts()
        .iter()
        .filter_map(|p| p.part_number())
        .collect();
    assert_eq!(numbers, [1, 2]);
    assert_eq!(parts.parts()[1].size(), Some(part2.len() as i64));
    let uploads = s3
        .list_multipart_uploads()
        .bucket(&b)
        .send()
        .await
        .expect("ListMultipartUploads");
    assert_eq!(uploads.uploads().len(), 1);
    assert_eq!(uploads.uploads()[0].upload_id(), Some(id.as_str()));

    let completed = |parts: Vec<(i32, &str, Option<&str>)>| {
        CompletedMultipartUpload::builder()
            .set_parts(Some(
                parts
                    .into_iter()
                    .map(|(n, etag, crc)| {
                        CompletedPart::builder()
                            .part_number(n)
                            .e_tag(etag)
                            .set_checksum_crc32(crc.map(String::from))
                            .build()
                    })
                    .collect(),
            ))
            .build()
    };
    let e1 = p1.e_tag().expect("etag");
    let e2 = p2.e_tag().expect("etag");
    let err = s3
        .complete_multipart_upload()
        .bucket(&b)
        .key("assembled")
        .upload_id(&id)
        .multipart_upload(completed(vec![(2, e2, None), (1, e1, None)]))
        .send()
        .await
        .expect_err("out of order");
    assert_eq!(err.code(), Some("InvalidPartOrder"));
    let err = s3
        .complete_multipart_upload()
        .bucket(&b)
        .key("assembled")
        .upload_id(&id)
        .multipart_upload(completed(vec![(1, e1, None), (2, "\"0000\"", None)]))
        .send()
        .await
        .expect_err("wrong etag");
    assert_eq!(err.code(), Some("InvalidPart"));

    let done = s3
        .complete_multipart_upload()
        .bucket(&b)
        .key("assembled")
        .upload_id(&id)
        .multipart_upload(completed(vec![
            (1, e1, p1.checksum_crc32()),
            (2, e2, p2.checksum_crc32()),
        ]))
        .send()
        .await
        .expect("CompleteMultipartUpload");
    let etag = done.e_tag().expect("etag");
    assert!(etag.ends_with("-2\""), "{etag}");
    // A composite checksum: of the part checksums, marked with the part count.
    assert!(
        done.checksum_crc32().is_some_and(|c| c.ends_with("-2")),
        "{done:?}"
    );

    let got = s3
        .get_object()
        .bucket(&b)
        .key("assembled")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.e_tag(), Some(etag));
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(
        got.metadata()
            .and_then(|m| m.get("origin"))
            .map(String::as_str),
        Some("mpu")
    );
    let data = got.body.collect().await.expect("body").into_bytes();
    assert_eq!(data.len(), part1.len() + part2.len());
    assert!(data[..part1.len()] == part1[..] && data[part1.len()..] == part2[..]);
    let second = s3
        .get_object()
        .bucket(&b)
        .key("assembled")
        .part_number(2)
        .send()
        .await
        .expect("GetObject part 2");
    assert_eq!(second.parts_count(), Some(2));
    assert_eq!(
        second
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        part2.as_slice()
    );
    // The upload is gone.
    let err = s3
        .list_parts()
        .bucket(&b)
        .key("assembled")
        .upload_id(&id)
        .send()
        .await
        .expect_err("completed");
    assert_eq!(err.code(), Some("NoSuchUpload"));
    server.stop().await;
}

#[tokio::test]
async fn multipart_errors_and_abort() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let id = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("small")
        .send()
        .await
        .expect("Create")
        .upload_id()
        .expect("id")
        .to_string();
    let mut parts = Vec::new();
    for n in 1..=2 {
        let p = s3
            .upload_part()
            .bucket(&b)
            .key("small")
            .upload_id(&id)
            .part_number(n)
            .body(ByteStream::from_static(b"tiny"))
            .send()
            .await
            .expect("UploadPart");
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(p.e_tag().expect("etag"))
                .build(),
        );
    }
    let err = s3
        .complete_multipart_upload()
        .bucket(&b)
        .key("small")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect_err("too small");
    assert_eq!(err.code(), Some("EntityTooSmall"));
    s3.abort_multipart_upload()
        .bucket(&b)
        .key("small")
        .upload_id(&id)
        .send()
        .await
        .expect("Abort");
    let err = s3
        .upload_part()
        .bucket(&b)
        .key("small")
        .upload_id(&id)
        .part_number(3)
        .body(ByteStream::from_static(b"late"))
        .send()
        .await
        .expect_err("aborted");
    assert_eq!(err.code(), Some("NoSuchUpload"));
    let err = s3
        .upload_part()
        .bucket(&b)
        .key("small")
        .upload_id("nonsense")
        .part_number(10001)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("bad part number");
    assert_eq!(err.code(), Some("InvalidArgument"));
    // Uploads in progress do not keep a bucket alive: they go with it.
    let pending = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("pending")
        .send()
        .await
        .expect("Create")
        .upload_id()
        .expect("id")
        .to_string();
    s3.upload_part()
        .bucket(&b)
        .key("pending")
        .upload_id(&pending)
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .expect("UploadPart");
    s3.delete_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("no objects");
    let err = s3
        .list_multipart_uploads()
        .bucket(&b)
        .send()
        .await
        .expect_err("bucket gone");
    assert_eq!(err.code(), Some("NoSuchBucket"));
    server.stop().await;
}

#[tokio::test]
async fn copy_object_and_upload_part_copy() {
    use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, MetadataDirective};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let src = bucket(&s3).await;
    let dst = bucket(&s3).await;
    s3.put_object()
        .bucket(&src)
        .key("dir/source file")
        .content_type("text/plain")
        .metadata("a", "1")
        .body(ByteStream::from_static(b"copy me, please"))
        .send()
        .await
        .expect("PutObject");

    // COPY keeps the source's headers, across buckets; keys are URL-encoded in the source.
    let copied = s3
        .copy_object()
        .bucket(&dst)
        .key("copy")
        .copy_source(format!("{src}/dir/source%20file"))
        .send()
        .await
        .expect("CopyObject");
    let result = copied.copy_object_result().expect("result");
    assert_eq!(
        result.e_tag(),
        Some(format!("\"{}\"", md5_hex(b"copy me, please")).as_str())
    );
    let got = s3
        .get_object()
        .bucket(&dst)
        .key("copy")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        got.metadata().and_then(|m| m.get("a")).map(String::as_str),
        Some("1")
    );
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"copy me, please"
    );
    // REPLACE takes the request's headers.
    s3.copy_object()
        .bucket(&dst)
        .key("copy")
        .copy_source(format!("{dst}/copy"))
        .metadata_directive(MetadataDirective::Replace)
        .content_type("application/json")
        .send()
        .await
        .expect("CopyObject REPLACE onto itself");
    let head = s3
        .head_object()
        .bucket(&dst)
        .key("copy")
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.content_type(), Some("application/json"));
    assert!(head.metadata().is_none_or(|m| m.is_empty()));
    // Onto itself without a change: refused.
    let err = s3
        .copy_object()
        .bucket(&dst)
        .key("copy")
        .copy_source(format!("{dst}/copy"))
        .send()
        .await
        .expect_err("illegal self-copy");
    assert_eq!(err.code(), Some("InvalidRequest"));
    // Source conditions.
    let err = s3
        .copy_object()
        .bucket(&dst)
        .key("other")
        .copy_source(format!("{src}/dir/source%20file"))
        .copy_source_if_match("\"nope\"")
        .send()
        .await
        .expect_err("condition");
    assert_eq!(err.code(), Some("PreconditionFailed"));
    let err = s3
        .copy_object()
        .bucket(&dst)
        .key("other")
        .copy_source(format!("{src}/missing"))
        .send()
        .await
        .expect_err("no source");
    assert_eq!(err.code(), Some("NoSuchKey"));

    // UploadPartCopy with a range.
    let id = s3
        .create_multipart_upload()
        .bucket(&dst)
        .key("from-parts")
        .send()
        .await
        .expect("Create")
        .upload_id()
        .expect("id")
        .to_string();
    let part = s3
        .upload_part_copy()
        .bucket(&dst)
        .key("from-parts")
        .upload_id(&id)
        .part_number(1)
        .copy_source(format!("{src}/dir/source%20file"))
        .copy_source_range("bytes=0-3")
        .send()
        .await
        .expect("UploadPartCopy");
    let etag = part
        .copy_part_result()
        .and_then(|r| r.e_tag())
        .expect("etag")
        .to_string();
    assert_eq!(etag, format!("\"{}\"", md5_hex(b"copy")));
    s3.complete_multipart_upload()
        .bucket(&dst)
        .key("from-parts")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
                .build(),
        )
        .send()
        .await
        .expect("Complete");
    let got = s3
        .get_object()
        .bucket(&dst)
        .key("from-parts")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"copy"
    );
    server.stop().await;
}

#[tokio::test]
async fn bucket_sub_resources_answer_as_aws_does() {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule, Tag, Tagging};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;

    // Never configured: AWS's own error codes.
    let err = s3
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect_err("no policy");
    assert_eq!(err.code(), Some("NoSuchBucketPolicy"));
    let err = s3
        .get_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect_err("no cors");
    assert_eq!(err.code(), Some("NoSuchCORSConfiguration"));
    let err = s3
        .get_bucket_website()
        .bucket(&b)
        .send()
        .await
        .expect_err("no website");
    assert_eq!(err.code(), Some("NoSuchWebsiteConfiguration"));
    let err = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect_err("no lifecycle");
    assert_eq!(err.code(), Some("NoSuchLifecycleConfiguration"));
    let err = s3
        .get_bucket_replication()
        .bucket(&b)
        .send()
        .await
        .expect_err("no replication");
    assert_eq!(err.code(), Some("ReplicationConfigurationNotFoundError"));
    let err = s3
        .get_object_lock_configuration()
        .bucket(&b)
        .send()
        .await
        .expect_err("no object lock");
    assert_eq!(err.code(), Some("ObjectLockConfigurationNotFoundError"));
    let err = s3
        .get_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect_err("no tags");
    assert_eq!(err.code(), Some("NoSuchTagSet"));
    // Defaults AWS reports for a new bucket.
    let enc = s3
        .get_bucket_encryption()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketEncryption");
    let rule = &enc
        .server_side_encryption_configuration()
        .expect("config")
        .rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .map(|d| d.sse_algorithm().as_str()),
        Some("AES256")
    );
    let pab = s3
        .get_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("GetPublicAccessBlock");
    assert_eq!(
        pab.public_access_block_configuration()
            .and_then(|c| c.block_public_acls()),
        Some(true)
    );
    let own = s3
        .get_bucket_ownership_controls()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketOwnershipControls");
    assert_eq!(
        own.ownership_controls()
            .map(|c| c.rules()[0].object_ownership().as_str()),
        Some("BucketOwnerEnforced")
    );
    let pay = s3
        .get_bucket_request_payment()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketRequestPayment");
    assert_eq!(pay.payer().map(|p| p.as_str()), Some("BucketOwner"));
    let ver = s3
        .get_bucket_versioning()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketVersioning");
    assert!(ver.status().is_none());
    let logging = s3
        .get_bucket_logging()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketLogging");
    assert!(logging.logging_enabled().is_none());
    let acl = s3
        .get_bucket_acl()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketAcl");
    assert_eq!(acl.grants().len(), 1);
    assert_eq!(
        acl.grants()[0].permission().map(|p| p.as_str()),
        Some("FULL_CONTROL")
    );
    assert_eq!(
        acl.grants()[0].grantee().and_then(|g| g.id()),
        acl.owner().and_then(|o| o.id())
    );

    // Stored and returned as written; deleted back to "not configured". (A named principal:
    // the new bucket's BlockPublicPolicy refuses a public one, see s3_public.)
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:root"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{b}/*"}}]}}"#
    );
    s3.put_bucket_policy()
        .bucket(&b)
        .policy(&policy)
        .send()
        .await
        .expect("PutBucketPolicy");
    let got = s3
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketPolicy");
    assert_eq!(got.policy(), Some(policy.as_str()));
    let err = s3
        .put_bucket_policy()
        .bucket(&b)
        .policy("not json")
        .send()
        .await
        .expect_err("bad policy");
    assert_eq!(err.code(), Some("MalformedPolicy"));
    s3.delete_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect("DeleteBucketPolicy");
    let err = s3
        .get_bucket_policy()
        .bucket(&b)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(err.code(), Some("NoSuchBucketPolicy"));

    let rule = CorsRule::builder()
        .allowed_methods("GET")
        .allowed_methods("PUT")
        .allowed_origins("https://app.example")
        .allowed_headers("*")
        .max_age_seconds(600)
        .build()
        .expect("rule");
    s3.put_bucket_cors()
        .bucket(&b)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(rule)
                .build()
                .expect("cors"),
        )
        .send()
        .await
        .expect("PutBucketCors");
    let cors = s3
        .get_bucket_cors()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketCors");
    assert_eq!(cors.cors_rules()[0].allowed_methods(), ["GET", "PUT"]);
    assert_eq!(cors.cors_rules()[0].max_age_seconds(), Some(600));

    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().expect("tag");
    s3.put_bucket_tagging()
        .bucket(&b)
        .tagging(
            Tagging::builder()
                .tag_set(tag("env", "dev"))
                .tag_set(tag("team", "core"))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("PutBucketTagging");
    let tags = s3
        .get_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketTagging");
    assert_eq!(tags.tag_set().len(), 2);
    let err = s3
        .put_bucket_tagging()
        .bucket(&b)
        .tagging(
            Tagging::builder()
                .tag_set(tag("dup", "1"))
                .tag_set(tag("dup", "2"))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect_err("duplicate keys");
    assert_eq!(err.code(), Some("InvalidTag"));

    // S3 Control sees the same tags (Terraform ≥ 6.23 reads them there).
    let arn = format!("arn:aws:s3:::{b}");
    let url = server.url(&format!("/v20180820/tags/{arn}"));
    let listed = http()
        .get(&url)
        .header("x-amz-account-id", "000000000000")
        .send()
        .await
        .expect("ListTagsForResource");
    let status = listed.status();
    let text = listed.text().await.expect("body");
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("<ListTagsForResourceResult"), "{text}");
    assert!(text.contains("<Key>env</Key><Value>dev</Value>"), "{text}");
    let tagged = http()
        .post(&url)
        .header("x-amz-account-id", "000000000000")
        .body(r#"<TagResourceRequest xmlns="http://awss3control.amazonaws.com/doc/2018-08-20/"><Tags><Tag><Key>owner</Key><Value>me</Value></Tag></Tags></TagResourceRequest>"#)
        .send()
        .await
        .expect("TagResource");
    assert_eq!(tagged.status(), 204, "{:?}", tagged.text().await);
    let untagged = http()
        .delete(format!("{url}?tagKeys=env"))
        .header("x-amz-account-id", "000000000000")
        .send()
        .await
        .expect("UntagResource");
    assert_eq!(untagged.status(), 204);
    let tags = s3
        .get_bucket_tagging()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketTagging");
    let mut keys: Vec<&str> = tags.tag_set().iter().map(|t| t.key()).collect();
    keys.sort();
    assert_eq!(keys, ["owner", "team"]);

    // Configurations go with their bucket.
    let err = s3
        .get_bucket_cors()
        .bucket(unique("missing"))
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(err.code(), Some("NoSuchBucket"));
    server.stop().await;
}

#[tokio::test]
async fn object_tagging_and_unserved_operations() {
    use aws_sdk_s3::types::{Tag, Tagging};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    s3.put_object()
        .bucket(&b)
        .key("tagged")
        .tagging("a=1&b=two%20words")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("PutObject with tags");
    let got = s3
        .get_object()
        .bucket(&b)
        .key("tagged")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(got.tag_count(), Some(2));
    let tags = s3
        .get_object_tagging()
        .bucket(&b)
        .key("tagged")
        .send()
        .await
        .expect("GetObjectTagging");
    let pairs: Vec<(&str, &str)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key(), t.value()))
        .collect();
    assert_eq!(pairs, [("a", "1"), ("b", "two words")]);
    s3.put_object_tagging()
        .bucket(&b)
        .key("tagged")
        .tagging(
            Tagging::builder()
                .tag_set(
                    Tag::builder()
                        .key("only")
                        .value("one")
                        .build()
                        .expect("tag"),
                )
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("PutObjectTagging");
    let tags = s3
        .get_object_tagging()
        .bucket(&b)
        .key("tagged")
        .send()
        .await
        .expect("GetObjectTagging");
    assert_eq!(tags.tag_set().len(), 1);
    s3.delete_object_tagging()
        .bucket(&b)
        .key("tagged")
        .send()
        .await
        .expect("DeleteObjectTagging");
    let tags = s3
        .get_object_tagging()
        .bucket(&b)
        .key("tagged")
        .send()
        .await
        .expect("GetObjectTagging");
    assert!(tags.tag_set().is_empty());
    let err = s3
        .put_object_tagging()
        .bucket(&b)
        .key("missing")
        .tagging(
            Tagging::builder()
                .set_tag_set(Some(vec![]))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect_err("no such key");
    assert_eq!(err.code(), Some("NoSuchKey"));
    let acl = s3
        .get_object_acl()
        .bucket(&b)
        .key("tagged")
        .send()
        .await
        .expect("GetObjectAcl");
    assert_eq!(acl.grants().len(), 1);

    // What CloudEmu does not serve yet answers 501 NotImplemented.
    let err = s3
        .restore_object()
        .bucket(&b)
        .key("tagged")
        .send()
        .await
        .expect_err("not served");
    assert_eq!(err.code(), Some("NotImplemented"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(501));
    server.stop().await;
}

#[tokio::test]
async fn presigned_urls_work_until_they_expire() {
    use aws_sdk_s3::presigning::PresigningConfig;
    use std::time::{Duration, SystemTime};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    s3.put_object()
        .bucket(&b)
        .key("shared")
        .body(ByteStream::from_static(b"presigned body"))
        .send()
        .await
        .expect("PutObject");
    let fresh = s3
        .get_object()
        .bucket(&b)
        .key("shared")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).expect("config"))
        .await
        .expect("presign");
    let resp = http().get(fresh.uri()).send().await.expect("GET");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.expect("body"), "presigned body");

    let put = s3
        .put_object()
        .bucket(&b)
        .key("uploaded")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).expect("config"))
        .await
        .expect("presign PUT");
    let resp = http()
        .put(put.uri())
        .body("via presigned PUT")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);

    let stale = s3
        .get_object()
        .bucket(&b)
        .key("shared")
        .presigned(
            PresigningConfig::builder()
                .start_time(SystemTime::now() - Duration::from_secs(3600))
                .expires_in(Duration::from_secs(60))
                .build()
                .expect("config"),
        )
        .await
        .expect("presign");
    let resp = http().get(stale.uri()).send().await.expect("GET");
    assert_eq!(resp.status(), 403);
    let text = resp.text().await.expect("body");
    assert!(text.contains("<Code>AccessDenied</Code>"), "{text}");
    assert!(
        text.contains("<Message>Request has expired</Message>"),
        "{text}"
    );
    server.stop().await;
}

#[tokio::test]
async fn cors_preflights_and_response_headers() {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let url = server.url(&format!("/{b}/file.txt"));
    let preflight = |origin: &str, method: &str| {
        http()
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type")
            .send()
    };
    // No configuration: refused.
    let resp = preflight("https://app.example", "PUT")
        .await
        .expect("OPTIONS");
    assert_eq!(resp.status(), 403);
    assert!(resp
        .text()
        .await
        .expect("body")
        .contains("<Code>AccessForbidden</Code>"));

    s3.put_bucket_cors()
        .bucket(&b)
        .cors_configuration(
            CorsConfiguration::builder()
                .cors_rules(
                    CorsRule::builder()
                        .allowed_origins("https://app.example")
                        .allowed_methods("GET")
                        .allowed_methods("PUT")
                        .allowed_headers("*")
                        .expose_headers("ETag")
                        .max_age_seconds(120)
                        .build()
                        .expect("rule"),
                )
                .build()
                .expect("cors"),
        )
        .send()
        .await
        .expect("PutBucketCors");
    let resp = preflight("https://app.example", "PUT")
        .await
        .expect("OPTIONS");
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(
        h.get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://app.example")
    );
    assert_eq!(
        h.get("access-control-allow-methods")
            .and_then(|v| v.to_str().ok()),
        Some("GET, PUT")
    );
    assert_eq!(
        h.get("access-control-max-age")
            .and_then(|v| v.to_str().ok()),
        Some("120")
    );
    let resp = preflight("https://other.example", "PUT")
        .await
        .expect("OPTIONS");
    assert_eq!(resp.status(), 403);
    let resp = preflight("https://app.example", "DELETE")
        .await
        .expect("OPTIONS");
    assert_eq!(resp.status(), 403);

    // The actual request carries the headers a browser checks.
    let resp = http()
        .put(&url)
        .header("origin", "https://app.example")
        .body("from the browser")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://app.example")
    );
    assert_eq!(
        resp.headers()
            .get("access-control-expose-headers")
            .and_then(|v| v.to_str().ok()),
        Some("ETag")
    );
    server.stop().await;
}

#[tokio::test]
async fn form_typed_uploads_are_bodies_not_forms() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    // curl --data-binary sends this content type; the object must still be stored whole.
    let resp = http()
        .put(server.url(&format!("/{b}/form")))
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body("a=1&b=2")
        .send()
        .await
        .expect("PUT");
    assert_eq!(resp.status(), 200, "{:?}", resp.text().await);
    let got = s3
        .get_object()
        .bucket(&b)
        .key("form")
        .send()
        .await
        .expect("GetObject");
    assert_eq!(
        got.content_type(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        got.body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .as_ref(),
        b"a=1&b=2"
    );
    server.stop().await;
}

#[tokio::test]
async fn unversioned_buckets_list_null_versions() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    for k in ["a", "dir/b"] {
        s3.put_object()
            .bucket(&b)
            .key(k)
            .body(ByteStream::from_static(b"v"))
            .send()
            .await
            .expect("PutObject");
    }
    let versions = s3
        .list_object_versions()
        .bucket(&b)
        .send()
        .await
        .expect("ListObjectVersions");
    let listed: Vec<(&str, &str, bool)> = versions
        .versions()
        .iter()
        .map(|v| {
            (
                v.key().unwrap_or(""),
                v.version_id().unwrap_or(""),
                v.is_latest().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(listed, [("a", "null", true), ("dir/b", "null", true)]);
    assert!(versions.delete_markers().is_empty());
    s3.get_object()
        .bucket(&b)
        .key("a")
        .version_id("null")
        .send()
        .await
        .expect("the null version");
    let err = s3
        .get_object()
        .bucket(&b)
        .key("a")
        .version_id("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
        .send()
        .await
        .expect_err("no such version");
    assert_eq!(err.code(), Some("NoSuchVersion"));
    // A delete naming a version that does not exist leaves the object alone.
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(
            Delete::builder()
                .objects(
                    ObjectIdentifier::builder()
                        .key("a")
                        .version_id("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY")
                        .build()
                        .expect("id"),
                )
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("DeleteObjects");
    assert!(
        out.errors().is_empty(),
        "a version that is not there is deleted"
    );
    assert_eq!(out.deleted().len(), 1);
    s3.head_object()
        .bucket(&b)
        .key("a")
        .send()
        .await
        .expect("still there");
    server.stop().await;
}

/// Lifecycle rules read back as written, with the transition default S3 keeps beside them
/// (Terraform's `aws_s3_bucket_lifecycle_configuration` waits until both read back).
#[tokio::test]
async fn lifecycle_configuration_reads_back_with_its_transition_default() {
    use aws_sdk_s3::types::{
        BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
        LifecycleRuleFilter, TransitionDefaultMinimumObjectSize,
    };
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = unique("lifecycle");
    s3.create_bucket().bucket(&b).send().await.expect("bucket");
    let rule = LifecycleRule::builder()
        .id("expire-tmp")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
        .expiration(LifecycleExpiration::builder().days(7).build())
        .build()
        .expect("rule");
    let config = BucketLifecycleConfiguration::builder()
        .rules(rule)
        .build()
        .expect("config");

    // Without the header, S3's default applies and is reported on the write and the read.
    let put = s3
        .put_bucket_lifecycle_configuration()
        .bucket(&b)
        .lifecycle_configuration(config.clone())
        .send()
        .await
        .expect("put");
    assert_eq!(
        put.transition_default_minimum_object_size(),
        Some(&TransitionDefaultMinimumObjectSize::AllStorageClasses128K)
    );
    let got = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.transition_default_minimum_object_size(),
        Some(&TransitionDefaultMinimumObjectSize::AllStorageClasses128K)
    );
    let rules = got.rules();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].id(), Some("expire-tmp"));
    assert_eq!(rules[0].status(), &ExpirationStatus::Enabled);
    assert_eq!(rules[0].filter().and_then(|f| f.prefix()), Some("tmp/"));
    assert_eq!(rules[0].expiration().and_then(|e| e.days()), Some(7));

    // A chosen value is kept.
    s3.put_bucket_lifecycle_configuration()
        .bucket(&b)
        .lifecycle_configuration(config)
        .transition_default_minimum_object_size(
            TransitionDefaultMinimumObjectSize::VariesByStorageClass,
        )
        .send()
        .await
        .expect("put varies");
    let got = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("get");
    assert_eq!(
        got.transition_default_minimum_object_size(),
        Some(&TransitionDefaultMinimumObjectSize::VariesByStorageClass)
    );

    s3.delete_bucket_lifecycle()
        .bucket(&b)
        .send()
        .await
        .expect("delete");
    let err = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err.code(), Some("NoSuchLifecycleConfiguration"));
}
