//! S3 ACL writes and Object Lock through the AWS SDK for Rust: canned ACLs, grant headers and
//! AccessControlPolicy bodies stored and read back; the refusals of buckets with ACLs disabled;
//! retention, legal holds, default retention and the deletes they refuse.

use crate::harness::{unique, TestServer};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AccessControlPolicy, BucketCannedAcl, Grant, Grantee, ObjectCannedAcl, ObjectOwnership, Owner,
    Permission, PublicAccessBlockConfiguration, Type,
};
use aws_sdk_s3::Client;

fn client(server: &TestServer) -> Client {
    let conf = aws_sdk_s3::config::Builder::from(&server.sdk_config())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .force_path_style(true)
        .build();
    Client::from_conf(conf)
}

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";

/// A bucket that takes ACLs, public ones included (ObjectWriter, public access unblocked).
async fn acl_bucket(s3: &Client) -> String {
    let b = unique("acl");
    s3.create_bucket()
        .bucket(&b)
        .object_ownership(ObjectOwnership::ObjectWriter)
        .send()
        .await
        .expect("CreateBucket");
    s3.put_public_access_block()
        .bucket(&b)
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(false)
                .ignore_public_acls(false)
                .block_public_policy(false)
                .restrict_public_buckets(false)
                .build(),
        )
        .send()
        .await
        .expect("PutPublicAccessBlock");
    b
}

fn grants(g: &[Grant]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = g
        .iter()
        .map(|g| {
            let who = g
                .grantee()
                .map(|e| e.uri().or(e.id()).unwrap_or("").to_string())
                .unwrap_or_default();
            (
                who,
                g.permission()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
async fn acls_are_stored_and_returned() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = acl_bucket(&s3).await;
    let owner = s3
        .get_bucket_acl()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketAcl")
        .owner()
        .and_then(|o| o.id())
        .expect("owner")
        .to_string();

    // A canned ACL on the bucket.
    s3.put_bucket_acl()
        .bucket(&b)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .expect("PutBucketAcl canned");
    let acl = s3
        .get_bucket_acl()
        .bucket(&b)
        .send()
        .await
        .expect("GetBucketAcl");
    assert_eq!(
        grants(acl.grants()),
        [
            (owner.clone(), "FULL_CONTROL".into()),
            (ALL_USERS.into(), "READ".into())
        ]
    );

    // x-amz-acl on PutObject, then an AccessControlPolicy body replacing it.
    s3.put_object()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::PublicReadWrite)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("PutObject with ACL");
    let acl = s3
        .get_object_acl()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("GetObjectAcl");
    assert_eq!(acl.grants().len(), 3);
    let policy = AccessControlPolicy::builder()
        .owner(Owner::builder().id(&owner).build())
        .grants(
            Grant::builder()
                .grantee(
                    Grantee::builder()
                        .r#type(Type::CanonicalUser)
                        .id("1234abcd")
                        .build()
                        .expect("grantee"),
                )
                .permission(Permission::ReadAcp)
                .build(),
        )
        .build();
    s3.put_object_acl()
        .bucket(&b)
        .key("k")
        .access_control_policy(policy)
        .send()
        .await
        .expect("PutObjectAcl body");
    let acl = s3
        .get_object_acl()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("GetObjectAcl");
    assert_eq!(
        grants(acl.grants()),
        [("1234abcd".into(), "READ_ACP".into())]
    );

    // Grant headers.
    s3.put_object_acl()
        .bucket(&b)
        .key("k")
        .grant_read(format!("uri=\"{ALL_USERS}\""))
        .grant_full_control(format!("id=\"{owner}\""))
        .send()
        .await
        .expect("PutObjectAcl grant headers");
    let acl = s3
        .get_object_acl()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("GetObjectAcl");
    assert_eq!(
        grants(acl.grants()),
        [
            (owner.clone(), "FULL_CONTROL".into()),
            (ALL_USERS.into(), "READ".into())
        ]
    );

    // A canned ACL and grant headers together are refused; so is an unknown object.
    let err = s3
        .put_object_acl()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::Private)
        .grant_read("id=\"x\"")
        .send()
        .await
        .expect_err("both");
    assert_eq!(err.code(), Some("InvalidRequest"));
    let err = s3
        .put_object_acl()
        .bucket(&b)
        .key("missing")
        .acl(ObjectCannedAcl::Private)
        .send()
        .await
        .expect_err("no such key");
    assert_eq!(err.code(), Some("NoSuchKey"));
    server.stop().await;
}

#[tokio::test]
async fn buckets_with_acls_disabled_refuse_them() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    // New buckets are BucketOwnerEnforced: no ACL but the owner's.
    let b = unique("acl-off");
    let err = s3
        .create_bucket()
        .bucket(&b)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .expect_err("ACLs disabled");
    assert_eq!(err.code(), Some("InvalidBucketAclWithObjectOwnership"));
    s3.create_bucket()
        .bucket(&b)
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .expect("private is fine");
    let err = s3
        .put_bucket_acl()
        .bucket(&b)
        .acl(BucketCannedAcl::AuthenticatedRead)
        .send()
        .await
        .expect_err("ACLs disabled");
    assert_eq!(err.code(), Some("AccessControlListNotSupported"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    let err = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect_err("ACLs disabled");
    assert_eq!(err.code(), Some("AccessControlListNotSupported"));
    s3.put_object()
        .bucket(&b)
        .key("k")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("bucket-owner-full-control is what enforced buckets expect");

    // ACLs enabled but public access blocked (the default): public ACLs are denied.
    let b2 = unique("acl-block");
    s3.create_bucket()
        .bucket(&b2)
        .object_ownership(ObjectOwnership::ObjectWriter)
        .send()
        .await
        .expect("CreateBucket");
    let err = s3
        .put_bucket_acl()
        .bucket(&b2)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .expect_err("public ACLs blocked");
    assert_eq!(err.code(), Some("AccessDenied"));
    server.stop().await;
}

/// An enabled Object Lock configuration with a default retention rule.
fn default_retention(
    mode: aws_sdk_s3::types::ObjectLockRetentionMode,
    days: Option<i32>,
    years: Option<i32>,
) -> aws_sdk_s3::types::ObjectLockConfiguration {
    use aws_sdk_s3::types::{
        DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRule,
    };
    ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .rule(
            ObjectLockRule::builder()
                .default_retention(
                    DefaultRetention::builder()
                        .mode(mode)
                        .set_days(days)
                        .set_years(years)
                        .build(),
                )
                .build(),
        )
        .build()
}

#[tokio::test]
async fn object_lock_retention_legal_hold_and_deletes() {
    use aws_sdk_s3::primitives::DateTime;
    use aws_sdk_s3::types::{
        BucketVersioningStatus, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockLegalHold,
        ObjectLockLegalHoldStatus, ObjectLockMode, ObjectLockRetention, ObjectLockRetentionMode,
        VersioningConfiguration,
    };
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let later = DateTime::from_secs(now + 3600);
    let b = unique("lock");
    s3.create_bucket()
        .bucket(&b)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("CreateBucket with Object Lock");

    // Retention set by headers, read back by GetObjectRetention and on HEAD.
    let v = s3
        .put_object()
        .bucket(&b)
        .key("k")
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(later)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("PutObject with retention")
        .version_id()
        .map(str::to_string)
        .expect("versioned");
    let r = s3
        .get_object_retention()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("GetObjectRetention");
    let r = r.retention().expect("retention");
    assert_eq!(r.mode().map(|m| m.as_str()), Some("GOVERNANCE"));
    assert_eq!(r.retain_until_date().map(|d| d.secs()), Some(now + 3600));
    let head = s3
        .head_object()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("GOVERNANCE")
    );

    // A GOVERNANCE version cannot be deleted without the bypass header; a marker is fine.
    let err = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&v)
        .send()
        .await
        .expect_err("locked");
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(403));
    // Shortening it needs the bypass too.
    let shorter = ObjectLockRetention::builder()
        .mode(ObjectLockRetentionMode::Governance)
        .retain_until_date(DateTime::from_secs(now + 60))
        .build();
    let err = s3
        .put_object_retention()
        .bucket(&b)
        .key("k")
        .retention(shorter.clone())
        .send()
        .await
        .expect_err("shorter");
    assert_eq!(err.code(), Some("AccessDenied"));
    s3.put_object_retention()
        .bucket(&b)
        .key("k")
        .retention(shorter)
        .bypass_governance_retention(true)
        .send()
        .await
        .expect("shorter with bypass");

    // A legal hold blocks even the bypass.
    s3.put_object_legal_hold()
        .bucket(&b)
        .key("k")
        .legal_hold(
            ObjectLockLegalHold::builder()
                .status(ObjectLockLegalHoldStatus::On)
                .build(),
        )
        .send()
        .await
        .expect("PutObjectLegalHold");
    let hold = s3
        .get_object_legal_hold()
        .bucket(&b)
        .key("k")
        .send()
        .await
        .expect("GetObjectLegalHold");
    assert_eq!(
        hold.legal_hold()
            .and_then(|h| h.status())
            .map(|s| s.as_str()),
        Some("ON")
    );
    let err = s3
        .delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&v)
        .bypass_governance_retention(true)
        .send()
        .await
        .expect_err("held");
    assert_eq!(err.code(), Some("AccessDenied"));
    s3.put_object_legal_hold()
        .bucket(&b)
        .key("k")
        .legal_hold(
            ObjectLockLegalHold::builder()
                .status(ObjectLockLegalHoldStatus::Off)
                .build(),
        )
        .send()
        .await
        .expect("release");
    s3.delete_object()
        .bucket(&b)
        .key("k")
        .version_id(&v)
        .bypass_governance_retention(true)
        .send()
        .await
        .expect("bypassed");

    // A default retention period of zero is refused as AWS words it.
    for (days, years) in [(Some(0), None), (None, Some(0))] {
        let err = s3
            .put_object_lock_configuration()
            .bucket(&b)
            .object_lock_configuration(default_retention(
                ObjectLockRetentionMode::Governance,
                days,
                years,
            ))
            .send()
            .await
            .expect_err("a zero retention period");
        assert_eq!(err.code(), Some("InvalidArgument"));
        assert_eq!(
            err.message(),
            Some("Default retention period must be a positive integer value.")
        );
    }

    // Default retention applies to new versions; COMPLIANCE yields to nothing.
    s3.put_object_lock_configuration()
        .bucket(&b)
        .object_lock_configuration(default_retention(
            ObjectLockRetentionMode::Compliance,
            Some(1),
            None,
        ))
        .send()
        .await
        .expect("PutObjectLockConfiguration");
    let v2 = s3
        .put_object()
        .bucket(&b)
        .key("c")
        .body(ByteStream::from_static(b"y"))
        .send()
        .await
        .expect("PutObject")
        .version_id()
        .map(str::to_string)
        .expect("versioned");
    let r = s3
        .get_object_retention()
        .bucket(&b)
        .key("c")
        .send()
        .await
        .expect("default retention");
    assert_eq!(
        r.retention().and_then(|r| r.mode()).map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
    let err = s3
        .delete_object()
        .bucket(&b)
        .key("c")
        .version_id(&v2)
        .bypass_governance_retention(true)
        .send()
        .await
        .expect_err("compliance");
    assert_eq!(err.code(), Some("AccessDenied"));
    // Deleting without a version id only adds a marker.
    s3.delete_object()
        .bucket(&b)
        .key("c")
        .send()
        .await
        .expect("marker");

    // Buckets without Object Lock refuse lock requests; it needs versioning to be turned on.
    let plain = unique("nolock");
    s3.create_bucket()
        .bucket(&plain)
        .send()
        .await
        .expect("CreateBucket");
    s3.put_object()
        .bucket(&plain)
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .expect("PutObject");
    let err = s3
        .get_object_retention()
        .bucket(&plain)
        .key("k")
        .send()
        .await
        .expect_err("no lock");
    assert_eq!(err.code(), Some("InvalidRequest"));
    let enable = ObjectLockConfiguration::builder()
        .object_lock_enabled(ObjectLockEnabled::Enabled)
        .build();
    let err = s3
        .put_object_lock_configuration()
        .bucket(&plain)
        .object_lock_configuration(enable.clone())
        .send()
        .await
        .expect_err("unversioned");
    assert_eq!(err.code(), Some("InvalidBucketState"));
    s3.put_bucket_versioning()
        .bucket(&plain)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("PutBucketVersioning");
    s3.put_object_lock_configuration()
        .bucket(&plain)
        .object_lock_configuration(enable)
        .send()
        .await
        .expect("now it can");
    let err = s3
        .get_object_legal_hold()
        .bucket(&plain)
        .key("k")
        .send()
        .await
        .expect_err("never set");
    assert_eq!(err.code(), Some("NoSuchObjectLockConfiguration"));
    server.stop().await;
}

/// Body files under the data dir (the object store fans out into two-character folders).
fn body_files(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for fan in std::fs::read_dir(dir.join("objects"))
        .expect("objects dir")
        .flatten()
    {
        if fan.file_name() == "tmp" || !fan.path().is_dir() {
            continue;
        }
        for f in std::fs::read_dir(fan.path())
            .expect("fan-out dir")
            .flatten()
        {
            out.push(f.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn a_restart_sweeps_orphaned_and_temporary_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::disk_at(dir.path()).await;
    let s3 = client(&server);
    let b = unique("sweep");
    s3.create_bucket()
        .bucket(&b)
        .send()
        .await
        .expect("CreateBucket");
    s3.put_object()
        .bucket(&b)
        .key("kept")
        // Above the inline threshold (64 KiB): this body is a file.
        .body(ByteStream::from(vec![b'k'; 70 * 1024]))
        .send()
        .await
        .expect("PutObject");
    server.stop().await;
    let live = body_files(dir.path());
    assert_eq!(live.len(), 1);

    // What a crash leaves: a body renamed into place whose row never committed, and a
    // half-written temp file.
    let orphan = "ab".to_string() + &"0".repeat(30);
    std::fs::create_dir_all(dir.path().join("objects/ab")).expect("fan-out dir");
    std::fs::write(dir.path().join("objects/ab").join(&orphan), b"orphan").expect("plant");
    std::fs::write(dir.path().join("objects/tmp/upload.part"), b"half").expect("plant");
    assert_eq!(body_files(dir.path()).len(), 2);

    let server = TestServer::disk_at(dir.path()).await;
    assert_eq!(
        body_files(dir.path()),
        live,
        "the orphan is gone, the live body kept"
    );
    let tmp_left = std::fs::read_dir(dir.path().join("objects/tmp"))
        .expect("tmp")
        .count();
    assert_eq!(tmp_left, 0);
    let s3 = client(&server);
    let got = s3
        .get_object()
        .bucket(&b)
        .key("kept")
        .send()
        .await
        .expect("GetObject");
    let body = got.body.collect().await.expect("body").to_vec();
    assert_eq!(body, vec![b'k'; 70 * 1024]);
    server.stop().await;
}

#[tokio::test]
async fn multipart_uploads_keep_their_lock_and_batch_deletes_name_the_locked_version() {
    use aws_sdk_s3::primitives::DateTime;
    use aws_sdk_s3::types::{
        CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier,
        ObjectLockLegalHoldStatus,
    };
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = unique("lock-mp");
    s3.create_bucket()
        .bucket(&b)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("CreateBucket with Object Lock");
    let later = DateTime::from_secs(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64
            + 3600,
    );
    let up = s3
        .create_multipart_upload()
        .bucket(&b)
        .key("mp")
        .object_lock_mode(aws_sdk_s3::types::ObjectLockMode::Compliance)
        .object_lock_retain_until_date(later)
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .send()
        .await
        .expect("CreateMultipartUpload with a lock");
    let id = up.upload_id().unwrap_or("").to_string();
    let part = s3
        .upload_part()
        .bucket(&b)
        .key("mp")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(b"only part"))
        .send()
        .await
        .expect("UploadPart");
    let done = s3
        .complete_multipart_upload()
        .bucket(&b)
        .key("mp")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .set_e_tag(part.e_tag().map(str::to_string))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CompleteMultipartUpload");
    let v = done.version_id().expect("versioned").to_string();
    let head = s3
        .head_object()
        .bucket(&b)
        .key("mp")
        .send()
        .await
        .expect("HeadObject");
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
    assert_eq!(
        head.object_lock_legal_hold_status().map(|s| s.as_str()),
        Some("ON")
    );
    let out = s3
        .delete_objects()
        .bucket(&b)
        .delete(
            Delete::builder()
                .objects(
                    ObjectIdentifier::builder()
                        .key("mp")
                        .version_id(&v)
                        .build()
                        .expect("id"),
                )
                .build()
                .expect("delete"),
        )
        .send()
        .await
        .expect("DeleteObjects");
    assert!(out.deleted().is_empty());
    let err = out.errors().first().expect("refused");
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(err.version_id(), Some(v.as_str()));
    server.stop().await;
}
