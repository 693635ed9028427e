//! Lambda layers through the AWS SDK for Rust: published from real zips, listed, shared by
//! policy, referenced by functions, and seen by python, node and `provided` functions under
//! their environment's own `/opt`.

use crate::harness::{http, unique, TestServer};
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, FunctionCode, LayerVersionContentInput, Runtime};
use base64::Engine;
use sha2::{Digest, Sha256};
use std::io::Write;

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

/// A deflated zip of the given files (directories are implied by the paths).
pub(crate) fn zip_of(files: &[(&str, &str)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    for (name, body) in files {
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(body.as_bytes()).expect("zip write");
    }
    w.finish().expect("zip").into_inner()
}

fn client(server: &TestServer) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&server.sdk_config())
}

pub(crate) fn have(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()));
    if !found {
        eprintln!("SKIPPED: `{program}` is not on PATH; this test runs a real {program} function");
    }
    found
}

async fn publish(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    zip: &[u8],
    runtimes: &[Runtime],
) -> aws_sdk_lambda::operation::publish_layer_version::PublishLayerVersionOutput {
    lambda
        .publish_layer_version()
        .layer_name(name)
        .description("shared code")
        .set_compatible_runtimes(Some(runtimes.to_vec()))
        .compatible_architectures(Architecture::X8664)
        .license_info("MIT")
        .content(
            LayerVersionContentInput::builder()
                .zip_file(Blob::new(zip))
                .build(),
        )
        .send()
        .await
        .expect("PublishLayerVersion")
}

async fn create_fn(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    runtime: Runtime,
    handler: &str,
    code: &[u8],
    layers: &[&str],
) -> Result<
    aws_sdk_lambda::operation::create_function::CreateFunctionOutput,
    aws_sdk_lambda::error::SdkError<
        aws_sdk_lambda::operation::create_function::CreateFunctionError,
    >,
> {
    lambda
        .create_function()
        .function_name(name)
        .runtime(runtime)
        .handler(handler)
        .role(ROLE)
        .timeout(20)
        .set_layers(Some(layers.iter().map(|s| s.to_string()).collect()))
        .code(FunctionCode::builder().zip_file(Blob::new(code)).build())
        .send()
        .await
}

fn payload_json(out: &aws_sdk_lambda::operation::invoke::InvokeOutput) -> serde_json::Value {
    serde_json::from_slice(out.payload().expect("payload").as_ref()).expect("JSON payload")
}

#[tokio::test]
async fn layer_versions_are_published_listed_shared_and_deleted() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("layer");
    let zip1 = zip_of(&[("python/helper.py", "X = 1\n")]);
    let zip2 = zip_of(&[("python/helper.py", "X = 2\n")]);

    let v1 = publish(&lambda, &name, &zip1, &[Runtime::Python312]).await;
    let layer_arn = format!("arn:aws:lambda:us-east-1:000000000000:layer:{name}");
    assert_eq!(v1.layer_arn(), Some(layer_arn.as_str()));
    assert_eq!(
        v1.layer_version_arn(),
        Some(format!("{layer_arn}:1").as_str())
    );
    assert_eq!(v1.version(), 1);
    assert_eq!(v1.description(), Some("shared code"));
    assert_eq!(v1.license_info(), Some("MIT"));
    assert_eq!(v1.compatible_runtimes(), &[Runtime::Python312]);
    assert_eq!(v1.compatible_architectures(), &[Architecture::X8664]);
    let content = v1.content().expect("Content");
    let sha = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&zip1));
    assert_eq!(content.code_sha256(), Some(sha.as_str()));
    assert_eq!(content.code_size(), zip1.len() as i64);
    let downloaded = http()
        .get(content.location().expect("Location"))
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("body");
    assert_eq!(downloaded.as_ref(), zip1.as_slice());
    assert!(v1.created_date().is_some_and(|d| d.ends_with("+0000")));

    let v2 = publish(&lambda, &name, &zip2, &[Runtime::Nodejs20x]).await;
    assert_eq!(v2.version(), 2);

    // Get by name and number, and by ARN.
    let got = lambda
        .get_layer_version()
        .layer_name(&name)
        .version_number(1)
        .send()
        .await
        .expect("GetLayerVersion");
    assert_eq!(got.layer_version_arn(), v1.layer_version_arn());
    assert_eq!(
        got.content().and_then(|c| c.code_sha256()),
        Some(sha.as_str())
    );
    let by_arn = lambda
        .get_layer_version_by_arn()
        .arn(format!("{layer_arn}:2"))
        .send()
        .await
        .expect("GetLayerVersionByArn");
    assert_eq!(by_arn.version(), 2);
    let by_layer_arn = lambda
        .get_layer_version()
        .layer_name(&layer_arn)
        .version_number(2)
        .send()
        .await
        .expect("GetLayerVersion by layer ARN");
    assert_eq!(by_layer_arn.version(), 2);

    // Listings: newest first, filtered by runtime, paged.
    let all = lambda
        .list_layer_versions()
        .layer_name(&name)
        .send()
        .await
        .expect("ListLayerVersions");
    let numbers: Vec<i64> = all.layer_versions().iter().map(|v| v.version()).collect();
    assert_eq!(numbers, vec![2, 1]);
    let page = lambda
        .list_layer_versions()
        .layer_name(&name)
        .max_items(1)
        .send()
        .await
        .expect("page 1");
    assert_eq!(page.layer_versions().len(), 1);
    let rest = lambda
        .list_layer_versions()
        .layer_name(&name)
        .marker(page.next_marker().expect("NextMarker"))
        .send()
        .await
        .expect("page 2");
    assert_eq!(rest.layer_versions()[0].version(), 1);
    assert!(rest.next_marker().is_none());
    let python_only = lambda
        .list_layer_versions()
        .layer_name(&name)
        .compatible_runtime(Runtime::Python312)
        .send()
        .await
        .expect("filtered");
    assert_eq!(python_only.layer_versions().len(), 1);
    assert_eq!(python_only.layer_versions()[0].version(), 1);

    let layers = lambda.list_layers().send().await.expect("ListLayers");
    let ours = layers
        .layers()
        .iter()
        .find(|l| l.layer_name() == Some(name.as_str()))
        .expect("our layer is listed");
    assert_eq!(ours.layer_arn(), Some(layer_arn.as_str()));
    assert_eq!(ours.latest_matching_version().map(|v| v.version()), Some(2));
    let for_python = lambda
        .list_layers()
        .compatible_runtime(Runtime::Python312)
        .send()
        .await
        .expect("ListLayers filtered");
    let ours = for_python
        .layers()
        .iter()
        .find(|l| l.layer_name() == Some(name.as_str()))
        .expect("listed for python");
    assert_eq!(ours.latest_matching_version().map(|v| v.version()), Some(1));

    // Policies.
    let none = lambda
        .get_layer_version_policy()
        .layer_name(&name)
        .version_number(1)
        .send()
        .await
        .expect_err("no policy yet");
    assert_eq!(none.code(), Some("ResourceNotFoundException"));
    let added = lambda
        .add_layer_version_permission()
        .layer_name(&name)
        .version_number(1)
        .statement_id("share")
        .action("lambda:GetLayerVersion")
        .principal("123456789012")
        .send()
        .await
        .expect("AddLayerVersionPermission");
    let statement: serde_json::Value =
        serde_json::from_str(added.statement().expect("Statement")).expect("JSON statement");
    assert_eq!(
        statement["Principal"]["AWS"],
        "arn:aws:iam::123456789012:root"
    );
    assert_eq!(statement["Resource"], format!("{layer_arn}:1"));
    let dup = lambda
        .add_layer_version_permission()
        .layer_name(&name)
        .version_number(1)
        .statement_id("share")
        .action("lambda:GetLayerVersion")
        .principal("*")
        .send()
        .await
        .expect_err("statement ids are unique");
    assert_eq!(dup.code(), Some("ResourceConflictException"));
    let stale = lambda
        .add_layer_version_permission()
        .layer_name(&name)
        .version_number(1)
        .statement_id("other")
        .action("lambda:GetLayerVersion")
        .principal("*")
        .revision_id("not-the-revision")
        .send()
        .await
        .expect_err("stale revision");
    assert_eq!(stale.code(), Some("PreconditionFailedException"));
    let policy = lambda
        .get_layer_version_policy()
        .layer_name(&name)
        .version_number(1)
        .send()
        .await
        .expect("GetLayerVersionPolicy");
    assert_eq!(policy.revision_id(), added.revision_id());
    let doc: serde_json::Value =
        serde_json::from_str(policy.policy().expect("Policy")).expect("policy JSON");
    assert_eq!(doc["Statement"][0]["Sid"], "share");
    lambda
        .remove_layer_version_permission()
        .layer_name(&name)
        .version_number(1)
        .statement_id("share")
        .send()
        .await
        .expect("RemoveLayerVersionPermission");
    let gone = lambda
        .remove_layer_version_permission()
        .layer_name(&name)
        .version_number(1)
        .statement_id("share")
        .send()
        .await
        .expect_err("already removed");
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));

    // Deletion: idempotent, and version numbers are never reused.
    lambda
        .delete_layer_version()
        .layer_name(&name)
        .version_number(2)
        .send()
        .await
        .expect("DeleteLayerVersion");
    lambda
        .delete_layer_version()
        .layer_name(&name)
        .version_number(2)
        .send()
        .await
        .expect("deleting again succeeds");
    let missing = lambda
        .get_layer_version()
        .layer_name(&name)
        .version_number(2)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        missing.message(),
        Some("The resource you requested does not exist.")
    );
    let v3 = publish(&lambda, &name, &zip2, &[]).await;
    assert_eq!(v3.version(), 3);
    assert!(v3.compatible_runtimes().is_empty());

    let bad = lambda
        .publish_layer_version()
        .layer_name(&name)
        .content(
            LayerVersionContentInput::builder()
                .zip_file(Blob::new("not a zip"))
                .build(),
        )
        .send()
        .await
        .expect_err("not a zip");
    assert_eq!(bad.code(), Some("InvalidParameterValueException"));
    server.stop().await;
}

#[tokio::test]
async fn functions_reference_layers_as_lambda_validates_them() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let layer = unique("lib");
    let zip = zip_of(&[("python/lib.py", "VALUE = 'from layer'\n")]);
    let v1 = publish(&lambda, &layer, &zip, &[Runtime::Python312]).await;
    let v2 = publish(&lambda, &layer, &zip, &[Runtime::Python312]).await;
    let arn1 = v1.layer_version_arn().expect("arn").to_string();
    let arn2 = v2.layer_version_arn().expect("arn").to_string();
    let code = zip_of(&[("app.py", "def handler(e, c):\n    return 1\n")]);

    let missing = format!("{arn1}9");
    let err = create_fn(
        &lambda,
        &unique("fn"),
        Runtime::Python312,
        "app.handler",
        &code,
        &[&missing],
    )
    .await
    .expect_err("no such layer version");
    assert_eq!(err.code(), Some("InvalidParameterValueException"));
    assert_eq!(
        err.message(),
        Some(format!("Layer version {missing} does not exist.").as_str())
    );
    let six: Vec<&str> = std::iter::repeat_n(arn1.as_str(), 6).collect();
    let err = create_fn(
        &lambda,
        &unique("fn"),
        Runtime::Python312,
        "app.handler",
        &code,
        &six,
    )
    .await
    .expect_err("at most 5 layers");
    assert_eq!(err.message(), Some("Cannot reference more than 5 layers."));
    let err = create_fn(
        &lambda,
        &unique("fn"),
        Runtime::Python312,
        "app.handler",
        &code,
        &[&arn1, &arn2],
    )
    .await
    .expect_err("one version per layer");
    assert_eq!(err.code(), Some("InvalidParameterValueException"));
    assert!(err
        .message()
        .is_some_and(|m| m.starts_with("Two different versions of the same layer")));

    let name = unique("fn");
    let created = create_fn(
        &lambda,
        &name,
        Runtime::Python312,
        "app.handler",
        &code,
        &[&arn1],
    )
    .await
    .expect("CreateFunction with a layer");
    let layers = created.layers();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].arn(), Some(arn1.as_str()));
    assert_eq!(layers[0].code_size(), zip.len() as i64);
    let updated = lambda
        .update_function_configuration()
        .function_name(&name)
        .layers(&arn2)
        .send()
        .await
        .expect("UpdateFunctionConfiguration");
    assert_eq!(updated.layers()[0].arn(), Some(arn2.as_str()));

    // A version a function uses can be deleted; the function keeps it, as on Lambda.
    lambda
        .delete_layer_version()
        .layer_name(&layer)
        .version_number(2)
        .send()
        .await
        .expect("DeleteLayerVersion");
    let cfg = lambda
        .get_function_configuration()
        .function_name(&name)
        .send()
        .await
        .expect("GetFunctionConfiguration");
    assert_eq!(cfg.layers()[0].arn(), Some(arn2.as_str()));
    if have("python3") {
        let out = lambda
            .invoke()
            .function_name(&name)
            .send()
            .await
            .expect("Invoke");
        assert_eq!(out.function_error(), None, "{:?}", payload_json(&out));
    }

    let cleared = lambda
        .update_function_configuration()
        .function_name(&name)
        .set_layers(Some(vec![]))
        .send()
        .await
        .expect("remove layers");
    assert!(cleared.layers().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn python_functions_import_from_their_layers_under_their_own_opt() {
    if !have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let deps = publish(
        &lambda,
        &unique("deps"),
        &zip_of(&[
            ("python/greeting.py", "WORD = 'first'\n"),
            (
                "python/lib/python3.12/site-packages/shout/__init__.py",
                "def shout(s):\n    return s.upper() + '!'\n",
            ),
        ]),
        &[Runtime::Python312],
    )
    .await;
    // A later layer overrides an earlier one's files.
    let overrides = publish(
        &lambda,
        &unique("override"),
        &zip_of(&[("python/greeting.py", "WORD = 'hello'\n")]),
        &[Runtime::Python312],
    )
    .await;
    let code = zip_of(&[(
        "app.py",
        "import os, sys, greeting\nfrom shout import shout\n\
         def handler(event, context):\n\
         \x20   return {'msg': shout(greeting.WORD), 'file': greeting.__file__,\n\
         \x20           'path': os.environ['PATH'], 'pythonpath': os.environ.get('PYTHONPATH'),\n\
         \x20           'task': os.environ['LAMBDA_TASK_ROOT']}\n",
    )]);
    let name = unique("py");
    create_fn(
        &lambda,
        &name,
        Runtime::Python312,
        "app.handler",
        &code,
        &[
            deps.layer_version_arn().expect("arn"),
            overrides.layer_version_arn().expect("arn"),
        ],
    )
    .await
    .expect("CreateFunction");
    let out = lambda
        .invoke()
        .function_name(&name)
        .send()
        .await
        .expect("Invoke");
    let body = payload_json(&out);
    assert_eq!(out.function_error(), None, "{body}");
    assert_eq!(body["msg"], "HELLO!");
    // The layer lives in the environment's own opt, beside its task root, not in /opt.
    let task = body["task"].as_str().expect("task root");
    let env_root = task.strip_suffix("/task").expect("task root layout");
    let file = body["file"].as_str().expect("module file");
    assert_eq!(file, format!("{env_root}/opt/python/greeting.py"));
    assert!(!file.starts_with("/opt/"));
    assert!(body["path"]
        .as_str()
        .is_some_and(|p| p.ends_with(&format!(":{env_root}/opt/bin"))));
    server.stop().await;
}

#[tokio::test]
async fn node_and_provided_functions_find_their_layers() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    if have("node") {
        let modules = publish(
            &lambda,
            &unique("nodemods"),
            &zip_of(&[
                (
                    "nodejs/node_modules/greet/index.js",
                    "module.exports = (n) => `hi ${n}`;\n",
                ),
                (
                    "nodejs/node20/node_modules/versioned/index.js",
                    "module.exports = 'node20 modules';\n",
                ),
            ]),
            &[Runtime::Nodejs20x],
        )
        .await;
        let name = unique("node");
        create_fn(
            &lambda,
            &name,
            Runtime::Nodejs20x,
            "index.handler",
            &zip_of(&[(
                "index.js",
                "const greet = require('greet');\nconst v = require('versioned');\n\
                 exports.handler = async (e) => ({ msg: greet(e.who), v });\n",
            )]),
            &[modules.layer_version_arn().expect("arn")],
        )
        .await
        .expect("CreateFunction");
        let out = lambda
            .invoke()
            .function_name(&name)
            .payload(Blob::new(r#"{"who":"layers"}"#))
            .send()
            .await
            .expect("Invoke");
        let body = payload_json(&out);
        assert_eq!(out.function_error(), None, "{body}");
        assert_eq!(body["msg"], "hi layers");
        assert_eq!(body["v"], "node20 modules");
    }
    if have("bash") {
        let tools = publish(
            &lambda,
            &unique("tools"),
            &zip_of(&[("bin/layer-tool", "#!/bin/sh\necho from-layer-bin\n")]),
            &[Runtime::Providedal2023],
        )
        .await;
        let bootstrap = "#!/bin/bash\n\
            while true; do\n\
              HEADERS=$(mktemp)\n\
              curl -sS -D \"$HEADERS\" -o /dev/null \"http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/next\"\n\
              ID=$(grep -i lambda-runtime-aws-request-id \"$HEADERS\" | tr -d '\\r' | cut -d' ' -f2)\n\
              OUT=$(layer-tool)\n\
              curl -sS -o /dev/null -X POST -d \"{\\\"out\\\":\\\"$OUT\\\",\\\"lib\\\":\\\"$LD_LIBRARY_PATH\\\"}\" \"http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime/invocation/$ID/response\"\n\
            done\n";
        if have("curl") {
            let name = unique("custom");
            create_fn(
                &lambda,
                &name,
                Runtime::Providedal2023,
                "x.y",
                &zip_of(&[("bootstrap", bootstrap)]),
                &[tools.layer_version_arn().expect("arn")],
            )
            .await
            .expect("CreateFunction");
            let out = lambda
                .invoke()
                .function_name(&name)
                .send()
                .await
                .expect("Invoke");
            let body = payload_json(&out);
            assert_eq!(out.function_error(), None, "{body}");
            assert_eq!(body["out"], "from-layer-bin");
            assert!(body["lib"]
                .as_str()
                .is_some_and(|l| l.ends_with("/opt/lib")));
        }
    }
    server.stop().await;
}

/// A layer's zip lives in the object store; the start-up sweep of orphaned bodies must know it
/// is referenced, or a restart would delete every layer's content.
#[tokio::test]
async fn layer_content_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let name = unique("keep-layer");
    let zip = zip_of(&[("python/kept.py", "VALUE = 7\n")]);
    let first = TestServer::disk_at(dir.path()).await;
    let published = publish(&client(&first), &name, &zip, &[Runtime::Python312]).await;
    let version = published.version();
    first.stop().await;

    let second = TestServer::disk_at(dir.path()).await;
    let got = client(&second)
        .get_layer_version()
        .layer_name(&name)
        .version_number(version)
        .send()
        .await
        .expect("GetLayerVersion after restart");
    let location = got
        .content()
        .and_then(|c| c.location())
        .expect("Location")
        .to_string();
    let downloaded = http()
        .get(location)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("body");
    assert_eq!(downloaded.as_ref(), zip.as_slice());
}
