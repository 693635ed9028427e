//! Bad input gets an AWS error, never a 500, a hang or a dropped connection.

use crate::harness::{http, TestServer};

/// Path, headers, body.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>);

/// Requests no SDK would send, each of which must be answered with a 4xx (or 501 for what is
/// not served), in the protocol's error shape.
#[tokio::test]
async fn malformed_requests_get_client_errors() {
    let server = TestServer::memory().await;
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_xml = format!("{}{}", "<a>".repeat(50_000), "</a>".repeat(50_000));
    let cases: Vec<Case> = vec![
        // query protocol
        ("/", vec![("content-type", "application/x-www-form-urlencoded")], b"Action=CreateRole&Version=2010-05-08&RoleName=%ZZ%&AssumeRolePolicyDocument=%7B".to_vec()),
        ("/", vec![("content-type", "application/x-www-form-urlencoded")], b"Action=ListRoles&Version=2010-05-08&MaxItems=99999999999999999999999".to_vec()),
        ("/", vec![("content-type", "application/x-www-form-urlencoded")], b"Action=ListRoles&Version=2010-05-08&MaxItems=-5".to_vec()),
        ("/", vec![("content-type", "application/x-www-form-urlencoded")], b"Action=ListRoles&Version=2010-05-08&Marker=%F0%9F%98%80".to_vec()),
        ("/", vec![("content-type", "application/x-www-form-urlencoded")], b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/r&RoleSessionName=s1&DurationSeconds=1e400".to_vec()),
        ("/", vec![("content-type", "application/x-www-form-urlencoded")], b"Action=TagRole&Version=2010-05-08&RoleName=r&Tags.member.99999999999999999999.Key=k".to_vec()),
        ("/", vec![("content-type", "application/x-www-form-urlencoded")], vec![b'A', b'c', b't', b'i', b'o', b'n', b'=', 0xff, 0xfe, b'&']),
        ("/", vec![("content-type", "application/x-www-form-urlencoded")], b"Version=2010-05-08".to_vec()),
        // JSON protocol
        ("/", vec![("content-type", "application/x-amz-json-1.0"), ("x-amz-target", "AWSSecurityTokenServiceV20110615.AssumeRole")], b"{\"RoleArn\": 5}".to_vec()),
        ("/", vec![("content-type", "application/x-amz-json-1.0"), ("x-amz-target", "AWSSecurityTokenServiceV20110615.AssumeRole")], b"[]".to_vec()),
        ("/", vec![("content-type", "application/x-amz-json-1.0"), ("x-amz-target", "AWSSecurityTokenServiceV20110615.GetCallerIdentity")], deep_json.into_bytes()),
        ("/", vec![("content-type", "application/x-amz-json-1.0"), ("x-amz-target", "AWSSecurityTokenServiceV20110615.")], b"{}".to_vec()),
        ("/", vec![("content-type", "application/x-amz-json-1.0"), ("x-amz-target", "DynamoDB_20120810.PutItem")], deep_xml.clone().into_bytes()),
        // REST (S3 and Lambda are not served yet: 501, never 500)
        ("/bucket/key%ZZ", vec![], deep_xml.into_bytes()),
        ("/2015-03-31/functions/%FF%FE/invocations", vec![], b"{".to_vec()),
        ("/v20180820/tags/arn:aws:s3:::b", vec![("authorization", "AWS4-HMAC-SHA256 Credential=AKIA/x")], vec![]),
        ("//../..//%2e%2e/", vec![("host", "bucket.s3.localhost")], vec![]),
    ];
    for (path, headers, body) in cases {
        let mut req = http().post(server.url(path)).body(body);
        for (k, v) in &headers {
            req = req.header(*k, *v);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path} {headers:?}: connection failed: {e}"));
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        assert!(
            (400..500).contains(&status) || status == 501,
            "{path} {headers:?} answered {status}: {text}"
        );
    }
    // The server is still healthy afterwards.
    let h = http()
        .get(server.url("/_cloudemu/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(h.status(), 200);
    server.stop().await;
}

#[tokio::test]
async fn error_messages_stay_well_formed_xml() {
    let server = TestServer::memory().await;
    for body in [
        "Action=GetRole&Version=2010-05-08&RoleName=%01%EF%BF%BE",
        "Action=%01&Version=2010-05-08",
    ] {
        let r = http()
            .post(server.url("/"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 400, "{body}");
        let text = r.text().await.expect("body");
        let doc = cloudemu_protocol::xml::parse(text.as_bytes())
            .unwrap_or_else(|e| panic!("{body}: not well-formed ({e}): {text}"));
        assert_eq!(doc.local_name(), "ErrorResponse");
    }
    server.stop().await;
}

#[tokio::test]
async fn json_is_not_a_way_into_query_only_services() {
    let server = TestServer::memory().await;
    let r = http()
        .post(server.url("/"))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
        )
        .header("x-amz-target", "x.UntagRole")
        .header("content-type", "application/x-amz-json-1.1")
        .body(r#"{"RoleName":"r","TagKeys":[null]}"#)
        .send()
        .await
        .expect("post");
    assert!(r.status().is_client_error(), "{}", r.status());
    server.stop().await;
}

#[tokio::test]
async fn services_left_out_by_config_are_disabled() {
    let server = TestServer::memory_with(|c| c.services = vec!["sts".into()]).await;
    let h: serde_json::Value = http()
        .get(server.url("/_cloudemu/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(h["services"]["sts"], "running");
    assert_eq!(h["services"]["iam"], "disabled");
    let r = http()
        .post(server.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=ListRoles&Version=2010-05-08")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 501);
    let body = r.text().await.expect("body");
    assert!(body.contains("not enabled"), "{body}");
    let sts = aws_sdk_sts::Client::new(&server.sdk_config());
    sts.get_caller_identity()
        .send()
        .await
        .expect("sts still served");
    server.stop().await;
}

#[tokio::test]
async fn s3_brings_s3_control_along() {
    // Terraform reads bucket tags through S3 Control, so `--services s3` enables both.
    let server = TestServer::memory_with(|c| c.services = vec!["s3".into()]).await;
    let h: serde_json::Value = http()
        .get(server.url("/_cloudemu/health"))
        .send()
        .await
        .expect("health")
        .json()
        .await
        .expect("json");
    assert_eq!(h["services"]["s3control"], "running");
    assert_eq!(h["services"]["s3"], "running");
    assert_eq!(h["services"]["sts"], "disabled");
    server.stop().await;
}

#[tokio::test]
async fn unknown_service_names_stop_start_up() {
    let mut config = cloudemu::Config::defaults();
    config.port = 0;
    config.in_memory = true;
    config.services = vec!["sqs".into(), "pinpoint".into()];
    let err = cloudemu::start(config).await.err().expect("refused");
    assert!(err.to_string().contains("pinpoint"), "{err}");
}
