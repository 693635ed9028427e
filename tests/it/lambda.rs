//! Lambda's control plane through the AWS SDK for Rust: real zips built in the test, stored,
//! served back from `Code.Location`, updated, listed, deleted, and kept across a restart.

use crate::harness::{http, unique, TestServer};
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, PackageType, Runtime, State};
use base64::Engine;
use sha2::{Digest, Sha256};

#[path = "lambda_esm.rs"]
mod esm;

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// CRC-32 (IEEE), bitwise: enough for the few bytes of a test zip.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real zip archive (stored entries) of the given files.
fn zip(files: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, body) in files {
        let offset = out.len() as u32;
        let (crc, size) = (crc32(body.as_bytes()), body.len() as u32);
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            for v in [20u16, 0, 0, 0, 0x21] {
                h.extend_from_slice(&v.to_le_bytes()); // version, flags, method, time, date
            }
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                for v in [0u16, 0, 0] {
                    h.extend_from_slice(&v.to_le_bytes()); // comment, disk, internal attrs
                }
                h.extend_from_slice(&(0o100755u32 << 16).to_le_bytes()); // external attrs
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(body.as_bytes());
        central.extend(header(0x0201_4b50, true));
    }
    let (cd_offset, cd_size) = (out.len() as u32, central.len() as u32);
    out.extend(central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, files.len() as u16, files.len() as u16] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

fn python_zip(body: &str) -> Vec<u8> {
    zip(&[("app.py", body)])
}

fn sha256_b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(data))
}

fn client(server: &TestServer) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&server.sdk_config())
}

async fn create(lambda: &aws_sdk_lambda::Client, name: &str, code: &[u8]) {
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .code(FunctionCode::builder().zip_file(Blob::new(code)).build())
        .send()
        .await
        .expect("CreateFunction");
}

#[tokio::test]
async fn function_lifecycle_as_sdk_users_and_terraform_drive_it() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("fn");
    let code = python_zip("def handler(event, context):\n    return event\n");

    let created = lambda
        .create_function()
        .function_name(&name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .description("echo")
        .timeout(10)
        .memory_size(256)
        .environment(Environment::builder().variables("STAGE", "test").build())
        .tags("team", "core")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(code.clone()))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");
    assert_eq!(created.function_name(), Some(name.as_str()));
    assert_eq!(
        created.function_arn(),
        Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}").as_str())
    );
    assert_eq!(created.code_sha256(), Some(sha256_b64(&code).as_str()));
    assert_eq!(created.code_size(), code.len() as i64);
    assert_eq!(created.version(), Some("$LATEST"));
    assert_eq!(created.state(), Some(&State::Pending));
    assert_eq!(created.package_type(), Some(&PackageType::Zip));
    assert_eq!(created.timeout(), Some(10));
    assert_eq!(created.memory_size(), Some(256));
    let last_modified = created.last_modified().expect("LastModified");
    assert!(last_modified.ends_with("+0000"), "{last_modified}");

    // The SDK's waiter sees the function active on its first poll.
    lambda
        .wait_until_function_active_v2()
        .function_name(&name)
        .wait(std::time::Duration::from_secs(10))
        .await
        .expect("function becomes active");

    let got = lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .expect("GetFunction");
    let cfg = got.configuration().expect("configuration");
    assert_eq!(cfg.state(), Some(&State::Active));
    assert_eq!(
        cfg.last_update_status().map(|s| s.as_str()),
        Some("Successful")
    );
    assert_eq!(cfg.description(), Some("echo"));
    assert_eq!(
        cfg.environment()
            .and_then(|e| e.variables())
            .and_then(|v| v.get("STAGE"))
            .map(String::as_str),
        Some("test")
    );
    assert_eq!(
        got.tags().and_then(|t| t.get("team")).map(String::as_str),
        Some("core")
    );
    // Code.Location downloads exactly the zip that was uploaded.
    let location = got
        .code()
        .and_then(|c| c.location())
        .expect("Code.Location");
    let downloaded = http()
        .get(location)
        .send()
        .await
        .expect("download code")
        .bytes()
        .await
        .expect("code body");
    assert_eq!(downloaded.as_ref(), code.as_slice());

    // Any form of the name reaches the same function.
    let by_arn = lambda
        .get_function_configuration()
        .function_name(cfg.function_arn().expect("arn"))
        .send()
        .await
        .expect("GetFunctionConfiguration by ARN");
    assert_eq!(by_arn.revision_id(), cfg.revision_id());

    let updated = lambda
        .update_function_configuration()
        .function_name(&name)
        .timeout(30)
        .environment(Environment::builder().variables("STAGE", "prod").build())
        .revision_id(cfg.revision_id().expect("revision"))
        .send()
        .await
        .expect("UpdateFunctionConfiguration");
    assert_eq!(updated.timeout(), Some(30));
    assert_eq!(
        updated.last_update_status().map(|s| s.as_str()),
        Some("InProgress")
    );
    assert_ne!(updated.revision_id(), cfg.revision_id());
    lambda
        .wait_until_function_updated_v2()
        .function_name(&name)
        .wait(std::time::Duration::from_secs(10))
        .await
        .expect("update completes");

    // A stale revision is refused, as Lambda refuses it.
    let stale = lambda
        .update_function_configuration()
        .function_name(&name)
        .timeout(5)
        .revision_id(cfg.revision_id().expect("revision"))
        .send()
        .await
        .expect_err("stale revision");
    assert_eq!(stale.code(), Some("PreconditionFailedException"));

    let new_code = python_zip("def handler(event, context):\n    return {'v': 2}\n");
    let code_update = lambda
        .update_function_code()
        .function_name(&name)
        .zip_file(Blob::new(new_code.clone()))
        .send()
        .await
        .expect("UpdateFunctionCode");
    assert_eq!(
        code_update.code_sha256(),
        Some(sha256_b64(&new_code).as_str())
    );
    assert_eq!(code_update.code_size(), new_code.len() as i64);
    assert_eq!(code_update.timeout(), Some(30), "configuration kept");
    let location = lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .expect("GetFunction")
        .code()
        .and_then(|c| c.location().map(str::to_string))
        .expect("location");
    let downloaded = http().get(location).send().await.expect("download");
    assert_eq!(
        downloaded.bytes().await.expect("body").as_ref(),
        new_code.as_slice()
    );

    lambda
        .delete_function()
        .function_name(&name)
        .send()
        .await
        .expect("DeleteFunction");
    let gone = lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        gone.message(),
        Some(
            format!("Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}")
                .as_str()
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_requests_get_lambdas_errors() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("fn");
    let code = python_zip("def handler(e, c):\n    return 1\n");
    create(&lambda, &name, &code).await;

    let dup = lambda
        .create_function()
        .function_name(&name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(code.clone()))
                .build(),
        )
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(dup.code(), Some("ResourceConflictException"));
    assert_eq!(
        dup.message(),
        Some(format!("Function already exist: {name}").as_str())
    );

    let not_zip = lambda
        .create_function()
        .function_name(unique("fn"))
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new("print('hi')"))
                .build(),
        )
        .send()
        .await
        .expect_err("not a zip");
    assert_eq!(not_zip.code(), Some("InvalidParameterValueException"));
    assert_eq!(
        not_zip.message(),
        Some("Could not unzip uploaded file. Please check your file, then try to upload again.")
    );

    let image = lambda
        .create_function()
        .function_name(unique("fn"))
        .package_type(PackageType::Image)
        .role(ROLE)
        .code(
            FunctionCode::builder()
                .image_uri("123.dkr.ecr/img:1")
                .build(),
        )
        .send()
        .await
        .expect_err("images unsupported");
    assert_eq!(image.code(), Some("InvalidParameterValueException"));
    assert!(image
        .message()
        .unwrap_or_default()
        .contains("PackageType Image"));

    let s3 = lambda
        .create_function()
        .function_name(unique("fn"))
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .code(
            FunctionCode::builder()
                .s3_bucket("code-bucket")
                .s3_key("k.zip")
                .build(),
        )
        .send()
        .await
        .expect_err("no such bucket");
    assert_eq!(
        s3.code(),
        Some("InvalidParameterValueException"),
        "{:?}",
        s3.message()
    );
    assert!(s3
        .message()
        .unwrap_or_default()
        .starts_with("Error occurred while GetObject. S3 Error Code: NoSuchBucket."));

    let no_runtime = lambda
        .create_function()
        .function_name(unique("fn"))
        .role(ROLE)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(code.clone()))
                .build(),
        )
        .send()
        .await
        .expect_err("runtime required");
    assert_eq!(no_runtime.code(), Some("InvalidParameterValueException"));

    let too_long = lambda
        .update_function_configuration()
        .function_name(&name)
        .timeout(901)
        .send()
        .await
        .expect_err("timeout above 900");
    assert_eq!(too_long.code(), Some("ValidationException"));

    let bad_name = lambda
        .get_function()
        .function_name("no spaces allowed")
        .send()
        .await
        .expect_err("bad name");
    assert_eq!(bad_name.code(), Some("ValidationException"));

    let missing = lambda
        .update_function_code()
        .function_name(unique("missing"))
        .zip_file(Blob::new(code))
        .send()
        .await
        .expect_err("missing");
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));

    // The refused calls stored nothing: the function is as created.
    let cfg = lambda
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .expect("still there");
    assert_eq!(cfg.timeout(), Some(3));
    server.stop().await;
}

#[tokio::test]
async fn list_functions_pages_in_name_order() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let code = python_zip("def handler(e, c):\n    return 1\n");
    let prefix = unique("page");
    let names: Vec<String> = (0..5).map(|i| format!("{prefix}-{i}")).collect();
    for n in &names {
        create(&lambda, n, &code).await;
    }
    let mut seen = Vec::new();
    let mut marker = None;
    loop {
        let page = lambda
            .list_functions()
            .max_items(2)
            .set_marker(marker)
            .send()
            .await
            .expect("ListFunctions");
        assert!(page.functions().len() <= 2);
        seen.extend(
            page.functions()
                .iter()
                .filter_map(|f| f.function_name().map(str::to_string)),
        );
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    assert_eq!(seen, names);
    server.stop().await;
}

#[tokio::test]
async fn functions_and_their_code_survive_a_restart() {
    let keep = tempfile::tempdir().expect("dir");
    let data = keep.path().join("data");
    let code = python_zip("def handler(e, c):\n    return 'kept'\n");

    let first = TestServer::disk_at(&data).await;
    create(&client(&first), "durable-fn", &code).await;
    first.stop().await;

    let second = TestServer::disk_at(&data).await;
    let got = client(&second)
        .get_function()
        .function_name("durable-fn")
        .send()
        .await
        .expect("GetFunction after restart");
    let cfg = got.configuration().expect("configuration");
    assert_eq!(cfg.code_sha256(), Some(sha256_b64(&code).as_str()));
    let location = got.code().and_then(|c| c.location()).expect("location");
    let body = http().get(location).send().await.expect("download");
    assert_eq!(body.bytes().await.expect("body").as_ref(), code.as_slice());
    second.stop().await;
}

// ---- Execution: functions run as local processes behind the Runtime API ----

/// Tests that run python functions need the host's python3 (CI installs it); say so and skip
/// rather than fail where it is missing.
fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()));
    if !found {
        eprintln!("SKIPPED: `{program}` is not on PATH; this test runs a real {program} function");
    }
    found
}

async fn create_with(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    runtime: Runtime,
    handler: &str,
    code: &[u8],
    timeout: i32,
) {
    lambda
        .create_function()
        .function_name(name)
        .runtime(runtime)
        .handler(handler)
        .role(ROLE)
        .timeout(timeout)
        .environment(
            Environment::builder()
                .variables("GREETING", "hello")
                .build(),
        )
        .code(FunctionCode::builder().zip_file(Blob::new(code)).build())
        .send()
        .await
        .expect("CreateFunction");
}

fn json(blob: Option<&Blob>) -> serde_json::Value {
    serde_json::from_slice(blob.expect("payload").as_ref()).expect("JSON payload")
}

const PY_APP: &str = r#"
import os, urllib.request
calls = 0

def handler(event, context):
    global calls
    calls += 1
    print("handling", event.get("n"))
    if event.get("fail"):
        raise ValueError("asked to fail")
    with urllib.request.urlopen(os.environ["AWS_ENDPOINT_URL"] + "/_cloudemu/health") as r:
        reachable = r.status == 200
    keys = ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_REGION",
            "AWS_DEFAULT_REGION", "_HANDLER", "AWS_ENDPOINT_URL", "GREETING", "TZ"]
    return {
        "event": event,
        "calls": calls,
        "pid": os.getpid(),
        "env": {k: os.environ.get(k) for k in keys},
        "task_root_has_code": os.path.isfile(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "app.py")),
        "endpoint_reachable": reachable,
        "arn": context.invoked_function_arn,
        "request_id": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
    }
"#;

#[tokio::test]
async fn python_function_runs_warm_with_lambdas_environment() {
    if !have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("py");
    create_with(
        &lambda,
        &name,
        Runtime::Python312,
        "app.handler",
        &zip(&[("app.py", PY_APP)]),
        30,
    )
    .await;

    let first = lambda
        .invoke()
        .function_name(&name)
        .payload(Blob::new(r#"{"n": 1}"#))
        .log_type(aws_sdk_lambda::types::LogType::Tail)
        .send()
        .await
        .expect("Invoke");
    assert_eq!(first.status_code(), 200);
    assert_eq!(first.function_error(), None);
    assert_eq!(first.executed_version(), Some("$LATEST"));
    let out = json(first.payload());
    assert_eq!(out["event"]["n"], 1);
    assert_eq!(out["env"]["AWS_LAMBDA_FUNCTION_NAME"], name.as_str());
    assert_eq!(out["env"]["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(out["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
    assert_eq!(
        out["env"]["AWS_LAMBDA_LOG_GROUP_NAME"],
        format!("/aws/lambda/{name}").as_str()
    );
    assert_eq!(out["env"]["AWS_REGION"], "us-east-1");
    assert_eq!(out["env"]["AWS_DEFAULT_REGION"], "us-east-1");
    assert_eq!(out["env"]["_HANDLER"], "app.handler");
    assert_eq!(out["env"]["GREETING"], "hello");
    assert_eq!(out["env"]["AWS_ENDPOINT_URL"], server.endpoint.as_str());
    assert_eq!(out["task_root_has_code"], true);
    assert_eq!(out["endpoint_reachable"], true);
    assert_eq!(
        out["arn"],
        format!("arn:aws:lambda:us-east-1:000000000000:function:{name}").as_str()
    );
    assert!(out["remaining"].as_i64().expect("remaining") > 0);
    let tail = base64::engine::general_purpose::STANDARD
        .decode(first.log_result().expect("LogResult"))
        .expect("base64 log");
    let tail = String::from_utf8_lossy(&tail);
    assert!(tail.contains("START RequestId:"), "{tail}");
    assert!(tail.contains("REPORT RequestId:"), "{tail}");

    // The second call reuses the warm environment: same process, module state kept.
    let second = lambda
        .invoke()
        .function_name(&name)
        .payload(Blob::new(r#"{"n": 2}"#))
        .send()
        .await
        .expect("warm Invoke");
    let out2 = json(second.payload());
    assert_eq!(out2["pid"], out["pid"]);
    assert_eq!(out2["calls"], 2);
    assert_ne!(out2["request_id"], out["request_id"]);

    // A handled exception comes back as Lambda's error document.
    let failed = lambda
        .invoke()
        .function_name(&name)
        .payload(Blob::new(r#"{"fail": true}"#))
        .send()
        .await
        .expect("Invoke with a function error");
    assert_eq!(failed.status_code(), 200);
    assert_eq!(failed.function_error(), Some("Unhandled"));
    let err = json(failed.payload());
    assert_eq!(err["errorType"], "ValueError");
    assert_eq!(err["errorMessage"], "asked to fail");
    assert!(err["stackTrace"].is_array());

    // A new configuration gets a new environment.
    lambda
        .update_function_configuration()
        .function_name(&name)
        .environment(
            Environment::builder()
                .variables("GREETING", "changed")
                .build(),
        )
        .send()
        .await
        .expect("UpdateFunctionConfiguration");
    let after = lambda
        .invoke()
        .function_name(&name)
        .payload(Blob::new("{}"))
        .send()
        .await
        .expect("Invoke after update");
    let out3 = json(after.payload());
    assert_eq!(out3["env"]["GREETING"], "changed");
    assert_eq!(out3["calls"], 1);
    server.stop().await;
}

#[tokio::test]
async fn timeouts_crashes_and_init_errors_are_reported_as_lambda_does() {
    if !have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let code = zip(&[(
        "app.py",
        "import os, time\n\
         def slow(event, context):\n    time.sleep(30)\n\
         def crash(event, context):\n    os._exit(3)\n",
    )]);

    let slow = unique("slow");
    create_with(&lambda, &slow, Runtime::Python312, "app.slow", &code, 1).await;
    let timed_out = lambda
        .invoke()
        .function_name(&slow)
        .send()
        .await
        .expect("Invoke");
    assert_eq!(timed_out.function_error(), Some("Unhandled"));
    let err = json(timed_out.payload());
    let msg = err["errorMessage"].as_str().expect("message");
    assert!(msg.ends_with("Task timed out after 1.00 seconds"), "{msg}");

    let crash = unique("crash");
    create_with(&lambda, &crash, Runtime::Python312, "app.crash", &code, 10).await;
    let crashed = lambda
        .invoke()
        .function_name(&crash)
        .send()
        .await
        .expect("Invoke");
    assert_eq!(crashed.function_error(), Some("Unhandled"));
    let err = json(crashed.payload());
    assert_eq!(err["errorType"], "Runtime.ExitError");
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .ends_with("Runtime exited with error: exit status 3"),
        "{err}"
    );

    let missing = unique("missing");
    create_with(
        &lambda,
        &missing,
        Runtime::Python312,
        "nowhere.handler",
        &code,
        10,
    )
    .await;
    let init = lambda
        .invoke()
        .function_name(&missing)
        .send()
        .await
        .expect("Invoke");
    assert_eq!(init.function_error(), Some("Unhandled"));
    let err = json(init.payload());
    assert_eq!(err["errorType"], "Runtime.ImportModuleError");
    assert!(
        err["errorMessage"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Unable to import module 'nowhere'"),
        "{err}"
    );
    server.stop().await;
}

/// A `provided.al2023` bootstrap that speaks the Runtime API itself, with bash's /dev/tcp only.
const BOOTSTRAP: &str = r#"#!/bin/bash
HOST="${AWS_LAMBDA_RUNTIME_API%:*}"; PORT="${AWS_LAMBDA_RUNTIME_API##*:}"
while true; do
  exec 3<>"/dev/tcp/$HOST/$PORT"
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$AWS_LAMBDA_RUNTIME_API" >&3
  ID=""; LEN=0
  while IFS= read -r line <&3; do
    line="${line%$'\r'}"
    [ -z "$line" ] && break
    case "${line,,}" in
      lambda-runtime-aws-request-id:*) ID="${line#*: }";;
      content-length:*) LEN="${line#*: }";;
    esac
  done
  BODY=""
  if [ "$LEN" -gt 0 ]; then read -r -N "$LEN" BODY <&3; fi
  exec 3<&-
  RESP="{\"echo\":$BODY,\"handler\":\"$_HANDLER\"}"
  exec 3<>"/dev/tcp/$HOST/$PORT"
  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$ID" "$AWS_LAMBDA_RUNTIME_API" "${#RESP}" "$RESP" >&3
  cat <&3 >/dev/null
  exec 3<&-
done
"#;

#[tokio::test]
async fn provided_runtime_runs_the_bootstrap_and_invoke_modes_behave() {
    if !have("bash") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("custom");
    create_with(
        &lambda,
        &name,
        Runtime::Providedal2023,
        "my.handler",
        &zip(&[("bootstrap", BOOTSTRAP)]),
        10,
    )
    .await;
    let out = lambda
        .invoke()
        .function_name(&name)
        .payload(Blob::new(r#"{"x":42}"#))
        .send()
        .await
        .expect("Invoke");
    assert_eq!(out.function_error(), None);
    let body = json(out.payload());
    assert_eq!(body["echo"]["x"], 42);
    assert_eq!(body["handler"], "my.handler");

    let dry = lambda
        .invoke()
        .function_name(&name)
        .invocation_type(aws_sdk_lambda::types::InvocationType::DryRun)
        .send()
        .await
        .expect("DryRun");
    assert_eq!(dry.status_code(), 204);
    let event = lambda
        .invoke()
        .function_name(&name)
        .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
        .payload(Blob::new("{}"))
        .send()
        .await
        .expect("Event");
    assert_eq!(event.status_code(), 202);

    let bad = lambda
        .invoke()
        .function_name(&name)
        .payload(Blob::new("not json"))
        .send()
        .await
        .expect_err("payload must be JSON");
    assert_eq!(bad.code(), Some("InvalidRequestContentException"));

    // The payload goes out as JSON, whatever the model's blob implies.
    let raw = http()
        .post(server.url(&format!("/2015-03-31/functions/{name}/invocations")))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(r#"{"x":1}"#)
        .send()
        .await
        .expect("raw invoke");
    assert_eq!(raw.status(), 200);
    assert_eq!(
        raw.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(
        raw.headers()
            .get("x-amz-executed-version")
            .and_then(|v| v.to_str().ok()),
        Some("$LATEST")
    );
    server.stop().await;
}

#[tokio::test]
async fn node_function_runs_with_async_handlers_and_reports_errors() {
    if !have("node") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("node");
    let code = zip(&[(
        "index.js",
        "let calls = 0;\n\
         exports.handler = async (event, context) => {\n\
           calls += 1;\n\
           if (event.fail) { throw new TypeError('bad input'); }\n\
           return { event, calls, fn: context.functionName, region: process.env.AWS_REGION,\n\
                    endpoint: process.env.AWS_ENDPOINT_URL, left: context.getRemainingTimeInMillis() };\n\
         };\n",
    )]);
    create_with(
        &lambda,
        &name,
        Runtime::Nodejs20x,
        "index.handler",
        &code,
        10,
    )
    .await;
    let ok = lambda
        .invoke()
        .function_name(&name)
        .payload(Blob::new(r#"{"a":"b"}"#))
        .send()
        .await
        .expect("Invoke");
    assert_eq!(ok.function_error(), None);
    let out = json(ok.payload());
    assert_eq!(out["event"]["a"], "b");
    assert_eq!(out["fn"], name.as_str());
    assert_eq!(out["region"], "us-east-1");
    assert_eq!(out["endpoint"], server.endpoint.as_str());
    assert!(out["left"].as_i64().expect("remaining time") > 0);
    let again = lambda
        .invoke()
        .function_name(&name)
        .payload(Blob::new(r#"{"fail":true}"#))
        .send()
        .await
        .expect("Invoke");
    assert_eq!(again.function_error(), Some("Unhandled"));
    let err = json(again.payload());
    assert_eq!(err["errorType"], "TypeError");
    assert_eq!(err["errorMessage"], "bad input");
    server.stop().await;
}

#[tokio::test]
async fn a_missing_interpreter_is_named_in_the_invocation_error() {
    let server =
        TestServer::memory_with(|c| c.lambda_python = "/nonexistent/bin/python3".into()).await;
    let lambda = client(&server);
    let name = unique("nopy");
    create_with(
        &lambda,
        &name,
        Runtime::Python312,
        "app.handler",
        &python_zip("x = 1\n"),
        3,
    )
    .await;
    let out = lambda
        .invoke()
        .function_name(&name)
        .send()
        .await
        .expect("Invoke");
    assert_eq!(out.function_error(), Some("Unhandled"));
    let err = json(out.payload());
    let msg = err["errorMessage"].as_str().unwrap_or_default();
    assert!(
        msg.contains("/nonexistent/bin/python3") && msg.contains("--lambda-python"),
        "{msg}"
    );
    server.stop().await;
}

#[tokio::test]
async fn tags_account_settings_and_the_reads_terraform_makes() {
    let server = TestServer::memory_with(|_| {}).await;
    let lambda = aws_sdk_lambda::Client::new(&server.sdk_config_with("444455556666", "s", None));
    let name = unique("tf");
    let code = python_zip("def handler(e, c):\n    return 1\n");
    create(&lambda, &name, &code).await;
    let arn = format!("arn:aws:lambda:us-east-1:444455556666:function:{name}");

    lambda
        .tag_resource()
        .resource(&arn)
        .tags("team", "core")
        .tags("env", "dev")
        .send()
        .await
        .expect("TagResource");
    lambda
        .untag_resource()
        .resource(&arn)
        .tag_keys("env")
        .send()
        .await
        .expect("UntagResource");
    let tags = lambda
        .list_tags()
        .resource(&arn)
        .send()
        .await
        .expect("ListTags");
    let tags = tags.tags().expect("tags");
    assert_eq!(tags.len(), 1);
    assert_eq!(tags.get("team").map(String::as_str), Some("core"));
    let missing = lambda
        .list_tags()
        .resource(format!("{arn}-nope"))
        .send()
        .await
        .expect_err("no such function");
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));

    let csc = lambda
        .get_function_code_signing_config()
        .function_name(&name)
        .send()
        .await
        .expect("GetFunctionCodeSigningConfig");
    assert_eq!(csc.function_name(), name);
    assert_eq!(csc.code_signing_config_arn(), "");

    let versions = lambda
        .list_versions_by_function()
        .function_name(&name)
        .send()
        .await
        .expect("ListVersionsByFunction");
    let listed: Vec<_> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(listed, vec!["$LATEST"]);

    let settings = lambda
        .get_account_settings()
        .send()
        .await
        .expect("GetAccountSettings");
    let usage = settings.account_usage().expect("usage");
    assert_eq!(usage.function_count(), 1);
    assert_eq!(usage.total_code_size(), code.len() as i64);
    assert_eq!(
        settings.account_limit().map(|l| l.concurrent_executions()),
        Some(1000)
    );
    server.stop().await;
}

#[tokio::test]
async fn permissions_build_the_functions_resource_policy() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("perm");
    create(
        &lambda,
        &name,
        &python_zip("def handler(e, c):\n    return 1\n"),
    )
    .await;

    let none = lambda
        .get_policy()
        .function_name(&name)
        .send()
        .await
        .expect_err("no policy yet");
    assert_eq!(none.code(), Some("ResourceNotFoundException"));

    let added = lambda
        .add_permission()
        .function_name(&name)
        .statement_id("s3-invoke")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .source_arn("arn:aws:s3:::my-bucket")
        .source_account("000000000000")
        .send()
        .await
        .expect("AddPermission");
    let statement: serde_json::Value =
        serde_json::from_str(added.statement().expect("statement")).expect("JSON statement");
    assert_eq!(statement["Principal"]["Service"], "s3.amazonaws.com");
    assert_eq!(
        statement["Condition"]["ArnLike"]["AWS:SourceArn"],
        "arn:aws:s3:::my-bucket"
    );
    lambda
        .add_permission()
        .function_name(&name)
        .statement_id("account")
        .action("lambda:InvokeFunction")
        .principal("111122223333")
        .send()
        .await
        .expect("AddPermission for an account");
    let dup = lambda
        .add_permission()
        .function_name(&name)
        .statement_id("account")
        .action("lambda:InvokeFunction")
        .principal("111122223333")
        .send()
        .await
        .expect_err("duplicate sid");
    assert_eq!(dup.code(), Some("ResourceConflictException"));

    let policy = lambda
        .get_policy()
        .function_name(&name)
        .send()
        .await
        .expect("GetPolicy");
    let doc: serde_json::Value =
        serde_json::from_str(policy.policy().expect("policy")).expect("policy JSON");
    let sids: Vec<_> = doc["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(sids, vec!["s3-invoke", "account"]);
    assert_eq!(
        doc["Statement"][1]["Principal"]["AWS"],
        "arn:aws:iam::111122223333:root"
    );

    lambda
        .remove_permission()
        .function_name(&name)
        .statement_id("s3-invoke")
        .send()
        .await
        .expect("RemovePermission");
    let gone = lambda
        .remove_permission()
        .function_name(&name)
        .statement_id("s3-invoke")
        .send()
        .await
        .expect_err("already removed");
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));

    // The policy goes with its function.
    lambda
        .delete_function()
        .function_name(&name)
        .send()
        .await
        .expect("DeleteFunction");
    create(
        &lambda,
        &name,
        &python_zip("def handler(e, c):\n    return 1\n"),
    )
    .await;
    let fresh = lambda
        .get_policy()
        .function_name(&name)
        .send()
        .await
        .expect_err("a new function has no policy");
    assert_eq!(fresh.code(), Some("ResourceNotFoundException"));
    server.stop().await;
}

#[tokio::test]
async fn reserved_concurrency_is_kept_and_enforced() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("conc");
    create(
        &lambda,
        &name,
        &python_zip("def handler(e, c):\n    return 'ok'\n"),
    )
    .await;

    let put = lambda
        .put_function_concurrency()
        .function_name(&name)
        .reserved_concurrent_executions(0)
        .send()
        .await
        .expect("PutFunctionConcurrency");
    assert_eq!(put.reserved_concurrent_executions(), Some(0));
    let got = lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .expect("GetFunction");
    assert_eq!(
        got.concurrency()
            .and_then(|c| c.reserved_concurrent_executions()),
        Some(0)
    );
    // A reservation of zero throttles every synchronous invoke.
    let throttled = lambda
        .invoke()
        .function_name(&name)
        .send()
        .await
        .expect_err("throttled");
    assert_eq!(throttled.code(), Some("TooManyRequestsException"));

    let too_much = lambda
        .put_function_concurrency()
        .function_name(&name)
        .reserved_concurrent_executions(950)
        .send()
        .await
        .expect_err("leaves less than 100 unreserved");
    assert_eq!(too_much.code(), Some("InvalidParameterValueException"));

    lambda
        .put_function_concurrency()
        .function_name(&name)
        .reserved_concurrent_executions(100)
        .send()
        .await
        .expect("PutFunctionConcurrency");
    let settings = lambda
        .get_account_settings()
        .send()
        .await
        .expect("settings");
    assert_eq!(
        settings
            .account_limit()
            .map(|l| l.unreserved_concurrent_executions()),
        Some(Some(900))
    );

    lambda
        .delete_function_concurrency()
        .function_name(&name)
        .send()
        .await
        .expect("DeleteFunctionConcurrency");
    let cleared = lambda
        .get_function_concurrency()
        .function_name(&name)
        .send()
        .await
        .expect("GetFunctionConcurrency");
    assert_eq!(cleared.reserved_concurrent_executions(), None);
    if have("python3") {
        let ok = lambda
            .invoke()
            .function_name(&name)
            .send()
            .await
            .expect("Invoke after the reservation is gone");
        assert_eq!(ok.function_error(), None);
    }
    server.stop().await;
}

#[tokio::test]
async fn versions_are_published_frozen_and_invoked_by_qualifier() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("ver");
    let v1_code = python_zip("def handler(e, c):\n    return 'one'\n");
    let created = lambda
        .create_function()
        .function_name(&name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .publish(true)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(v1_code.clone()))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction with Publish");
    assert_eq!(created.version(), Some("1"));
    assert_eq!(
        created.function_arn(),
        Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:1").as_str())
    );
    // Publishing an unchanged $LATEST answers the existing version.
    let again = lambda
        .publish_version()
        .function_name(&name)
        .send()
        .await
        .expect("PublishVersion");
    assert_eq!(again.version(), Some("1"));

    let v2_code = python_zip("def handler(e, c):\n    return 'two'\n");
    lambda
        .update_function_code()
        .function_name(&name)
        .zip_file(Blob::new(v2_code.clone()))
        .send()
        .await
        .expect("UpdateFunctionCode");
    let v2 = lambda
        .publish_version()
        .function_name(&name)
        .description("second")
        .send()
        .await
        .expect("PublishVersion");
    assert_eq!(v2.version(), Some("2"));
    assert_eq!(v2.description(), Some("second"));
    assert_eq!(v2.code_sha256(), Some(sha256_b64(&v2_code).as_str()));

    let listed = lambda
        .list_versions_by_function()
        .function_name(&name)
        .send()
        .await
        .expect("ListVersionsByFunction");
    let versions: Vec<_> = listed
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(versions, vec!["$LATEST", "1", "2"]);

    // Version 1 keeps its own code.
    let v1 = lambda
        .get_function()
        .function_name(&name)
        .qualifier("1")
        .send()
        .await
        .expect("GetFunction :1");
    assert_eq!(
        v1.configuration().and_then(|c| c.code_sha256()),
        Some(sha256_b64(&v1_code).as_str())
    );
    let location = v1.code().and_then(|c| c.location()).expect("location");
    let body = http().get(location).send().await.expect("download");
    assert_eq!(
        body.bytes().await.expect("body").as_ref(),
        v1_code.as_slice()
    );

    if have("python3") {
        let one = lambda
            .invoke()
            .function_name(format!("{name}:1"))
            .send()
            .await
            .expect("Invoke :1");
        assert_eq!(one.executed_version(), Some("1"));
        assert_eq!(json(one.payload()), "one");
        let latest = lambda
            .invoke()
            .function_name(&name)
            .send()
            .await
            .expect("Invoke $LATEST");
        assert_eq!(json(latest.payload()), "two");
    }

    let missing = lambda
        .get_function_configuration()
        .function_name(&name)
        .qualifier("9")
        .send()
        .await
        .expect_err("no version 9");
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));

    lambda
        .delete_function()
        .function_name(&name)
        .qualifier("1")
        .send()
        .await
        .expect("DeleteFunction :1");
    let listed = lambda
        .list_versions_by_function()
        .function_name(&name)
        .send()
        .await
        .expect("ListVersionsByFunction");
    let versions: Vec<_> = listed
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(versions, vec!["$LATEST", "2"]);
    server.stop().await;
}

#[tokio::test]
async fn aliases_name_versions_and_route_by_weight() {
    use aws_sdk_lambda::types::AliasRoutingConfiguration;
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("alias");
    create(
        &lambda,
        &name,
        &python_zip("def handler(e, c):\n    return 'one'\n"),
    )
    .await;
    lambda
        .publish_version()
        .function_name(&name)
        .send()
        .await
        .expect("publish 1");
    lambda
        .update_function_code()
        .function_name(&name)
        .zip_file(Blob::new(python_zip(
            "def handler(e, c):\n    return 'two'\n",
        )))
        .publish(true)
        .send()
        .await
        .expect("publish 2");

    let created = lambda
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version("1")
        .description("prod")
        .send()
        .await
        .expect("CreateAlias");
    assert_eq!(
        created.alias_arn(),
        Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:live").as_str())
    );
    let dup = lambda
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version("1")
        .send()
        .await
        .expect_err("duplicate alias");
    assert_eq!(dup.code(), Some("ResourceConflictException"));
    let bad_version = lambda
        .create_alias()
        .function_name(&name)
        .name("next")
        .function_version("7")
        .send()
        .await
        .expect_err("no version 7");
    assert_eq!(bad_version.code(), Some("ResourceNotFoundException"));

    // All traffic to the additional version, so the outcome is certain.
    let updated = lambda
        .update_alias()
        .function_name(&name)
        .name("live")
        .routing_config(
            AliasRoutingConfiguration::builder()
                .additional_version_weights("2", 1.0)
                .build(),
        )
        .revision_id(created.revision_id().expect("revision"))
        .send()
        .await
        .expect("UpdateAlias");
    assert_eq!(updated.function_version(), Some("1"));
    assert_ne!(updated.revision_id(), created.revision_id());

    let got = lambda
        .get_function_configuration()
        .function_name(&name)
        .qualifier("live")
        .send()
        .await
        .expect("GetFunctionConfiguration via alias");
    assert_eq!(got.version(), Some("2"));
    if have("python3") {
        let out = lambda
            .invoke()
            .function_name(format!("{name}:live"))
            .send()
            .await
            .expect("Invoke via alias");
        assert_eq!(out.executed_version(), Some("2"));
        assert_eq!(json(out.payload()), "two");
    }

    let listed = lambda
        .list_aliases()
        .function_name(&name)
        .send()
        .await
        .expect("ListAliases");
    assert_eq!(listed.aliases().len(), 1);
    assert_eq!(listed.aliases()[0].description(), Some("prod"));
    lambda
        .delete_alias()
        .function_name(&name)
        .name("live")
        .send()
        .await
        .expect("DeleteAlias");
    let gone = lambda
        .get_alias()
        .function_name(&name)
        .name("live")
        .send()
        .await
        .expect_err("deleted alias");
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));
    server.stop().await;
}

/// Versions and aliases have policies of their own (API Gateway and S3 grants usually name an
/// alias); each goes with its alias or version.
#[tokio::test]
async fn versions_and_aliases_have_their_own_policies() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("qperm");
    create(
        &lambda,
        &name,
        &python_zip("def handler(e, c):\n    return 1\n"),
    )
    .await;
    let v1 = lambda
        .publish_version()
        .function_name(&name)
        .send()
        .await
        .expect("PublishVersion");
    let v1 = v1.version().expect("version").to_string();
    lambda
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version(&v1)
        .send()
        .await
        .expect("CreateAlias");

    let added = lambda
        .add_permission()
        .function_name(&name)
        .qualifier("live")
        .statement_id("apigw")
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .send()
        .await
        .expect("AddPermission on an alias");
    let statement: serde_json::Value =
        serde_json::from_str(added.statement().expect("statement")).expect("JSON");
    let arn = lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .expect("GetFunction")
        .configuration()
        .and_then(|c| c.function_arn())
        .expect("arn")
        .to_string();
    assert_eq!(statement["Resource"], format!("{arn}:live"));
    // `name:qualifier` addresses the same policy as the Qualifier parameter.
    lambda
        .add_permission()
        .function_name(format!("{name}:{v1}"))
        .statement_id("apigw")
        .action("lambda:InvokeFunction")
        .principal("apigateway.amazonaws.com")
        .send()
        .await
        .expect("AddPermission on a version");

    let alias_policy = lambda
        .get_policy()
        .function_name(&name)
        .qualifier("live")
        .send()
        .await
        .expect("GetPolicy for the alias");
    let doc: serde_json::Value =
        serde_json::from_str(alias_policy.policy().expect("policy")).expect("JSON");
    assert_eq!(doc["Statement"][0]["Sid"], "apigw");
    // The unqualified function's policy is a different one, still empty.
    let err = lambda
        .get_policy()
        .function_name(&name)
        .send()
        .await
        .expect_err("function policy empty");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    // A qualifier that names nothing.
    let err = lambda
        .add_permission()
        .function_name(&name)
        .qualifier("nope")
        .statement_id("x")
        .action("lambda:InvokeFunction")
        .principal("s3.amazonaws.com")
        .send()
        .await
        .expect_err("no such alias");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));

    // Deleting the alias deletes its policy: a new alias of the same name starts empty.
    lambda
        .delete_alias()
        .function_name(&name)
        .name("live")
        .send()
        .await
        .expect("DeleteAlias");
    lambda
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version(&v1)
        .send()
        .await
        .expect("CreateAlias again");
    let err = lambda
        .get_policy()
        .function_name(&name)
        .qualifier("live")
        .send()
        .await
        .expect_err("new alias, no policy");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    // The version's policy is still there until the version goes.
    lambda
        .remove_permission()
        .function_name(&name)
        .qualifier(&v1)
        .statement_id("apigw")
        .send()
        .await
        .expect("RemovePermission on the version");
    server.stop().await;
}
