use crate::harness::{http, unique, TestServer};
use aws_sdk_iam::error::ProvideErrorMetadata;

#[tokio::test]
async fn health_reports_version_storage_and_services() {
    let server = TestServer::memory().await;
    let h: serde_json::Value = http()
        .get(server.url("/_cloudemu/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(h["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(h["storage"]["mode"], "memory");
    assert!(h["uptime_seconds"].as_f64().is_some());
    assert_eq!(h["services"]["sts"], "running");
    assert_eq!(h["services"]["iam"], "running");
    // Every routed service is served now.
    for id in [
        "sqs",
        "s3",
        "s3control",
        "dynamodb",
        "dynamodbstreams",
        "kms",
        "lambda",
    ] {
        assert_eq!(h["services"][id], "running", "{id}");
    }

    let ls: serde_json::Value = http()
        .get(server.url("/_localstack/health"))
        .send()
        .await
        .expect("localstack health")
        .json()
        .await
        .expect("json");
    assert_eq!(ls["services"]["sts"], "running");
    assert_eq!(ls["services"]["sqs"], "running");
    assert_eq!(ls["services"]["lambda"], "running");
    server.stop().await;
}

#[tokio::test]
async fn reset_clears_all_state() {
    let server = TestServer::memory().await;
    let iam = aws_sdk_iam::Client::new(&server.sdk_config());
    let name = unique("doomed");
    iam.create_role()
        .role_name(&name)
        .assume_role_policy_document("{}")
        .send()
        .await
        .expect("CreateRole");
    let r = http()
        .post(server.url("/_cloudemu/reset"))
        .send()
        .await
        .expect("reset");
    assert_eq!(r.status(), 200);
    let err = iam
        .get_role()
        .role_name(&name)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err.code(), Some("NoSuchEntity"));
    server.stop().await;
}

#[tokio::test]
async fn a_modelled_but_unimplemented_operation_is_501_in_the_protocol_shape() {
    let server = TestServer::memory().await;
    // JSON protocol (a KMS operation CloudEmu does not serve yet).
    let r = http()
        .post(server.url("/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "TrentService.GetKeyLastUsage")
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 501);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["__type"], "NotImplemented");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("GetKeyLastUsage"),
        "{body}"
    );

    // Query protocol (an IAM operation CloudEmu does not serve yet).
    let r = http()
        .post(server.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=ListUsers&Version=2010-05-08")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 501);
    let body = r.text().await.expect("body");
    assert!(body.contains("<Code>NotImplemented</Code>"), "{body}");
    assert!(body.contains("ListUsers"), "{body}");

    // Through the SDK: an error with the code, never a panic or a 200.
    let iam = aws_sdk_iam::Client::new(&server.sdk_config());
    let err = iam.list_users().send().await.expect_err("not implemented");
    assert_eq!(err.code(), Some("NotImplemented"));
    server.stop().await;
}

#[tokio::test]
async fn unknown_services_and_actions_are_named_in_the_error() {
    let server = TestServer::memory().await;
    let r = http()
        .post(server.url("/"))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/pinpoint/aws4_request, SignedHeaders=host, Signature=0",
        )
        .header("content-type", "application/x-amz-json-1.1")
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["__type"], "UnrecognizedService");
    assert!(
        body["message"].as_str().unwrap_or("").contains("pinpoint"),
        "{body}"
    );

    let r = http()
        .post(server.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=MakeCoffee&Version=2011-06-15")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let body = r.text().await.expect("body");
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    assert!(
        body.contains("Could not find operation MakeCoffee for version 2011-06-15"),
        "{body}"
    );

    let r = http()
        .post(server.url("/"))
        .header(
            "x-amz-target",
            "AWSSecurityTokenServiceV20110615.GetCallerIdentity",
        )
        .header("content-type", "application/x-amz-json-1.0")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["__type"], "SerializationException");
    server.stop().await;
}

#[tokio::test]
async fn the_region_comes_from_the_credential_scope() {
    // IAM is global, so prove the region reaches the service through STS's JSON-independent
    // path: the request must succeed whatever region the client is configured for.
    let server = TestServer::memory().await;
    let conf = server
        .sdk_config()
        .into_builder()
        .region(aws_config::Region::new("ap-south-1"))
        .build();
    let sts = aws_sdk_sts::Client::new(&conf);
    let me = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.account(), Some("000000000000"));
    server.stop().await;
}
