//! Lambda's control plane through the AWS SDK for Rust: real zips built in the test, stored,
//! served back from `Code.Location`, updated, listed, deleted, and kept across a restart.

use crate::harness::{http, unique, TestServer};
use aws_sdk_lambda::client::Waiters;
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, PackageType, Runtime, State};
use base64::Engine;
use sha2::{Digest, Sha256};

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
        .expect_err("S3 code not yet");
    assert_eq!(
        s3.code(),
        Some("InvalidParameterValueException"),
        "{:?}",
        s3.message()
    );
    assert!(s3.message().unwrap_or_default().contains("S3Bucket"));

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
