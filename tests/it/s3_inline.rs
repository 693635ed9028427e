//! Small objects (up to 64 KiB) are kept in the database with their row instead of in a file:
//! every read and copy path serves them like any other object, and an acknowledged PUT or
//! DELETE of one survives `kill -9`.

use crate::harness::{http, unique, TestServer};
use crate::persistence::spawn_binary;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumMode, CompletedMultipartUpload, CompletedPart, ObjectAttributes};
use aws_sdk_s3::Client;
use std::time::{Duration, Instant};

fn client(server: &TestServer) -> Client {
    let conf = aws_sdk_s3::config::Builder::from(&server.sdk_config())
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

fn client_on(port: u16) -> Client {
    let conf = aws_sdk_s3::Config::builder()
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "t",
        ))
        .force_path_style(true)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .build();
    Client::from_conf(conf)
}

async fn bucket(s3: &Client) -> String {
    let b = unique("inline");
    s3.create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("CreateBucket");
    b
}

async fn put(s3: &Client, b: &str, k: &str, body: Vec<u8>) -> String {
    s3.put_object()
        .bucket(b)
        .key(k)
        .body(ByteStream::from(body))
        .send()
        .await
        .expect("PutObject")
        .e_tag()
        .unwrap_or_default()
        .to_string()
}

async fn get(s3: &Client, b: &str, k: &str) -> Vec<u8> {
    s3.get_object()
        .bucket(b)
        .key(k)
        .send()
        .await
        .expect("GetObject")
        .body
        .collect()
        .await
        .expect("body")
        .to_vec()
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

fn body_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("objects"))
        .expect("objects dir")
        .flatten()
        .filter(|e| e.file_name() != "tmp" && e.path().is_dir())
        .map(|e| std::fs::read_dir(e.path()).map(|d| d.count()).unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn small_objects_read_ranges_parts_attributes_and_checksums() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let data = pattern(1000);
    put(&s3, &b, "small", data.clone()).await;
    assert_eq!(get(&s3, &b, "small").await, data);

    let ranged = s3
        .get_object()
        .bucket(&b)
        .key("small")
        .range("bytes=10-19")
        .send()
        .await
        .expect("ranged GET");
    assert_eq!(ranged.content_range(), Some("bytes 10-19/1000"));
    assert_eq!(
        ranged.body.collect().await.expect("body").to_vec(),
        data[10..20]
    );
    let suffix = s3
        .get_object()
        .bucket(&b)
        .key("small")
        .range("bytes=-5")
        .send()
        .await
        .expect("suffix GET");
    assert_eq!(
        suffix.body.collect().await.expect("body").to_vec(),
        data[995..]
    );
    let part = s3
        .get_object()
        .bucket(&b)
        .key("small")
        .part_number(1)
        .send()
        .await
        .expect("partNumber GET");
    assert_eq!(part.body.collect().await.expect("body").to_vec(), data);
    let beyond = http()
        .get(server.url(&format!("/{b}/small")))
        .header("range", "bytes=1000-")
        .send()
        .await
        .expect("GET");
    assert_eq!(beyond.status().as_u16(), 416);

    let head = s3
        .head_object()
        .bucket(&b)
        .key("small")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.content_length(), Some(1000));
    assert!(head.checksum_crc32().is_some() || head.checksum_crc64_nvme().is_some());
    let attrs = s3
        .get_object_attributes()
        .bucket(&b)
        .key("small")
        .object_attributes(ObjectAttributes::ObjectSize)
        .object_attributes(ObjectAttributes::Etag)
        .send()
        .await
        .expect("GetObjectAttributes");
    assert_eq!(attrs.object_size(), Some(1000));

    // An empty object and one exactly at the threshold are small too.
    put(&s3, &b, "empty", Vec::new()).await;
    assert!(get(&s3, &b, "empty").await.is_empty());
    let at = pattern(64 * 1024);
    put(&s3, &b, "at-threshold", at.clone()).await;
    assert_eq!(get(&s3, &b, "at-threshold").await, at);
    server.stop().await;
}

#[tokio::test]
async fn copies_from_small_sources_and_bodies_without_a_length() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let data = pattern(3000);
    let etag = put(&s3, &b, "src", data.clone()).await;

    let copied = s3
        .copy_object()
        .bucket(&b)
        .key("copy")
        .copy_source(format!("{b}/src"))
        .send()
        .await
        .expect("CopyObject");
    assert_eq!(
        copied.copy_object_result().and_then(|r| r.e_tag()),
        Some(etag.as_str())
    );
    assert_eq!(get(&s3, &b, "copy").await, data);
    // Overwriting the source leaves the copy alone.
    put(&s3, &b, "src", b"new".to_vec()).await;
    assert_eq!(get(&s3, &b, "copy").await, data);

    // A multipart upload whose part is copied from a small object (parts stay files).
    let up = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("assembled")
        .send()
        .await
        .expect("CreateMultipartUpload");
    let id = up.upload_id().expect("upload id");
    let part = s3
        .upload_part_copy()
        .bucket(&b)
        .key("assembled")
        .upload_id(id)
        .part_number(1)
        .copy_source(format!("{b}/copy"))
        .copy_source_range("bytes=100-199")
        .send()
        .await
        .expect("UploadPartCopy");
    let part_etag = part
        .copy_part_result()
        .and_then(|r| r.e_tag())
        .expect("part etag")
        .to_string();
    s3.complete_multipart_upload()
        .bucket(&b)
        .key("assembled")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part_etag)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    assert_eq!(get(&s3, &b, "assembled").await, data[100..200]);

    server.stop().await;
}

async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = format!("http://127.0.0.1:{port}/_cloudemu/health");
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(&url).await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("server on port {port} did not become healthy");
}

#[tokio::test]
async fn acknowledged_small_puts_and_deletes_survive_kill_9() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, port) = spawn_binary(dir.path());
    wait_healthy(port).await;
    let s3 = client_on(port);
    let b = bucket(&s3).await;
    for i in 0..20 {
        put(&s3, &b, &format!("k{i}"), pattern(100 + i)).await;
    }
    put(&s3, &b, "k0", b"overwritten".to_vec()).await;
    s3.delete_object()
        .bucket(&b)
        .key("k1")
        .send()
        .await
        .expect("DeleteObject");
    // Versions of a small object are small too.
    s3.put_bucket_versioning()
        .bucket(&b)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("PutBucketVersioning");
    let v1 = s3
        .put_object()
        .bucket(&b)
        .key("v")
        .body(ByteStream::from_static(b"first"))
        .send()
        .await
        .expect("PutObject")
        .version_id()
        .expect("version")
        .to_string();
    put(&s3, &b, "v", b"second".to_vec()).await;
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    assert_eq!(body_files(dir.path()), 0, "small bodies write no files");

    let (mut child, port) = spawn_binary(dir.path());
    wait_healthy(port).await;
    let s3 = client_on(port);
    assert_eq!(get(&s3, &b, "k0").await, b"overwritten");
    for i in 2..20 {
        assert_eq!(get(&s3, &b, &format!("k{i}")).await, pattern(100 + i));
    }
    let gone = s3.get_object().bucket(&b).key("k1").send().await;
    assert!(gone.is_err(), "the deleted object stays deleted");
    assert_eq!(get(&s3, &b, "v").await, b"second");
    let old = s3
        .get_object()
        .bucket(&b)
        .key("v")
        .version_id(&v1)
        .send()
        .await
        .expect("GetObject by version");
    assert_eq!(old.body.collect().await.expect("body").to_vec(), b"first");
    // Deleting the old version by id, then the current one, leaves the key empty.
    s3.delete_object()
        .bucket(&b)
        .key("v")
        .version_id(&v1)
        .send()
        .await
        .expect("delete v1");
    let old = s3
        .get_object()
        .bucket(&b)
        .key("v")
        .version_id(&v1)
        .send()
        .await;
    assert!(old.is_err());
    child.kill().expect("stop");
    child.wait().expect("reaped");
}
