//! Function logs in the data dir (one stream per environment, as CloudWatch Logs will serve
//! them), and nothing left behind in memory mode.

use crate::harness::{unique, TestServer};
use crate::lambda_layers::{have, zip_of};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use std::path::{Path, PathBuf};

const ROLE: &str = "arn:aws:iam::000000000000:role/lambda-role";

const APP: &str = r#"
import os
def handler(event, context):
    print("handled", event.get("n"))
    return {"stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
            "group": os.environ["AWS_LAMBDA_LOG_GROUP_NAME"],
            "task": os.environ["LAMBDA_TASK_ROOT"]}
"#;

async fn create_and_invoke(server: &TestServer, name: &str, times: usize) -> serde_json::Value {
    let lambda = aws_sdk_lambda::Client::new(&server.sdk_config());
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .timeout(20)
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip_of(&[("app.py", APP)])))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");
    let mut last = serde_json::Value::Null;
    for n in 0..times {
        let out = lambda
            .invoke()
            .function_name(name)
            .payload(Blob::new(format!(r#"{{"n":{n}}}"#)))
            .send()
            .await
            .expect("Invoke");
        last = serde_json::from_slice(out.payload().expect("payload").as_ref()).expect("JSON");
        assert_eq!(out.function_error(), None, "{last}");
    }
    last
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The events of every stream under a group directory, waiting for the writer to catch up.
async fn read_streams(
    group_dir: &Path,
    want_events: usize,
) -> Vec<(String, Vec<serde_json::Value>)> {
    for _ in 0..100 {
        let mut streams = Vec::new();
        if let Ok(entries) = std::fs::read_dir(group_dir) {
            for e in entries.flatten() {
                let file = e.file_name().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                let events: Vec<serde_json::Value> = text
                    .lines()
                    .map(|l| serde_json::from_str(l).expect("one JSON event per line"))
                    .collect();
                streams.push((decode(file.trim_end_matches(".jsonl")), events));
            }
        }
        if streams.iter().map(|(_, e)| e.len()).sum::<usize>() >= want_events {
            return streams;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the function's log never reached {}", group_dir.display());
}

#[tokio::test]
async fn invocations_are_logged_per_environment_in_the_data_dir() {
    if !have("python3") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::disk_at(dir.path()).await;
    let name = unique("logged");
    let seen = create_and_invoke(&server, &name, 2).await;
    assert_eq!(seen["group"], format!("/aws/lambda/{name}"));
    let group_dir: PathBuf = dir
        .path()
        .join("lambda-logs/000000000000/us-east-1")
        .join(format!("%2Faws%2Flambda%2F{name}"));
    // Two invocations: START, the function's line, END and REPORT each.
    let streams = read_streams(&group_dir, 8).await;
    assert_eq!(streams.len(), 1, "one warm environment, one stream");
    let (stream, events) = &streams[0];
    assert_eq!(stream, seen["stream"].as_str().expect("stream name"));
    assert!(stream.contains("/[$LATEST]"), "{stream}");
    let messages: Vec<&str> = events
        .iter()
        .map(|e| e["message"].as_str().expect("message"))
        .collect();
    assert_eq!(messages.len(), 8, "{messages:?}");
    assert!(
        messages[0].starts_with("START RequestId: ")
            && messages[0].ends_with(" Version: $LATEST\n")
    );
    assert_eq!(messages[1], "handled 0\n");
    assert!(messages[2].starts_with("END RequestId: "));
    let report = messages[3];
    assert!(report.starts_with("REPORT RequestId: "), "{report}");
    for field in [
        "\tDuration: ",
        "\tBilled Duration: ",
        "\tMemory Size: 128 MB",
        "\tMax Memory Used: ",
        "\tInit Duration: ",
    ] {
        assert!(report.contains(field), "{field} missing from {report}");
    }
    assert_eq!(messages[5], "handled 1\n");
    assert!(
        !messages[7].contains("Init Duration"),
        "a warm invocation has no init"
    );
    let ts = events[0]["timestamp"].as_i64().expect("timestamp");
    assert!(ts > 1_700_000_000_000);
    server.stop().await;
}

#[tokio::test]
async fn memory_mode_leaves_no_environment_files_behind() {
    if !have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let seen = create_and_invoke(&server, &unique("tmp"), 1).await;
    let task = PathBuf::from(seen["task"].as_str().expect("task root"));
    let work_dir = task
        .parent()
        .and_then(Path::parent)
        .expect("environment tree")
        .to_path_buf();
    assert!(work_dir.exists());
    assert!(work_dir
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("cloudemu-lambda-")));
    server.stop().await;
    assert!(!work_dir.exists(), "{} left behind", work_dir.display());
}
