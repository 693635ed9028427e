//! Block Public Access: with BlockPublicPolicy on (the default on new buckets), a public
//! bucket policy is refused with 403 AccessDenied and nothing is stored; non-public policies
//! (named principals, or everyone pinned by a fixed limiting condition) are taken.
//! GetBucketPolicyStatus reports whether the attached policy is public.

use crate::harness::{unique, TestServer};
use crate::s3::client;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use aws_sdk_s3::Client;

fn policy(b: &str, principal: &str, condition: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"s","Effect":"Allow","Principal":{principal},"Action":"s3:GetObject","Resource":"arn:aws:s3:::{b}/*"{condition}}}]}}"#
    )
}

/// PutBucketPolicy; `Err((status, code, message))` when refused.
async fn put_policy(s3: &Client, b: &str, p: &str) -> Result<(), (u16, String, String)> {
    match s3.put_bucket_policy().bucket(b).policy(p).send().await {
        Ok(_) => Ok(()),
        Err(e) => Err((
            e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0),
            e.code().unwrap_or_default().to_string(),
            e.message().unwrap_or_default().to_string(),
        )),
    }
}

async fn is_public(s3: &Client, b: &str) -> Option<bool> {
    let out = s3
        .get_bucket_policy_status()
        .bucket(b)
        .send()
        .await
        .expect("GetBucketPolicyStatus");
    out.policy_status().and_then(|s| s.is_public())
}

async fn stored_policy(s3: &Client, b: &str) -> Option<String> {
    match s3.get_bucket_policy().bucket(b).send().await {
        Ok(out) => out.policy().map(str::to_string),
        Err(e) => {
            assert_eq!(e.code(), Some("NoSuchBucketPolicy"), "{e:?}");
            None
        }
    }
}

fn block(policy: bool) -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .ignore_public_acls(true)
        .block_public_policy(policy)
        .restrict_public_buckets(true)
        .build()
}

#[tokio::test]
async fn block_public_policy_refuses_public_policies() {
    let server = TestServer::memory().await;
    let s3 = client(&server);
    let b = unique("pub");
    s3.create_bucket().bucket(&b).send().await.expect("bucket");

    // No policy yet: GetBucketPolicyStatus says so as GetBucketPolicy does.
    let err = s3
        .get_bucket_policy_status()
        .bucket(&b)
        .send()
        .await
        .expect_err("no policy");
    assert_eq!(err.code(), Some("NoSuchBucketPolicy"));

    // A new bucket blocks public policies: everyone, as "*" or {"AWS": "*"}, with no
    // condition or a loose one, is refused and nothing is stored.
    for (principal, condition) in [
        (r#""*""#, ""),
        (r#"{"AWS":"*"}"#, ""),
        (r#"{"AWS":["arn:aws:iam::111122223333:root","*"]}"#, ""),
        (
            r#""*""#,
            r#","Condition":{"StringLike":{"aws:SourceVpc":"vpc-*"}}"#,
        ),
        (
            r#""*""#,
            r#","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}"#,
        ),
        (
            r#""*""#,
            r#","Condition":{"Bool":{"aws:SecureTransport":"true"}}"#,
        ),
    ] {
        let p = policy(&b, principal, condition);
        let (status, code, message) = put_policy(&s3, &b, &p).await.expect_err(&p);
        assert_eq!((status, code.as_str()), (403, "AccessDenied"), "{p}");
        assert_eq!(message, "Access Denied");
        assert_eq!(stored_policy(&s3, &b).await, None, "{p}");
    }

    // Not public: named principals, or everyone pinned to fixed values of a limiting key.
    for (principal, condition) in [
        (r#"{"AWS":"arn:aws:iam::111122223333:root"}"#, ""),
        (r#"{"Service":"cloudtrail.amazonaws.com"}"#, ""),
        (
            r#""*""#,
            r#","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-91237329"}}"#,
        ),
        (
            r#"{"AWS":"*"}"#,
            r#","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}"#,
        ),
        (
            r#""*""#,
            r#","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}"#,
        ),
    ] {
        let p = policy(&b, principal, condition);
        put_policy(&s3, &b, &p).await.expect(&p);
        assert_eq!(stored_policy(&s3, &b).await.as_deref(), Some(p.as_str()));
        assert_eq!(is_public(&s3, &b).await, Some(false), "{p}");
    }

    // With BlockPublicPolicy off (other settings on), a public policy is taken and reported.
    s3.put_public_access_block()
        .bucket(&b)
        .public_access_block_configuration(block(false))
        .send()
        .await
        .expect("PutPublicAccessBlock");
    let public = policy(&b, r#""*""#, "");
    put_policy(&s3, &b, &public).await.expect("public policy");
    assert_eq!(is_public(&s3, &b).await, Some(true));

    // Turning it back on is accepted and leaves the attached policy as it is; only new
    // public policies are refused.
    s3.put_public_access_block()
        .bucket(&b)
        .public_access_block_configuration(block(true))
        .send()
        .await
        .expect("PutPublicAccessBlock with a public policy attached");
    assert_eq!(
        stored_policy(&s3, &b).await.as_deref(),
        Some(public.as_str())
    );
    assert_eq!(is_public(&s3, &b).await, Some(true));
    let again = policy(&b, r#"{"AWS":"*"}"#, "");
    let (status, code, _) = put_policy(&s3, &b, &again).await.expect_err("blocked");
    assert_eq!((status, code.as_str()), (403, "AccessDenied"));
    assert_eq!(
        stored_policy(&s3, &b).await.as_deref(),
        Some(public.as_str())
    );

    // Without any PublicAccessBlock configuration nothing is blocked.
    s3.delete_public_access_block()
        .bucket(&b)
        .send()
        .await
        .expect("DeletePublicAccessBlock");
    put_policy(&s3, &b, &again).await.expect("no block");
    assert_eq!(is_public(&s3, &b).await, Some(true));

    // A malformed policy is still MalformedPolicy, blocked or not.
    s3.put_public_access_block()
        .bucket(&b)
        .public_access_block_configuration(block(true))
        .send()
        .await
        .expect("PutPublicAccessBlock");
    let (status, code, _) = put_policy(&s3, &b, "not json").await.expect_err("bad");
    assert_eq!((status, code.as_str()), (400, "MalformedPolicy"));
    server.stop().await;
}
