//! Lambda function URLs: the control plane through the AWS SDK for Rust, and the URL itself
//! through raw HTTP, as a browser or curl reaches it.

use crate::harness::{unique, TestServer};
use crate::lambda_layers::zip_of;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Cors, FunctionCode, FunctionUrlAuthType, InvokeMode, Runtime};

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

fn client(server: &TestServer) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&server.sdk_config())
}

async fn create(lambda: &aws_sdk_lambda::Client, name: &str, code: &str) {
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .timeout(20)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip_of(&[("app.py", code)])))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");
}

/// An HTTP client that reaches the server under a function URL's host name, as DNS for
/// `*.localhost` would.
fn url_client(server: &TestServer, url: &str) -> reqwest::Client {
    let host = url
        .strip_prefix("http://")
        .and_then(|r| r.split(':').next())
        .expect("URL host");
    let addr: std::net::SocketAddr = server
        .endpoint
        .strip_prefix("http://")
        .and_then(|a| a.parse().ok())
        .expect("server address");
    reqwest::Client::builder()
        .resolve(host, addr)
        .build()
        .expect("client")
}

const ECHO: &str = r#"
import json

def handler(event, context):
    path = event["rawPath"]
    if path == "/fail":
        raise RuntimeError("boom")
    if path == "/bare":
        return {"bare": True}
    return {
        "statusCode": 201,
        "headers": {"X-Echo": "yes", "Content-Type": "application/json"},
        "cookies": ["s=1; Path=/", "t=2"],
        "body": json.dumps(event),
    }
"#;

#[tokio::test]
async fn url_configs_are_created_read_updated_listed_and_deleted() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("urlfn");
    create(&lambda, &name, "def handler(e, c):\n    return e\n").await;
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");

    let created = lambda
        .create_function_url_config()
        .function_name(&name)
        .auth_type(FunctionUrlAuthType::None)
        .cors(Cors::builder().allow_origins("https://app.example").build())
        .send()
        .await
        .expect("CreateFunctionUrlConfig");
    let url = created.function_url().to_string();
    assert!(url.starts_with("http://"), "{url}");
    assert!(
        url.ends_with(&format!(
            ".lambda-url.us-east-1.localhost:{}/",
            server.endpoint.rsplit(':').next().expect("port")
        )),
        "{url}"
    );
    let id = url
        .strip_prefix("http://")
        .and_then(|r| r.split('.').next())
        .expect("url id");
    assert_eq!(id.len(), 32);
    assert!(id
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
    assert_eq!(created.function_arn(), arn);
    assert_eq!(created.auth_type(), &FunctionUrlAuthType::None);
    assert_eq!(created.invoke_mode(), Some(&InvokeMode::Buffered));
    assert_eq!(
        created.cors().map(|c| c.allow_origins()),
        Some(&["https://app.example".to_string()][..])
    );

    let again = lambda
        .create_function_url_config()
        .function_name(&name)
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .expect_err("one URL per qualifier");
    assert_eq!(again.code(), Some("ResourceConflictException"));
    assert!(again
        .message()
        .is_some_and(|m| m.contains("FunctionUrlConfig exists for this Lambda function")));

    let got = lambda
        .get_function_url_config()
        .function_name(&name)
        .send()
        .await
        .expect("GetFunctionUrlConfig");
    assert_eq!(got.function_url(), url);
    assert_eq!(got.creation_time(), created.creation_time());

    let updated = lambda
        .update_function_url_config()
        .function_name(&name)
        .auth_type(FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("UpdateFunctionUrlConfig");
    assert_eq!(updated.auth_type(), &FunctionUrlAuthType::AwsIam);
    assert_eq!(updated.function_url(), url);
    assert!(updated.cors().is_some(), "CORS kept");

    // An alias gets its own URL, with a qualified ARN; versions cannot have one.
    lambda
        .publish_version()
        .function_name(&name)
        .send()
        .await
        .expect("PublishVersion");
    lambda
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version("1")
        .send()
        .await
        .expect("CreateAlias");
    let live = lambda
        .create_function_url_config()
        .function_name(&name)
        .qualifier("live")
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .expect("alias URL");
    assert_eq!(live.function_arn(), format!("{arn}:live"));
    assert_ne!(live.function_url(), url);
    let version = lambda
        .create_function_url_config()
        .function_name(&name)
        .qualifier("1")
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .expect_err("versions have no URLs");
    assert_eq!(version.code(), Some("ValidationException"));
    let no_alias = lambda
        .get_function_url_config()
        .function_name(&name)
        .qualifier("nope")
        .send()
        .await
        .expect_err("no such alias");
    assert_eq!(no_alias.code(), Some("ResourceNotFoundException"));

    let listed = lambda
        .list_function_url_configs()
        .function_name(&name)
        .send()
        .await
        .expect("ListFunctionUrlConfigs");
    assert_eq!(listed.function_url_configs().len(), 2);
    let page = lambda
        .list_function_url_configs()
        .function_name(&name)
        .max_items(1)
        .send()
        .await
        .expect("page");
    assert_eq!(page.function_url_configs().len(), 1);
    let rest = lambda
        .list_function_url_configs()
        .function_name(&name)
        .marker(page.next_marker().expect("NextMarker"))
        .send()
        .await
        .expect("page 2");
    assert_eq!(rest.function_url_configs().len(), 1);
    assert_ne!(
        rest.function_url_configs()[0].function_url(),
        page.function_url_configs()[0].function_url()
    );

    // The alias's URL goes with the alias; the rest with the function.
    lambda
        .delete_alias()
        .function_name(&name)
        .name("live")
        .send()
        .await
        .expect("DeleteAlias");
    lambda
        .delete_function_url_config()
        .function_name(&name)
        .send()
        .await
        .expect("DeleteFunctionUrlConfig");
    let gone = lambda
        .get_function_url_config()
        .function_name(&name)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        gone.message(),
        Some("The resource you requested does not exist.")
    );
    let none = lambda
        .list_function_url_configs()
        .function_name(&name)
        .send()
        .await
        .expect("list");
    assert!(none.function_url_configs().is_empty());
    let missing = lambda
        .create_function_url_config()
        .function_name(unique("nofn"))
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .expect_err("no function");
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
    server.stop().await;
}

#[tokio::test]
async fn the_url_serves_http_through_the_function() {
    if !crate::lambda_layers::have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("web");
    create(&lambda, &name, ECHO).await;
    let url = lambda
        .create_function_url_config()
        .function_name(&name)
        .auth_type(FunctionUrlAuthType::None)
        .cors(
            Cors::builder()
                .allow_origins("https://app.example")
                .allow_methods("POST")
                .allow_headers("x-custom")
                .max_age(60)
                .build(),
        )
        .send()
        .await
        .expect("CreateFunctionUrlConfig")
        .function_url()
        .to_string();
    let http = url_client(&server, &url);

    let resp = http
        .post(format!("{url}items/42?a=1&b=x%20y&a=2"))
        .header("content-type", "application/json")
        .header("cookie", "k1=v1; k2=v2")
        .header("x-custom", "hello")
        .header("origin", "https://app.example")
        .body(r#"{"n":1}"#)
        .send()
        .await
        .expect("request to the URL");
    assert_eq!(resp.status(), 201);
    let h = resp.headers().clone();
    assert_eq!(h.get("x-echo").and_then(|v| v.to_str().ok()), Some("yes"));
    let cookies: Vec<_> = h
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(cookies, vec!["s=1; Path=/", "t=2"]);
    assert_eq!(
        h.get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://app.example")
    );
    let event: serde_json::Value = resp.json().await.expect("event JSON");
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "$default");
    assert_eq!(event["rawPath"], "/items/42");
    assert_eq!(event["rawQueryString"], "a=1&b=x%20y&a=2");
    assert_eq!(event["queryStringParameters"]["a"], "1,2");
    assert_eq!(event["queryStringParameters"]["b"], "x y");
    assert_eq!(event["cookies"], serde_json::json!(["k1=v1", "k2=v2"]));
    assert_eq!(event["headers"]["x-custom"], "hello");
    assert!(event["headers"].get("cookie").is_none());
    assert_eq!(event["body"], r#"{"n":1}"#);
    assert_eq!(event["isBase64Encoded"], false);
    let rc = &event["requestContext"];
    assert_eq!(rc["http"]["method"], "POST");
    assert_eq!(rc["http"]["path"], "/items/42");
    assert_eq!(rc["accountId"], "anonymous");
    let id = url
        .strip_prefix("http://")
        .and_then(|r| r.split('.').next())
        .expect("id");
    assert_eq!(rc["apiId"], id);
    assert_eq!(rc["domainPrefix"], id);

    // Binary bodies arrive base64-encoded.
    let bin = http
        .put(format!("{url}upload"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8, 159, 146, 150])
        .send()
        .await
        .expect("binary");
    let event: serde_json::Value = bin.json().await.expect("event");
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(event["body"], "AJ+Slg==");

    // A bare answer is a 200 JSON body; a function error is a 502.
    let bare = http.get(format!("{url}bare")).send().await.expect("bare");
    assert_eq!(bare.status(), 200);
    assert_eq!(
        bare.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(
        bare.json::<serde_json::Value>().await.expect("json"),
        serde_json::json!({"bare": true})
    );
    let fail = http.get(format!("{url}fail")).send().await.expect("fail");
    assert_eq!(fail.status(), 502);

    // Preflights come from the CORS configuration, not the function.
    let pre = http
        .request(reqwest::Method::OPTIONS, format!("{url}items"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(pre.status(), 200);
    assert_eq!(
        pre.headers()
            .get("access-control-allow-methods")
            .and_then(|v| v.to_str().ok()),
        Some("POST")
    );
    assert_eq!(
        pre.headers()
            .get("access-control-max-age")
            .and_then(|v| v.to_str().ok()),
        Some("60")
    );

    // AWS_IAM URLs refuse unsigned requests.
    lambda
        .update_function_url_config()
        .function_name(&name)
        .auth_type(FunctionUrlAuthType::AwsIam)
        .send()
        .await
        .expect("UpdateFunctionUrlConfig");
    let unsigned = http
        .get(format!("{url}bare"))
        .send()
        .await
        .expect("unsigned");
    assert_eq!(unsigned.status(), 403);
    let signed = http
        .get(format!("{url}x"))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=111122223333/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0",
        )
        .send()
        .await
        .expect("signed");
    assert_eq!(signed.status(), 201);
    let event: serde_json::Value = signed.json().await.expect("event");
    assert_eq!(event["requestContext"]["accountId"], "111122223333");
    assert_eq!(
        event["requestContext"]["authorizer"]["iam"]["accessKey"],
        "111122223333"
    );

    // An unknown URL id is refused; the API on the same port is unaffected.
    let unknown = url.replacen(id, "00000000000000000000000000000000", 1);
    let other = url_client(&server, &unknown)
        .get(&unknown)
        .send()
        .await
        .expect("unknown");
    assert_eq!(other.status(), 403);
    server.stop().await;
}

#[tokio::test]
async fn layers_and_urls_survive_a_restart_and_go_with_their_function() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = TestServer::disk_at(dir.path()).await;
    let lambda = client(&first);
    let name = unique("kept");
    let layer = unique("keptlayer");
    let zip = zip_of(&[("python/kept.py", "K = 'kept'\n")]);
    let published = lambda
        .publish_layer_version()
        .layer_name(&layer)
        .content(
            aws_sdk_lambda::types::LayerVersionContentInput::builder()
                .zip_file(Blob::new(zip.clone()))
                .build(),
        )
        .send()
        .await
        .expect("PublishLayerVersion");
    lambda
        .create_function()
        .function_name(&name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .layers(published.layer_version_arn().expect("arn"))
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip_of(&[(
                    "app.py",
                    "import kept\ndef handler(e, c):\n    return kept.K\n",
                )])))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");
    let url = lambda
        .create_function_url_config()
        .function_name(&name)
        .auth_type(FunctionUrlAuthType::None)
        .send()
        .await
        .expect("CreateFunctionUrlConfig")
        .function_url()
        .to_string();
    first.stop().await;

    let second = TestServer::disk_at(dir.path()).await;
    let lambda = client(&second);
    let got = lambda
        .get_layer_version()
        .layer_name(&layer)
        .version_number(1)
        .send()
        .await
        .expect("layer kept");
    assert_eq!(got.content().map(|c| c.code_size()), Some(zip.len() as i64));
    let cfg = lambda
        .get_function_url_config()
        .function_name(&name)
        .send()
        .await
        .expect("URL kept");
    // Same id; the port is the new server's.
    let id_of = |u: &str| u.split('.').next().map(str::to_string);
    assert_eq!(id_of(cfg.function_url()), id_of(&url));
    let url = cfg.function_url().to_string();
    if crate::lambda_layers::have("python3") {
        let served = url_client(&second, &url)
            .get(&url)
            .send()
            .await
            .expect("served");
        assert_eq!(served.status(), 200);
        assert_eq!(served.text().await.expect("body"), r#""kept""#);
    }
    lambda
        .delete_function()
        .function_name(&name)
        .send()
        .await
        .expect("DeleteFunction");
    let gone = url_client(&second, &url)
        .get(&url)
        .send()
        .await
        .expect("request");
    assert_eq!(gone.status(), 403, "the URL went with its function");
    second.stop().await;
}
