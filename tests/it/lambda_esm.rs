//! SQS event source mappings: the control plane as Lambda answers it, and real python functions
//! fed from real queues (success, function errors to the DLQ, ReportBatchItemFailures, disable,
//! restart).

use super::{client, create, have, python_zip, ROLE};
use crate::harness::{unique, TestServer};
use aws_sdk_lambda::error::ProvideErrorMetadata;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Environment, FunctionCode, FunctionResponseType, Runtime};
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use md5::Digest as _;
use std::time::{Duration, Instant};

/// A function that forwards each record (as a JSON summary) to OUT_QUEUE through CloudEmu's
/// SQS JSON API, reports bodies starting with "fail" as batch item failures, or raises on them
/// when MODE=raise.
const FORWARDER: &str = r#"
import json, os, urllib.request

def send(queue_url, body):
    req = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"] + "/",
        data=json.dumps({"QueueUrl": queue_url, "MessageBody": body}).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.SendMessage",
            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/%s/sqs/aws4_request, SignedHeaders=host, Signature=0"
            % (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_REGION"]),
        },
    )
    urllib.request.urlopen(req).read()

def handler(event, context):
    failures = []
    for r in event["Records"]:
        if r["body"].startswith("fail"):
            failures.append({"itemIdentifier": r["messageId"]})
            continue
        send(os.environ["OUT_QUEUE"], json.dumps({
            "body": r["body"],
            "eventSource": r["eventSource"],
            "eventSourceARN": r["eventSourceARN"],
            "awsRegion": r["awsRegion"],
            "receiveCount": r["attributes"]["ApproximateReceiveCount"],
            "sent": r["attributes"]["SentTimestamp"],
            "color": r["messageAttributes"].get("color", {}).get("stringValue"),
            "md5OfBody": r["md5OfBody"],
            "hasReceiptHandle": bool(r["receiptHandle"]),
            "batch": len(event["Records"]),
        }))
    if failures and os.environ.get("MODE") == "raise":
        raise RuntimeError("asked to fail")
    return {"batchItemFailures": failures}
"#;

struct Queues {
    sqs: aws_sdk_sqs::Client,
}

impl Queues {
    async fn create(&self, name: &str, attrs: &[(QueueAttributeName, String)]) -> (String, String) {
        let mut req = self.sqs.create_queue().queue_name(name);
        for (k, v) in attrs {
            req = req.attributes(k.clone(), v);
        }
        let url = req
            .send()
            .await
            .expect("CreateQueue")
            .queue_url
            .expect("url");
        let arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes
            .expect("attributes")[&QueueAttributeName::QueueArn]
            .clone();
        (url, arn)
    }

    async fn send(&self, url: &str, body: &str) {
        self.sqs
            .send_message()
            .queue_url(url)
            .message_body(body)
            .message_attributes(
                "color",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("blue")
                    .build()
                    .expect("attribute"),
            )
            .send()
            .await
            .expect("SendMessage");
    }

    /// Receive (and delete) every message that arrives until `want` have, or 60 s pass.
    async fn drain(&self, url: &str, want: usize) -> Vec<String> {
        self.drain_for(url, want, 60).await
    }

    /// [`Self::drain`] giving up after `secs` (to check that nothing more arrives).
    async fn drain_for(&self, url: &str, want: usize, secs: u64) -> Vec<String> {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(secs);
        while got.len() < want && Instant::now() < deadline {
            let out = self
                .sqs
                .receive_message()
                .queue_url(url)
                .max_number_of_messages(10)
                .wait_time_seconds(2)
                .send()
                .await
                .expect("ReceiveMessage");
            for m in out.messages.unwrap_or_default() {
                got.push(m.body.clone().unwrap_or_default());
                self.sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(m.receipt_handle.unwrap_or_default())
                    .send()
                    .await
                    .expect("DeleteMessage");
            }
        }
        got
    }

    /// Messages in the queue, visible or not.
    async fn count(&self, url: &str) -> i64 {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .expect("GetQueueAttributes")
            .attributes
            .unwrap_or_default();
        let n = |k: QueueAttributeName| -> i64 {
            attrs.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        n(QueueAttributeName::ApproximateNumberOfMessages)
            + n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
    }
}

fn queues(server: &TestServer) -> Queues {
    Queues {
        sqs: aws_sdk_sqs::Client::new(&server.sdk_config()),
    }
}

async fn create_forwarder(lambda: &aws_sdk_lambda::Client, name: &str, vars: &[(&str, &str)]) {
    let mut env = Environment::builder();
    for (k, v) in vars {
        env = env.variables(*k, *v);
    }
    lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .timeout(10)
        .environment(env.build())
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(python_zip(FORWARDER)))
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction");
}

fn parse(bodies: &[String]) -> Vec<serde_json::Value> {
    bodies
        .iter()
        .map(|b| serde_json::from_str(b).expect("forwarded JSON"))
        .collect()
}

#[tokio::test]
async fn mapping_control_plane_answers_as_lambda_does() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let q = queues(&server);
    let name = unique("esm");
    create(
        &lambda,
        &name,
        &python_zip("def handler(e, c):\n    return e\n"),
    )
    .await;
    let (_, arn) = q.create(&unique("src"), &[]).await;
    let (_, arn2) = q.create(&unique("src2"), &[]).await;

    let created = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&arn)
        .batch_size(5)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .expect("CreateEventSourceMapping");
    let uuid = created.uuid().expect("UUID").to_string();
    assert_eq!(created.state(), Some("Creating"));
    assert_eq!(created.state_transition_reason(), Some("USER_INITIATED"));
    assert_eq!(created.batch_size(), Some(5));
    assert_eq!(created.maximum_batching_window_in_seconds(), Some(0));
    assert_eq!(created.event_source_arn(), Some(arn.as_str()));
    assert_eq!(
        created.function_arn(),
        Some(format!("arn:aws:lambda:us-east-1:000000000000:function:{name}").as_str())
    );
    assert!(created.last_modified().is_some());
    assert_eq!(
        created.function_response_types(),
        &[FunctionResponseType::ReportBatchItemFailures]
    );

    let got = lambda
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .expect("GetEventSourceMapping");
    assert_eq!(got.state(), Some("Enabled"));

    // A second mapping on another queue, disabled from the start.
    let second = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&arn2)
        .enabled(false)
        .batch_size(100)
        .maximum_batching_window_in_seconds(2)
        .send()
        .await
        .expect("second mapping");
    let uuid2 = second.uuid().expect("UUID").to_string();
    let got2 = lambda
        .get_event_source_mapping()
        .uuid(&uuid2)
        .send()
        .await
        .expect("get");
    assert_eq!(got2.state(), Some("Disabled"));

    // Listing: by function (paged), by source.
    let page = lambda
        .list_event_source_mappings()
        .function_name(&name)
        .max_items(1)
        .send()
        .await
        .expect("List");
    assert_eq!(page.event_source_mappings().len(), 1);
    let marker = page.next_marker().expect("NextMarker").to_string();
    let rest = lambda
        .list_event_source_mappings()
        .function_name(&name)
        .marker(marker)
        .send()
        .await
        .expect("List page 2");
    assert_eq!(rest.event_source_mappings().len(), 1);
    assert!(rest.next_marker().is_none());
    let mut seen: Vec<String> = page
        .event_source_mappings()
        .iter()
        .chain(rest.event_source_mappings())
        .map(|m| m.uuid().unwrap_or_default().to_string())
        .collect();
    seen.sort();
    let mut want = vec![uuid.clone(), uuid2.clone()];
    want.sort();
    assert_eq!(seen, want);
    let by_source = lambda
        .list_event_source_mappings()
        .event_source_arn(&arn2)
        .send()
        .await
        .expect("List by source");
    assert_eq!(by_source.event_source_mappings().len(), 1);
    assert_eq!(
        by_source.event_source_mappings()[0].uuid(),
        Some(uuid2.as_str())
    );

    // Errors as Lambda gives them.
    let dup = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&arn)
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(dup.code(), Some("ResourceConflictException"));
    assert!(dup.message().unwrap_or_default().contains(&uuid));
    let missing_fn = lambda
        .create_event_source_mapping()
        .function_name(unique("nope"))
        .event_source_arn(&arn)
        .send()
        .await
        .expect_err("no function");
    assert_eq!(missing_fn.code(), Some("ResourceNotFoundException"));
    let missing_q = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn("arn:aws:sqs:us-east-1:000000000000:no-such-queue")
        .send()
        .await
        .expect_err("no queue");
    assert_eq!(missing_q.code(), Some("InvalidParameterValueException"));
    let window = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&arn2)
        .batch_size(11)
        .send()
        .await
        .expect_err("batch over 10 needs a window");
    assert_eq!(window.code(), Some("InvalidParameterValueException"));
    assert_eq!(
        window.message(),
        Some("Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10")
    );
    let too_big = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&arn2)
        .batch_size(10_001)
        .send()
        .await
        .expect_err("batch over 10,000");
    assert_eq!(too_big.code(), Some("ValidationException"));
    let (_, fifo) = q
        .create(
            &format!("{}.fifo", unique("f")),
            &[(QueueAttributeName::FifoQueue, "true".into())],
        )
        .await;
    let fifo_err = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&fifo)
        .batch_size(10)
        .maximum_batching_window_in_seconds(1)
        .send()
        .await
        .expect_err("FIFO queues take no batching window");
    assert_eq!(fifo_err.code(), Some("InvalidParameterValueException"));
    assert_eq!(
        fifo_err.message(),
        Some("Batching window is not supported for FIFO queues")
    );
    let unknown = lambda
        .get_event_source_mapping()
        .uuid("a1b2c3d4-0000-0000-0000-000000000000")
        .send()
        .await
        .expect_err("unknown UUID");
    assert_eq!(unknown.code(), Some("ResourceNotFoundException"));

    // Mappings are taggable by their ARN (Terraform reads their tags).
    let tagged = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&fifo)
        .tags("team", "core")
        .send()
        .await
        .expect("tagged mapping");
    let esm_arn = tagged.event_source_mapping_arn().expect("ARN").to_string();
    assert_eq!(
        esm_arn,
        format!(
            "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:{}",
            tagged.uuid().unwrap_or_default()
        )
    );
    lambda
        .tag_resource()
        .resource(&esm_arn)
        .tags("env", "test")
        .send()
        .await
        .expect("TagResource");
    lambda
        .untag_resource()
        .resource(&esm_arn)
        .tag_keys("team")
        .send()
        .await
        .expect("UntagResource");
    let tags = lambda
        .list_tags()
        .resource(&esm_arn)
        .send()
        .await
        .expect("ListTags")
        .tags
        .unwrap_or_default();
    assert_eq!(
        tags,
        std::collections::HashMap::from([("env".to_string(), "test".to_string())])
    );
    let no_tags = lambda
        .list_tags()
        .resource("arn:aws:lambda:us-east-1:000000000000:event-source-mapping:a1b2c3d4-0000-0000-0000-000000000000")
        .send()
        .await
        .expect_err("unknown mapping");
    assert_eq!(no_tags.code(), Some("ResourceNotFoundException"));

    // Update and delete answer the transitional states.
    let updated = lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .batch_size(7)
        .send()
        .await
        .expect("Update");
    assert_eq!(updated.state(), Some("Updating"));
    assert_eq!(updated.batch_size(), Some(7));
    let enabling = lambda
        .update_event_source_mapping()
        .uuid(&uuid2)
        .enabled(true)
        .send()
        .await
        .expect("enable");
    assert_eq!(enabling.state(), Some("Enabling"));
    let deleted = lambda
        .delete_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .expect("Delete");
    assert_eq!(deleted.state(), Some("Deleting"));
    let gone = lambda
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .expect_err("deleted");
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));
    server.stop().await;
}

#[tokio::test]
async fn a_queue_feeds_a_python_function_and_drains() {
    if !have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let q = queues(&server);
    let (src, src_arn) = q.create(&unique("in"), &[]).await;
    let (out, _) = q.create(&unique("out"), &[]).await;
    let name = unique("fwd");
    create_forwarder(&lambda, &name, &[("OUT_QUEUE", &out)]).await;
    for i in 0..5 {
        q.send(&src, &format!("m{i}")).await;
    }
    lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&src_arn)
        .batch_size(10)
        .send()
        .await
        .expect("CreateEventSourceMapping");

    let forwarded = parse(&q.drain(&out, 5).await);
    let mut bodies: Vec<&str> = forwarded
        .iter()
        .map(|f| f["body"].as_str().unwrap_or(""))
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["m0", "m1", "m2", "m3", "m4"]);
    for f in &forwarded {
        assert_eq!(f["eventSource"], "aws:sqs");
        assert_eq!(f["eventSourceARN"], src_arn.as_str());
        assert_eq!(f["awsRegion"], "us-east-1");
        assert_eq!(f["receiveCount"], "1");
        assert_eq!(f["color"], "blue");
        assert_eq!(f["hasReceiptHandle"], true);
        let body = f["body"].as_str().unwrap_or("");
        assert_eq!(
            f["md5OfBody"],
            md5::Md5::digest(body.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
    }
    // Processed messages were deleted from the source.
    let deadline = Instant::now() + Duration::from_secs(30);
    while q.count(&src).await > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(q.count(&src).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn a_failing_function_leaves_messages_to_the_dead_letter_queue() {
    if !have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let q = queues(&server);
    let (dlq, dlq_arn) = q.create(&unique("dlq"), &[]).await;
    let (out, _) = q.create(&unique("out"), &[]).await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"2"}}"#);
    let (src, src_arn) = q
        .create(
            &unique("in"),
            &[
                (QueueAttributeName::VisibilityTimeout, "1".into()),
                (QueueAttributeName::RedrivePolicy, policy),
            ],
        )
        .await;
    let name = unique("raiser");
    create_forwarder(&lambda, &name, &[("OUT_QUEUE", &out), ("MODE", "raise")]).await;
    lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&src_arn)
        .batch_size(1)
        .send()
        .await
        .expect("CreateEventSourceMapping");
    q.send(&src, "fail-always").await;
    let dead = q.drain(&dlq, 1).await;
    assert_eq!(dead, ["fail-always"]);
    server.stop().await;
}

#[tokio::test]
async fn report_batch_item_failures_deletes_only_the_successes() {
    if !have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let q = queues(&server);
    let (dlq, dlq_arn) = q.create(&unique("dlq"), &[]).await;
    let (out, _) = q.create(&unique("out"), &[]).await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"2"}}"#);
    let (src, src_arn) = q
        .create(
            &unique("in"),
            &[
                (QueueAttributeName::VisibilityTimeout, "5".into()),
                (QueueAttributeName::RedrivePolicy, policy),
            ],
        )
        .await;
    for body in ["ok-1", "fail-1", "ok-2"] {
        q.send(&src, body).await;
    }
    let name = unique("partial");
    create_forwarder(&lambda, &name, &[("OUT_QUEUE", &out)]).await;
    lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&src_arn)
        .batch_size(10)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .expect("CreateEventSourceMapping");
    // The failed item is retried until the redrive policy moves it to the DLQ...
    assert_eq!(q.drain(&dlq, 1).await, ["fail-1"]);
    // ...while the successes were deleted after their first delivery: never delivered twice
    // (the 5 s visibility timeout outlasts an invoke, so no other poller sees them meanwhile).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let forwarded = parse(&q.drain(&out, 2).await);
    let mut bodies: Vec<&str> = forwarded
        .iter()
        .map(|f| f["body"].as_str().unwrap_or(""))
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["ok-1", "ok-2"]);
    assert!(forwarded.iter().all(|f| f["receiveCount"] == "1"));
    let again = q
        .sqs
        .receive_message()
        .queue_url(&out)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("receive");
    assert!(
        again.messages.unwrap_or_default().is_empty(),
        "a success was redelivered"
    );
    assert_eq!(q.count(&src).await, 0);
    server.stop().await;
}

#[tokio::test]
async fn disabling_a_mapping_stops_delivery_and_enabling_resumes_it() {
    if !have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let q = queues(&server);
    let (src, src_arn) = q.create(&unique("in"), &[]).await;
    let (out, _) = q.create(&unique("out"), &[]).await;
    let name = unique("toggle");
    create_forwarder(&lambda, &name, &[("OUT_QUEUE", &out)]).await;
    let uuid = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&src_arn)
        .send()
        .await
        .expect("CreateEventSourceMapping")
        .uuid
        .expect("uuid");
    q.send(&src, "first").await;
    assert_eq!(parse(&q.drain(&out, 1).await)[0]["body"], "first");

    let disabling = lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(false)
        .send()
        .await
        .expect("disable");
    assert_eq!(disabling.state(), Some("Disabling"));
    let state = lambda
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .expect("get");
    assert_eq!(state.state(), Some("Disabled"));
    q.send(&src, "second").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        q.count(&src).await,
        1,
        "a disabled mapping must not consume"
    );

    lambda
        .update_event_source_mapping()
        .uuid(&uuid)
        .enabled(true)
        .send()
        .await
        .expect("enable");
    assert_eq!(parse(&q.drain(&out, 1).await)[0]["body"], "second");
    server.stop().await;
}

#[tokio::test]
async fn mappings_survive_a_restart_and_their_pollers_resume() {
    if !have("python3") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (src, out, uuid);
    {
        let server = TestServer::disk_at(dir.path()).await;
        let lambda = client(&server);
        let q = queues(&server);
        let (s, src_arn) = q.create(&unique("in"), &[]).await;
        let (o, _) = q.create(&unique("out"), &[]).await;
        let name = unique("durable");
        create_forwarder(&lambda, &name, &[("OUT_QUEUE", &o)]).await;
        uuid = lambda
            .create_event_source_mapping()
            .function_name(&name)
            .event_source_arn(&src_arn)
            .send()
            .await
            .expect("CreateEventSourceMapping")
            .uuid
            .expect("uuid");
        (src, out) = (s, o);
        server.stop().await;
    }
    let server = TestServer::disk_at(dir.path()).await;
    let q = queues(&server);
    // Queue URLs name the old port: resolve them again on the new server.
    let url_of = |u: &str| {
        format!(
            "{}/{}",
            server.endpoint,
            u.splitn(4, '/').nth(3).unwrap_or("")
        )
    };
    let (src, out) = (url_of(&src), url_of(&out));
    let got = client(&server)
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .expect("mapping kept");
    assert_eq!(got.state(), Some("Enabled"));
    q.send(&src, "after-restart").await;
    assert_eq!(parse(&q.drain(&out, 1).await)[0]["body"], "after-restart");
    server.stop().await;
}

#[tokio::test]
async fn code_is_read_from_cloudemus_own_s3() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&server.sdk_config())
            .force_path_style(true)
            .build(),
    );
    let bucket = unique("code");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket");
    let v1 = python_zip("def handler(e, c):\n    return {'v': 1}\n");
    let v2 = python_zip("def handler(e, c):\n    return {'v': 2}\n");
    for (key, body) in [("v1.zip", &v1), ("v2.zip", &v2)] {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .body(body.clone().into())
            .send()
            .await
            .expect("PutObject");
    }
    let name = unique("s3fn");
    let created = lambda
        .create_function()
        .function_name(&name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .code(
            FunctionCode::builder()
                .s3_bucket(&bucket)
                .s3_key("v1.zip")
                .build(),
        )
        .send()
        .await
        .expect("CreateFunction from S3");
    assert_eq!(created.code_size(), v1.len() as i64);
    assert_eq!(created.code_sha256(), Some(super::sha256_b64(&v1).as_str()));

    let updated = lambda
        .update_function_code()
        .function_name(&name)
        .s3_bucket(&bucket)
        .s3_key("v2.zip")
        .send()
        .await
        .expect("UpdateFunctionCode from S3");
    assert_eq!(updated.code_sha256(), Some(super::sha256_b64(&v2).as_str()));
    // The zip GetFunction serves is the one taken from S3.
    let location = lambda
        .get_function()
        .function_name(&name)
        .send()
        .await
        .expect("GetFunction")
        .code
        .and_then(|c| c.location)
        .expect("Code.Location");
    let served = crate::harness::http()
        .get(&location)
        .send()
        .await
        .expect("GET zip");
    assert_eq!(served.bytes().await.expect("zip").as_ref(), v2.as_slice());
    if have("python3") {
        let out = lambda
            .invoke()
            .function_name(&name)
            .send()
            .await
            .expect("Invoke");
        assert_eq!(super::json(out.payload()), serde_json::json!({"v": 2}));
    }

    let no_key = lambda
        .update_function_code()
        .function_name(&name)
        .s3_bucket(&bucket)
        .s3_key("missing.zip")
        .send()
        .await
        .expect_err("missing key");
    assert_eq!(no_key.code(), Some("InvalidParameterValueException"));
    assert_eq!(
        no_key.message(),
        Some("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist.")
    );
    let no_bucket = lambda
        .create_function()
        .function_name(unique("s3fn"))
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .code(
            FunctionCode::builder()
                .s3_bucket(unique("nobucket"))
                .s3_key("v1.zip")
                .build(),
        )
        .send()
        .await
        .expect_err("missing bucket");
    assert_eq!(no_bucket.code(), Some("InvalidParameterValueException"));
    assert!(no_bucket
        .message()
        .unwrap_or_default()
        .starts_with("Error occurred while GetObject. S3 Error Code: NoSuchBucket."));
    // Not a zip.
    s3.put_object()
        .bucket(&bucket)
        .key("junk")
        .body(b"not a zip".to_vec().into())
        .send()
        .await
        .expect("PutObject");
    let junk = lambda
        .update_function_code()
        .function_name(&name)
        .s3_bucket(&bucket)
        .s3_key("junk")
        .send()
        .await
        .expect_err("not a zip");
    assert_eq!(junk.code(), Some("InvalidParameterValueException"));
    server.stop().await;
}

/// Records every attempt in OUT_QUEUE, then fails when the event asks to.
const ATTEMPTS: &str = r#"
import json, os, urllib.request

def handler(event, context):
    req = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"] + "/",
        data=json.dumps({"QueueUrl": os.environ["OUT_QUEUE"],
                         "MessageBody": json.dumps({"event": event, "id": context.aws_request_id})}).encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.SendMessage",
            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/%s/sqs/aws4_request, SignedHeaders=host, Signature=0"
            % (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_REGION"]),
        },
    )
    urllib.request.urlopen(req).read()
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    return {"ok": event.get("n")}
"#;

async fn fast_retries() -> TestServer {
    TestServer::memory_with(|c| c.lambda_async_retry_scale = 0.01).await
}

async fn create_attempts_fn(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    out: &str,
    dlq_arn: Option<&str>,
) {
    let mut req = lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .environment(Environment::builder().variables("OUT_QUEUE", out).build())
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(python_zip(ATTEMPTS)))
                .build(),
        );
    if let Some(arn) = dlq_arn {
        req = req.dead_letter_config(
            aws_sdk_lambda::types::DeadLetterConfig::builder()
                .target_arn(arn)
                .build(),
        );
    }
    req.send().await.expect("CreateFunction");
}

fn destination(
    on_success: Option<&str>,
    on_failure: Option<&str>,
) -> aws_sdk_lambda::types::DestinationConfig {
    let mut d = aws_sdk_lambda::types::DestinationConfig::builder();
    if let Some(a) = on_success {
        d = d.on_success(
            aws_sdk_lambda::types::OnSuccess::builder()
                .destination(a)
                .build(),
        );
    }
    if let Some(a) = on_failure {
        d = d.on_failure(
            aws_sdk_lambda::types::OnFailure::builder()
                .destination(a)
                .build(),
        );
    }
    d.build()
}

async fn invoke_event(lambda: &aws_sdk_lambda::Client, name: &str, payload: &str) {
    let out = lambda
        .invoke()
        .function_name(name)
        .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
        .payload(Blob::new(payload.as_bytes()))
        .send()
        .await
        .expect("Invoke Event");
    assert_eq!(out.status_code(), 202);
}

#[tokio::test]
async fn event_invokes_retry_twice_then_reach_the_dlq_and_on_failure() {
    if !have("python3") {
        return;
    }
    let server = fast_retries().await;
    let lambda = client(&server);
    let q = queues(&server);
    let (out, _) = q.create(&unique("attempts"), &[]).await;
    let (dlq, dlq_arn) = q.create(&unique("dlq"), &[]).await;
    let (failures, failures_arn) = q.create(&unique("onfailure"), &[]).await;
    let name = unique("async");
    create_attempts_fn(&lambda, &name, &out, Some(&dlq_arn)).await;
    lambda
        .put_function_event_invoke_config()
        .function_name(&name)
        .destination_config(destination(None, Some(&failures_arn)))
        .send()
        .await
        .expect("PutFunctionEventInvokeConfig");
    invoke_event(&lambda, &name, r#"{"fail": true, "n": 7}"#).await;

    // Three attempts (the first and two retries), all with the same request id.
    let attempts = parse(&q.drain(&out, 3).await);
    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|a| a["id"] == attempts[0]["id"]));

    let dead = q
        .sqs
        .receive_message()
        .queue_url(&dlq)
        .message_attribute_names("All")
        .wait_time_seconds(20)
        .send()
        .await
        .expect("receive DLQ")
        .messages
        .unwrap_or_default();
    assert_eq!(dead.len(), 1);
    let dead = &dead[0];
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(dead.body().unwrap_or_default()).expect("JSON"),
        serde_json::json!({"fail": true, "n": 7})
    );
    let attrs = dead.message_attributes().expect("attributes");
    assert_eq!(attrs["ErrorMessage"].string_value(), Some("asked to fail"));
    assert_eq!(
        attrs["RequestID"].string_value(),
        attempts[0]["id"].as_str()
    );

    let record = parse(&q.drain(&failures, 1).await).remove(0);
    assert_eq!(record["version"], "1.0");
    assert_eq!(record["requestContext"]["condition"], "RetriesExhausted");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 3);
    assert_eq!(record["requestContext"]["requestId"], attempts[0]["id"]);
    assert_eq!(
        record["requestContext"]["functionArn"],
        format!("arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST")
    );
    assert_eq!(
        record["requestPayload"],
        serde_json::json!({"fail": true, "n": 7})
    );
    assert_eq!(record["responseContext"]["functionError"], "Unhandled");
    assert_eq!(record["responseContext"]["statusCode"], 200);
    assert_eq!(record["responsePayload"]["errorMessage"], "asked to fail");
    // No fourth attempt.
    assert!(q.drain_for(&out, 1, 3).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn event_invoke_success_goes_to_on_success_and_retries_can_be_turned_off() {
    if !have("python3") {
        return;
    }
    let server = fast_retries().await;
    let lambda = client(&server);
    let q = queues(&server);
    let (out, _) = q.create(&unique("attempts"), &[]).await;
    let (ok, ok_arn) = q.create(&unique("onsuccess"), &[]).await;
    let (bad, bad_arn) = q.create(&unique("onfailure"), &[]).await;
    let name = unique("async-ok");
    create_attempts_fn(&lambda, &name, &out, None).await;
    lambda
        .put_function_event_invoke_config()
        .function_name(&name)
        .maximum_retry_attempts(0)
        .destination_config(destination(Some(&ok_arn), Some(&bad_arn)))
        .send()
        .await
        .expect("PutFunctionEventInvokeConfig");

    invoke_event(&lambda, &name, r#"{"n": 1}"#).await;
    let record = parse(&q.drain(&ok, 1).await).remove(0);
    assert_eq!(record["requestContext"]["condition"], "Success");
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 1);
    assert_eq!(record["requestPayload"], serde_json::json!({"n": 1}));
    assert_eq!(record["responsePayload"], serde_json::json!({"ok": 1}));
    assert_eq!(record["responseContext"]["executedVersion"], "$LATEST");
    assert!(record["responseContext"].get("functionError").is_none());

    invoke_event(&lambda, &name, r#"{"n": 2, "fail": true}"#).await;
    let record = parse(&q.drain(&bad, 1).await).remove(0);
    assert_eq!(record["requestContext"]["approximateInvokeCount"], 1);
    // One attempt for each event: MaximumRetryAttempts 0 means no retry.
    assert_eq!(q.drain_for(&out, 3, 3).await.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn event_invoke_configs_are_kept_per_qualifier_with_lambdas_checks() {
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let name = unique("eic");
    create(
        &lambda,
        &name,
        &python_zip("def handler(e, c):\n    return e\n"),
    )
    .await;
    let arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");

    let missing = lambda
        .get_function_event_invoke_config()
        .function_name(&name)
        .send()
        .await
        .expect_err("none yet");
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));

    let put = lambda
        .put_function_event_invoke_config()
        .function_name(&name)
        .maximum_retry_attempts(1)
        .maximum_event_age_in_seconds(120)
        .send()
        .await
        .expect("Put");
    assert_eq!(put.function_arn(), Some(format!("{arn}:$LATEST").as_str()));
    assert_eq!(put.maximum_retry_attempts(), Some(1));
    assert_eq!(put.maximum_event_age_in_seconds(), Some(120));
    assert!(put.last_modified().is_some());

    let updated = lambda
        .update_function_event_invoke_config()
        .function_name(&name)
        .destination_config(destination(
            None,
            Some("arn:aws:sqs:us-east-1:000000000000:q"),
        ))
        .send()
        .await
        .expect("Update");
    // Update merges: the retry settings stay.
    assert_eq!(updated.maximum_retry_attempts(), Some(1));
    assert_eq!(
        updated
            .destination_config()
            .and_then(|d| d.on_failure())
            .and_then(|f| f.destination()),
        Some("arn:aws:sqs:us-east-1:000000000000:q")
    );
    // Put replaces.
    let replaced = lambda
        .put_function_event_invoke_config()
        .function_name(&name)
        .maximum_event_age_in_seconds(60)
        .send()
        .await
        .expect("Put again");
    assert_eq!(replaced.maximum_retry_attempts(), None);

    lambda
        .publish_version()
        .function_name(&name)
        .send()
        .await
        .expect("PublishVersion");
    lambda
        .put_function_event_invoke_config()
        .function_name(&name)
        .qualifier("1")
        .maximum_retry_attempts(0)
        .send()
        .await
        .expect("Put for version 1");
    let listed = lambda
        .list_function_event_invoke_configs()
        .function_name(&name)
        .send()
        .await
        .expect("List");
    let mut arns: Vec<&str> = listed
        .function_event_invoke_configs()
        .iter()
        .filter_map(|c| c.function_arn())
        .collect();
    arns.sort();
    assert_eq!(arns, [format!("{arn}:$LATEST"), format!("{arn}:1")]);
    let page = lambda
        .list_function_event_invoke_configs()
        .function_name(&name)
        .max_items(1)
        .send()
        .await
        .expect("List page");
    assert_eq!(page.function_event_invoke_configs().len(), 1);
    assert!(page.next_marker().is_some());

    for (retries, age) in [(3, 60), (1, 59), (1, 21_601)] {
        let e = lambda
            .put_function_event_invoke_config()
            .function_name(&name)
            .maximum_retry_attempts(retries)
            .maximum_event_age_in_seconds(age)
            .send()
            .await
            .expect_err("out of range");
        assert_eq!(e.code(), Some("ValidationException"), "{retries} {age}");
    }
    let no_version = lambda
        .put_function_event_invoke_config()
        .function_name(&name)
        .qualifier("9")
        .maximum_retry_attempts(0)
        .send()
        .await
        .expect_err("no version 9");
    assert_eq!(no_version.code(), Some("ResourceNotFoundException"));
    let no_fn = lambda
        .get_function_event_invoke_config()
        .function_name(unique("nofn"))
        .send()
        .await
        .expect_err("no function");
    assert_eq!(no_fn.code(), Some("ResourceNotFoundException"));

    lambda
        .delete_function_event_invoke_config()
        .function_name(&name)
        .qualifier("1")
        .send()
        .await
        .expect("Delete");
    let gone = lambda
        .delete_function_event_invoke_config()
        .function_name(&name)
        .qualifier("1")
        .send()
        .await
        .expect_err("deleted twice");
    assert_eq!(gone.code(), Some("ResourceNotFoundException"));
    server.stop().await;
}

#[tokio::test]
async fn accepted_events_survive_a_restart() {
    if !have("python3") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, dlq);
    {
        // AWS's own delays: the first retry is a minute away when the server stops.
        let server = TestServer::disk_at(dir.path()).await;
        let lambda = client(&server);
        let q = queues(&server);
        let (o, _) = q.create(&unique("attempts"), &[]).await;
        let (d, dlq_arn) = q.create(&unique("dlq"), &[]).await;
        let name = unique("durable-async");
        create_attempts_fn(&lambda, &name, &o, Some(&dlq_arn)).await;
        invoke_event(&lambda, &name, r#"{"fail": true}"#).await;
        assert_eq!(q.drain(&o, 1).await.len(), 1, "first attempt");
        (out, dlq) = (o, d);
        server.stop().await;
    }
    let server = TestServer::disk_at_with(dir.path(), |c| c.lambda_async_retry_scale = 0.01).await;
    let q = queues(&server);
    let url_of = |u: &str| {
        format!(
            "{}/{}",
            server.endpoint,
            u.splitn(4, '/').nth(3).unwrap_or("")
        )
    };
    let (out, dlq) = (url_of(&out), url_of(&dlq));
    // The event resumes: its remaining attempts run, then it reaches the DLQ.
    assert_eq!(
        q.drain(&dlq, 1).await.len(),
        1,
        "event lost across the restart"
    );
    assert!(!q.drain_for(&out, 2, 3).await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn filter_criteria_pass_matching_records_and_delete_the_rest() {
    if !have("python3") {
        return;
    }
    let server = TestServer::memory().await;
    let lambda = client(&server);
    let q = queues(&server);
    let (src, src_arn) = q.create(&unique("in"), &[]).await;
    let (out, _) = q.create(&unique("out"), &[]).await;
    let name = unique("filtered");
    create_forwarder(&lambda, &name, &[("OUT_QUEUE", &out)]).await;
    let filter = |pattern: &str| {
        aws_sdk_lambda::types::FilterCriteria::builder()
            .filters(
                aws_sdk_lambda::types::Filter::builder()
                    .pattern(pattern)
                    .build(),
            )
            .build()
    };
    let bad = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&src_arn)
        .filter_criteria(filter("{\"body\": \"not a list\"}"))
        .send()
        .await
        .expect_err("invalid pattern");
    assert_eq!(bad.code(), Some("InvalidParameterValueException"));
    assert_eq!(bad.message(), Some("Invalid filter pattern definition."));

    for body in [
        r#"{"kind": "refund", "n": 1}"#,
        r#"{"kind": "order", "n": 2}"#,
        "plain text",
    ] {
        q.send(&src, body).await;
    }
    let created = lambda
        .create_event_source_mapping()
        .function_name(&name)
        .event_source_arn(&src_arn)
        .filter_criteria(filter(r#"{"body": {"kind": ["order"]}}"#))
        .send()
        .await
        .expect("CreateEventSourceMapping");
    assert_eq!(
        created.filter_criteria().map(|f| f.filters().len()),
        Some(1)
    );
    let forwarded = parse(&q.drain(&out, 1).await);
    assert_eq!(forwarded[0]["body"], r#"{"kind": "order", "n": 2}"#);
    // The records no filter matched were deleted, not left to be redelivered.
    let deadline = Instant::now() + Duration::from_secs(30);
    while q.count(&src).await > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(q.count(&src).await, 0);
    assert!(q.drain_for(&out, 1, 2).await.is_empty());
    server.stop().await;
}
