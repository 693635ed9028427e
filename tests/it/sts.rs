use crate::harness::{http, TestServer};
use aws_sdk_sts::error::ProvideErrorMetadata;

#[tokio::test]
async fn get_caller_identity_answers_with_the_default_account() {
    let server = TestServer::memory().await;
    let sts = aws_sdk_sts::Client::new(&server.sdk_config());
    let me = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.account(), Some("000000000000"));
    assert_eq!(me.arn(), Some("arn:aws:iam::000000000000:root"));
    assert_eq!(me.user_id(), Some("000000000000"));
    server.stop().await;
}

#[tokio::test]
async fn a_twelve_digit_access_key_selects_the_account() {
    let server = TestServer::memory().await;
    let sts = aws_sdk_sts::Client::new(&server.sdk_config_with("111122223333", "x", None));
    let me = sts
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.account(), Some("111122223333"));
    server.stop().await;
}

#[tokio::test]
async fn assumed_role_credentials_act_as_the_role_in_its_account() {
    let server = TestServer::memory().await;
    let sts = aws_sdk_sts::Client::new(&server.sdk_config());
    let out = sts
        .assume_role()
        .role_arn("arn:aws:iam::444455556666:role/deploy/ci-runner")
        .role_session_name("build-42")
        .duration_seconds(900)
        .send()
        .await
        .expect("AssumeRole");
    let creds = out.credentials().expect("credentials");
    assert!(
        creds.access_key_id().starts_with("ASIA"),
        "{}",
        creds.access_key_id()
    );
    assert_eq!(creds.access_key_id().len(), 20);
    assert_eq!(creds.secret_access_key().len(), 40);
    assert!(!creds.session_token().is_empty());
    let remaining = creds.expiration().secs() - chrono::Utc::now().timestamp();
    assert!((880..=905).contains(&remaining), "expires in {remaining}s");
    let user = out.assumed_role_user().expect("assumed role user");
    assert_eq!(
        user.arn(),
        "arn:aws:sts::444455556666:assumed-role/ci-runner/build-42"
    );
    assert!(user.assumed_role_id().starts_with("AROA"));
    assert!(user.assumed_role_id().ends_with(":build-42"));

    // Calls signed with the new credentials act in the role's account, as the role.
    let as_role = aws_sdk_sts::Client::new(&server.sdk_config_with(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_string()),
    ));
    let me = as_role
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.account(), Some("444455556666"));
    assert_eq!(me.arn(), Some(user.arn()));
    assert_eq!(me.user_id(), Some(user.assumed_role_id()));
    server.stop().await;
}

#[tokio::test]
async fn assume_role_rejects_what_aws_rejects() {
    let server = TestServer::memory().await;
    let sts = aws_sdk_sts::Client::new(&server.sdk_config());
    let err = sts
        .assume_role()
        .role_arn("arn:aws:iam::444455556666:role/r")
        .role_session_name("session")
        .duration_seconds(60)
        .send()
        .await
        .expect_err("too short");
    assert_eq!(err.code(), Some("ValidationError"));
    assert_eq!(
        err.message(),
        Some("1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
    );
    let err = sts
        .assume_role()
        .role_arn("arn:aws:iam::444455556666:role/r")
        .role_session_name("has spaces")
        .send()
        .await
        .expect_err("bad session name");
    assert_eq!(err.code(), Some("ValidationError"));
    assert!(
        err.message().unwrap_or("").contains("roleSessionName"),
        "{:?}",
        err.message()
    );
    server.stop().await;
}

#[tokio::test]
async fn get_session_token_issues_credentials_for_the_caller() {
    let server = TestServer::memory().await;
    let sts = aws_sdk_sts::Client::new(&server.sdk_config_with("123456789012", "x", None));
    let out = sts
        .get_session_token()
        .send()
        .await
        .expect("GetSessionToken");
    let creds = out.credentials().expect("credentials");
    let remaining = creds.expiration().secs() - chrono::Utc::now().timestamp();
    assert!(
        (43_100..=43_205).contains(&remaining),
        "default is 12 hours, got {remaining}s"
    );
    let again = aws_sdk_sts::Client::new(&server.sdk_config_with(
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token().to_string()),
    ));
    let me = again
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity");
    assert_eq!(me.account(), Some("123456789012"));
    server.stop().await;
}

#[tokio::test]
async fn query_protocol_form_post_gets_an_xml_reply() {
    let server = TestServer::memory().await;
    let resp = http()
        .post(server.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=GetCallerIdentity&Version=2011-06-15")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/xml");
    let request_id = resp.headers()["x-amzn-requestid"]
        .to_str()
        .expect("ascii")
        .to_string();
    let body = resp.text().await.expect("body");
    assert!(body.starts_with(
        "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><GetCallerIdentityResult>"
    ), "{body}");
    assert!(body.contains("<Account>000000000000</Account>"), "{body}");
    assert!(
        body.contains(&format!("<RequestId>{request_id}</RequestId>")),
        "{body}"
    );
    server.stop().await;
}

#[tokio::test]
async fn json_dialect_of_sts_is_answered_in_json() {
    let server = TestServer::memory().await;
    let resp = http()
        .post(server.url("/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header(
            "x-amz-target",
            "AWSSecurityTokenServiceV20110615.GetCallerIdentity",
        )
        .body("{}")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["Account"], "000000000000");
    assert_eq!(body["Arn"], "arn:aws:iam::000000000000:root");
    server.stop().await;
}
