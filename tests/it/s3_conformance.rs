//! S3 behaviours ceph/s3-tests checks that the other S3 modules do not: 304 answers that name
//! the object, lifecycle rule validation, empty delimiters, retried completions, and
//! Content-Encoding kept as sent.

use crate::harness::{http, unique, TestServer};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, CompletedMultipartUpload, CompletedPart, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
};
use aws_sdk_s3::Client;

fn client(server: &TestServer) -> Client {
    let conf = aws_sdk_s3::config::Builder::from(&server.sdk_config())
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

async fn bucket(s3: &Client) -> String {
    let name = unique("conf");
    s3.create_bucket()
        .bucket(&name)
        .send()
        .await
        .expect("CreateBucket");
    name
}

#[tokio::test]
async fn not_modified_answers_name_the_etag_and_last_modified() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let etag = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .body(ByteStream::from_static(b"bar"))
        .send()
        .await
        .expect("PutObject")
        .e_tag()
        .expect("etag")
        .to_string();
    let url = server.url(&format!("/{b}/k"));

    let r = http()
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 304);
    assert_eq!(
        r.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );
    let last_modified = r
        .headers()
        .get("last-modified")
        .and_then(|v| v.to_str().ok())
        .expect("Last-Modified on a 304")
        .to_string();
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");

    // If-Modified-Since at the object's own time: also 304, naming the same object.
    let r = http()
        .head(&url)
        .header("If-Modified-Since", &last_modified)
        .send()
        .await
        .expect("HEAD");
    assert_eq!(r.status(), 304);
    assert_eq!(
        r.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );

    // The SDK sees the 304 as an error whose raw response still carries the ETag.
    let err = s3
        .get_object()
        .bucket(&b)
        .key("k")
        .if_none_match(&etag)
        .send()
        .await
        .expect_err("304");
    let raw = err.raw_response().expect("raw response");
    assert_eq!(raw.status().as_u16(), 304);
    assert_eq!(raw.headers().get("etag"), Some(etag.as_str()));
}

fn rule(id: Option<&str>, prefix: &str, status: ExpirationStatus) -> LifecycleRule {
    LifecycleRule::builder()
        .set_id(id.map(String::from))
        .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
        .status(status)
        .expiration(LifecycleExpiration::builder().days(31).build())
        .build()
        .expect("rule")
}

#[tokio::test]
async fn lifecycle_rules_are_validated_and_always_named() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let put = |rules: Vec<LifecycleRule>| {
        s3.put_bucket_lifecycle_configuration()
            .bucket(&b)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .set_rules(Some(rules))
                    .build()
                    .expect("config"),
            )
            .send()
    };

    // Rules sent without an ID read back with one S3 made up, each different.
    put(vec![
        rule(None, "a/", ExpirationStatus::Enabled),
        rule(None, "b/", ExpirationStatus::Disabled),
    ])
    .await
    .expect("PutBucketLifecycleConfiguration");
    let got = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketLifecycleConfiguration");
    let ids: Vec<&str> = got.rules().iter().filter_map(|r| r.id()).collect();
    assert_eq!(ids.len(), 2, "{got:?}");
    assert!(ids.iter().all(|id| !id.is_empty()) && ids[0] != ids[1]);

    let long = "a".repeat(256);
    let err = put(vec![rule(Some(&long), "a/", ExpirationStatus::Enabled)])
        .await
        .expect_err("ID over 255 characters");
    assert_eq!(err.code(), Some("InvalidArgument"));
    assert_eq!(
        err.message(),
        Some("ID length should not exceed allowed limit of 255")
    );
    put(vec![rule(
        Some(&"a".repeat(255)),
        "a/",
        ExpirationStatus::Enabled,
    )])
    .await
    .expect("255 characters are allowed");

    let err = put(vec![
        rule(Some("same"), "a/", ExpirationStatus::Enabled),
        rule(Some("same"), "b/", ExpirationStatus::Enabled),
    ])
    .await
    .expect_err("duplicate IDs");
    assert_eq!(err.code(), Some("InvalidArgument"));

    let err = put(vec![rule(
        Some("r"),
        "a/",
        ExpirationStatus::from("enabled"),
    )])
    .await
    .expect_err("Status is case-sensitive");
    assert_eq!(err.code(), Some("MalformedXML"));
}

#[tokio::test]
async fn an_empty_delimiter_is_no_delimiter() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    for k in ["a/b", "a/c", "d"] {
        s3.put_object()
            .bucket(&b)
            .key(k)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await
            .expect("PutObject");
    }
    let v2 = s3
        .list_objects_v2()
        .bucket(&b)
        .delimiter("")
        .send()
        .await
        .expect("ListObjectsV2");
    assert_eq!(v2.delimiter(), None);
    assert_eq!(v2.contents().len(), 3);
    assert!(v2.common_prefixes().is_empty());
    let v1 = s3
        .list_objects()
        .bucket(&b)
        .delimiter("")
        .send()
        .await
        .expect("ListObjects");
    assert_eq!(v1.delimiter(), None);
    assert_eq!(v1.contents().len(), 3);
}

#[tokio::test]
async fn a_retried_completion_answers_as_the_first_did() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let upload_id = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("CreateMultipartUpload")
        .upload_id()
        .expect("upload id")
        .to_string();
    let part_etag = s3
        .upload_part()
        .bucket(&b)
        .key("mp")
        .upload_id(&upload_id)
        .part_number(1)
        .body(ByteStream::from_static(b"only part"))
        .send()
        .await
        .expect("UploadPart")
        .e_tag()
        .expect("etag")
        .to_string();
    let complete = |etag: &str| {
        s3.complete_multipart_upload()
            .bucket(&b)
            .key("mp")
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
                    .build(),
            )
            .send()
    };
    let first = complete(&part_etag).await.expect("CompleteMultipartUpload");
    let again = complete(&part_etag).await.expect("the same request again");
    assert_eq!(again.e_tag(), first.e_tag());
    assert!(first.e_tag().is_some_and(|e| e.ends_with("-1\"")));

    // Other parts than the ones that made the object: the upload is gone.
    let err = complete("\"0123456789abcdef0123456789abcdef\"")
        .await
        .expect_err("different parts");
    assert_eq!(err.code(), Some("NoSuchUpload"));

    // Once another write replaces the object, the retry no longer matches either.
    s3.put_object()
        .bucket(&b)
        .key("mp")
        .body(ByteStream::from_static(b"new"))
        .send()
        .await
        .expect("PutObject");
    let err = complete(&part_etag).await.expect_err("object replaced");
    assert_eq!(err.code(), Some("NoSuchUpload"));
}

#[tokio::test]
async fn content_encoding_reads_back_as_sent_without_aws_chunked() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    // The SDK's default CRC trailer makes these aws-chunked bodies, which adds that coding.
    for (sent, stored) in [
        ("deflate, gzip", Some("deflate, gzip")),
        ("gzip", Some("gzip")),
        ("aws-chunked", None),
    ] {
        s3.put_object()
            .bucket(&b)
            .key("enc")
            .content_encoding(sent)
            .body(ByteStream::from_static(b"body"))
            .send()
            .await
            .expect("PutObject");
        let head = s3
            .head_object()
            .bucket(&b)
            .key("enc")
            .send()
            .await
            .expect("HeadObject");
        assert_eq!(head.content_encoding(), stored, "sent {sent:?}");
    }
}

#[tokio::test]
async fn a_part_read_names_the_parts_own_checksum() {
    use aws_sdk_s3::types::{ChecksumAlgorithm, ChecksumMode, ChecksumType};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let upload_id = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await
        .expect("CreateMultipartUpload")
        .upload_id()
        .expect("upload id")
        .to_string();
    let bodies = [vec![b'a'; 5 * 1024 * 1024], b"tail".to_vec()];
    let mut parts = Vec::new();
    for (i, body) in bodies.iter().enumerate() {
        let n = i as i32 + 1;
        let r = s3
            .upload_part()
            .bucket(&b)
            .key("mp")
            .upload_id(&upload_id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .expect("UploadPart");
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(r.e_tag().expect("etag"))
                .checksum_sha256(r.checksum_sha256().expect("part checksum"))
                .build(),
        );
    }
    let part_sums: Vec<String> = parts
        .iter()
        .map(|p| p.checksum_sha256().expect("sum").to_string())
        .collect();
    s3.complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");

    for (n, sum) in [(1, &part_sums[0]), (2, &part_sums[1])] {
        let got = s3
            .get_object()
            .bucket(&b)
            .key("mp")
            .part_number(n)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("GetObject partNumber");
        assert_eq!(got.checksum_sha256(), Some(sum.as_str()), "part {n}");
        assert_eq!(got.checksum_type(), Some(&ChecksumType::Composite));
        assert_eq!(got.parts_count(), Some(2));
        let head = s3
            .head_object()
            .bucket(&b)
            .key("mp")
            .part_number(n)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await
            .expect("HeadObject partNumber");
        assert_eq!(head.checksum_sha256(), Some(sum.as_str()), "part {n}");
    }
    // Without checksum mode, no checksum; a plain range still names none.
    let head = s3
        .head_object()
        .bucket(&b)
        .key("mp")
        .part_number(1)
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(head.checksum_sha256(), None);
    let ranged = s3
        .get_object()
        .bucket(&b)
        .key("mp")
        .range("bytes=0-9")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .expect("ranged GET");
    assert_eq!(ranged.checksum_sha256(), None);
}

#[tokio::test]
async fn governance_retention_changes_mode_only_with_the_bypass() {
    use aws_sdk_s3::primitives::DateTime;
    use aws_sdk_s3::types::{ObjectLockMode, ObjectLockRetention, ObjectLockRetentionMode};
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = unique("lock");
    s3.create_bucket()
        .bucket(&b)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("CreateBucket with Object Lock");
    let in_secs = |s: i64| DateTime::from_secs(chrono::Utc::now().timestamp() + s);
    s3.put_object()
        .bucket(&b)
        .key("k")
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(in_secs(3600))
        .body(ByteStream::from_static(b"abc"))
        .send()
        .await
        .expect("PutObject under GOVERNANCE");
    let retention = |mode: ObjectLockRetentionMode, secs: i64| {
        ObjectLockRetention::builder()
            .mode(mode)
            .retain_until_date(in_secs(secs))
            .build()
    };

    // Extending in the same mode needs nothing.
    s3.put_object_retention()
        .bucket(&b)
        .key("k")
        .retention(retention(ObjectLockRetentionMode::Governance, 7200))
        .send()
        .await
        .expect("extend GOVERNANCE");
    // Another mode is a change GOVERNANCE only allows with the bypass.
    let err = s3
        .put_object_retention()
        .bucket(&b)
        .key("k")
        .retention(retention(ObjectLockRetentionMode::Compliance, 7200))
        .send()
        .await
        .expect_err("GOVERNANCE to COMPLIANCE without bypass");
    assert_eq!(err.code(), Some("AccessDenied"));
    s3.put_object_retention()
        .bucket(&b)
        .key("k")
        .bypass_governance_retention(true)
        .retention(retention(ObjectLockRetentionMode::Compliance, 7200))
        .send()
        .await
        .expect("GOVERNANCE to COMPLIANCE with bypass");
    // COMPLIANCE yields to nothing.
    let err = s3
        .put_object_retention()
        .bucket(&b)
        .key("k")
        .bypass_governance_retention(true)
        .retention(retention(ObjectLockRetentionMode::Governance, 7200))
        .send()
        .await
        .expect_err("COMPLIANCE to GOVERNANCE");
    assert_eq!(err.code(), Some("AccessDenied"));
    let got = s3
        .get_object_retention()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("GetObjectRetention");
    assert_eq!(
        got.retention().and_then(|r| r.mode()),
        Some(&ObjectLockRetentionMode::Compliance)
    );
}

/// A lifecycle Date names a day: S3 takes it in any offset when it falls on midnight UTC and
/// refuses any other instant.
#[tokio::test]
async fn lifecycle_dates_must_fall_on_midnight_utc() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = bucket(&s3).await;
    let put = |date: &str| {
        let xml = format!(
            "<LifecycleConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Rule>\
             <ID>r</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>\
             <Expiration><Date>{date}</Date></Expiration></Rule></LifecycleConfiguration>"
        );
        http()
            .put(server.url(&format!("/{b}?lifecycle")))
            .body(xml)
            .send()
    };
    for ok in [
        "2024-01-08T00:00:00Z",
        "2024-01-08T00:00:00",
        "2024-01-08T06:00:00+06:00",
    ] {
        let resp = put(ok).await.expect("PUT lifecycle");
        assert_eq!(
            resp.status(),
            200,
            "{ok}: {}",
            resp.text().await.unwrap_or_default()
        );
    }
    for late in ["2024-01-08T12:34:56Z", "2024-01-08T00:00:00.123Z"] {
        let resp = put(late).await.expect("PUT lifecycle");
        assert_eq!(resp.status(), 400, "{late}");
        let text = resp.text().await.expect("body");
        assert!(
            text.contains("<Code>InvalidArgument</Code>"),
            "{late}: {text}"
        );
        assert!(
            text.contains("Date&apos; must be at midnight GMT"),
            "{late}: {text}"
        );
        // No argument is named: the elements are left out, not sent empty.
        assert!(!text.contains("<ArgumentName>"), "{late}: {text}");
    }
    let resp = put("2024-01-08T00:00:00+34:00")
        .await
        .expect("PUT lifecycle");
    assert_eq!(resp.status(), 400, "an offset past 24 hours");

    // A transition's Date is held to the same rule, through the SDK as a user sends it.
    let transition = |secs: i64| {
        LifecycleRule::builder()
            .id("t")
            .filter(LifecycleRuleFilter::builder().prefix("t/").build())
            .status(ExpirationStatus::Enabled)
            .transitions(
                aws_sdk_s3::types::Transition::builder()
                    .date(aws_sdk_s3::primitives::DateTime::from_secs(secs))
                    .storage_class(aws_sdk_s3::types::TransitionStorageClass::Glacier)
                    .build(),
            )
            .build()
            .expect("rule")
    };
    let put_rule = |rule: LifecycleRule| {
        s3.put_bucket_lifecycle_configuration()
            .bucket(&b)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(rule)
                    .build()
                    .expect("config"),
            )
            .send()
    };
    let err = put_rule(transition(1_704_700_000))
        .await
        .expect_err("a transition at 07:46 UTC");
    assert_eq!(err.code(), Some("InvalidArgument"));
    put_rule(transition(1_704_672_000))
        .await
        .expect("a transition at midnight UTC");
    let got = s3
        .get_bucket_lifecycle_configuration()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketLifecycleConfiguration");
    let date = got.rules()[0].transitions()[0].date().expect("date");
    assert_eq!(date.secs(), 1_704_672_000);
}
