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
