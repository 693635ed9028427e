//! Messages on standard queues: send/receive/delete, digests, attributes, visibility, delays,
//! long polling, batches and their errors, dead-letter queues, move tasks, the peek endpoint.

use super::{arn_of, client, code, completed_move_task, queue};
use crate::harness::{unique, TestServer};
use aws_sdk_sqs::primitives::Blob;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName as S, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue, QueueAttributeName as A, SendMessageBatchRequestEntry,
};
use std::time::{Duration, Instant};

fn string_attr(t: &str, v: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type(t)
        .string_value(v)
        .build()
        .expect("attribute")
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One attribute in the encoding SQS documents for MD5OfMessageAttributes (written out here,
/// independently of the server's code).
fn encode_attr(buf: &mut Vec<u8>, name: &str, t: &str, transport: u8, value: &[u8]) {
    for field in [name.as_bytes(), t.as_bytes()] {
        buf.extend_from_slice(&(field.len() as u32).to_be_bytes());
        buf.extend_from_slice(field);
    }
    buf.push(transport);
    buf.extend_from_slice(&(value.len() as u32).to_be_bytes());
    buf.extend_from_slice(value);
}

#[tokio::test]
async fn send_receive_delete_with_attributes_and_digests() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "roundtrip").await;
    let body = "hello wörld 😀";
    let sent = sqs
        .send_message()
        .queue_url(&url)
        .message_body(body)
        .message_attributes("color", string_attr("String", "blue"))
        .message_attributes("count", string_attr("Number.int", "42"))
        .message_attributes(
            "raw",
            MessageAttributeValue::builder()
                .data_type("Binary")
                .binary_value(Blob::new(vec![0u8, 1, 2, 255]))
                .build()
                .expect("binary"),
        )
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value("Root=1-5759e988-bd862e3fe1be46a994272793")
                .build()
                .expect("trace"),
        )
        .send()
        .await
        .expect("SendMessage");
    assert_eq!(
        sent.md5_of_message_body(),
        Some(md5_hex(body.as_bytes()).as_str())
    );
    let mut buf = Vec::new();
    encode_attr(&mut buf, "color", "String", 1, b"blue");
    encode_attr(&mut buf, "count", "Number.int", 1, b"42");
    encode_attr(&mut buf, "raw", "Binary", 2, &[0, 1, 2, 255]);
    assert_eq!(
        sent.md5_of_message_attributes(),
        Some(md5_hex(&buf).as_str())
    );
    let mut sys = Vec::new();
    encode_attr(
        &mut sys,
        "AWSTraceHeader",
        "String",
        1,
        b"Root=1-5759e988-bd862e3fe1be46a994272793",
    );
    assert_eq!(
        sent.md5_of_message_system_attributes(),
        Some(md5_hex(&sys).as_str())
    );
    assert!(sent.sequence_number().is_none());

    let got = sqs
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("All")
        .message_system_attribute_names(S::All)
        .send()
        .await
        .expect("ReceiveMessage");
    let msgs = got.messages();
    assert_eq!(msgs.len(), 1);
    let m = &msgs[0];
    assert_eq!(m.body(), Some(body));
    assert_eq!(m.message_id(), sent.message_id());
    assert_eq!(m.md5_of_body(), sent.md5_of_message_body());
    assert_eq!(
        m.md5_of_message_attributes(),
        sent.md5_of_message_attributes()
    );
    let attrs = m.message_attributes().expect("message attributes");
    assert_eq!(attrs["count"].string_value(), Some("42"));
    assert_eq!(attrs["count"].data_type(), "Number.int");
    assert_eq!(
        attrs["raw"].binary_value().map(|b| b.as_ref().to_vec()),
        Some(vec![0u8, 1, 2, 255])
    );
    let sys = m.attributes().expect("system attributes");
    assert_eq!(sys[&S::ApproximateReceiveCount], "1");
    assert_eq!(
        sys[&S::AwsTraceHeader],
        "Root=1-5759e988-bd862e3fe1be46a994272793"
    );
    assert!(sys.contains_key(&S::SentTimestamp));
    assert!(sys.contains_key(&S::ApproximateFirstReceiveTimestamp));
    assert!(sys.contains_key(&S::SenderId));

    sqs.delete_message()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().expect("handle"))
        .send()
        .await
        .expect("DeleteMessage");
    let counts = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::All)
        .send()
        .await
        .expect("attrs")
        .attributes
        .expect("attrs");
    assert_eq!(counts[&A::ApproximateNumberOfMessages], "0");
    assert_eq!(counts[&A::ApproximateNumberOfMessagesNotVisible], "0");
    server.stop().await;
}

#[tokio::test]
async fn message_attribute_name_filters_and_digest_of_what_is_returned() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "filters").await;
    sqs.send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("app.a", string_attr("String", "1"))
        .message_attributes("app.b", string_attr("String", "2"))
        .message_attributes("other", string_attr("String", "3"))
        .send()
        .await
        .expect("send");
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .message_attribute_names("app.*")
        .send()
        .await
        .expect("receive");
    let m = &got.messages()[0];
    let attrs = m.message_attributes().expect("attrs");
    let mut names: Vec<&String> = attrs.keys().collect();
    names.sort();
    assert_eq!(names, ["app.a", "app.b"]);
    let mut buf = Vec::new();
    encode_attr(&mut buf, "app.a", "String", 1, b"1");
    encode_attr(&mut buf, "app.b", "String", 1, b"2");
    assert_eq!(m.md5_of_message_attributes(), Some(md5_hex(&buf).as_str()));
    // No attribute names: no attributes and no digest.
    sqs.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(m.receipt_handle().expect("handle"))
        .visibility_timeout(0)
        .send()
        .await
        .expect("release");
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert!(got.messages()[0].message_attributes().is_none());
    assert!(got.messages()[0].attributes().is_none());
    server.stop().await;
}

#[tokio::test]
async fn bad_message_contents_and_sizes_are_refused() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = sqs
        .create_queue()
        .queue_name(unique("small"))
        .attributes(A::MaximumMessageSize, "1024")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("bad \u{1} char")
        .send()
        .await
        .expect_err("invalid character");
    assert_eq!(code(&err), "InvalidMessageContents");
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x".repeat(1025))
        .send()
        .await
        .expect_err("too long");
    assert_eq!(code(&err), "InvalidParameterValue");
    // Attributes count toward the size.
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x".repeat(1000))
        .message_attributes("pad", string_attr("String", &"y".repeat(100)))
        .send()
        .await
        .expect_err("too long with attributes");
    assert_eq!(code(&err), "InvalidParameterValue");
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("n", string_attr("Number", "not-a-number"))
        .send()
        .await
        .expect_err("bad number");
    assert_eq!(code(&err), "InvalidParameterValue");
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_attributes("n", string_attr("Date", "x"))
        .send()
        .await
        .expect_err("bad type");
    assert_eq!(code(&err), "InvalidParameterValue");
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .delay_seconds(901)
        .send()
        .await
        .expect_err("delay");
    assert_eq!(code(&err), "InvalidParameterValue");
    server.stop().await;
}

#[tokio::test]
async fn visibility_timeouts_and_receipt_handles() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "visibility").await;
    sqs.send_message()
        .queue_url(&url)
        .message_body("v")
        .send()
        .await
        .expect("send");
    let first = sqs
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(60)
        .send()
        .await
        .expect("receive");
    let old = first.messages()[0]
        .receipt_handle()
        .expect("handle")
        .to_string();
    // In flight: nothing to receive.
    let none = sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert!(none.messages().is_empty());
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::All)
        .send()
        .await
        .expect("attrs")
        .attributes
        .expect("attrs");
    assert_eq!(attrs[&A::ApproximateNumberOfMessagesNotVisible], "1");

    sqs.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&old)
        .visibility_timeout(0)
        .send()
        .await
        .expect("ChangeMessageVisibility");
    // Visible again: not in flight any more.
    let err = sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&old)
        .visibility_timeout(10)
        .send()
        .await
        .expect_err("not in flight");
    assert_eq!(code(&err), "AWS.SimpleQueueService.MessageNotInflight");

    let second = sqs
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(S::ApproximateReceiveCount)
        .send()
        .await
        .expect("receive again");
    let m = &second.messages()[0];
    assert_eq!(
        m.attributes().expect("attrs")[&S::ApproximateReceiveCount],
        "2"
    );
    assert_ne!(m.receipt_handle(), Some(old.as_str()));
    // The earlier receipt no longer works.
    let err = sqs
        .change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&old)
        .visibility_timeout(10)
        .send()
        .await
        .expect_err("stale handle");
    assert_eq!(code(&err), "ReceiptHandleIsInvalid");
    let err = sqs
        .delete_message()
        .queue_url(&url)
        .receipt_handle("not-a-handle")
        .send()
        .await
        .expect_err("garbage handle");
    assert_eq!(code(&err), "ReceiptHandleIsInvalid");
    let err = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(11)
        .send()
        .await
        .expect_err("max 10");
    assert_eq!(code(&err), "InvalidParameterValue");
    let err = sqs
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(21)
        .send()
        .await
        .expect_err("wait 20");
    assert_eq!(code(&err), "InvalidParameterValue");
    server.stop().await;
}

#[tokio::test]
async fn delayed_messages_count_as_delayed_until_due() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "delayed").await;
    sqs.send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(2)
        .send()
        .await
        .expect("send");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::ApproximateNumberOfMessagesDelayed)
        .send()
        .await
        .expect("attrs")
        .attributes
        .expect("attrs");
    assert_eq!(attrs[&A::ApproximateNumberOfMessagesDelayed], "1");
    assert!(sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive")
        .messages()
        .is_empty());
    // A long poll is woken by the delay ending, without any send.
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(20)
        .send()
        .await
        .expect("long poll");
    assert_eq!(got.messages().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn long_poll_returns_as_soon_as_a_message_arrives() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "longpoll").await;
    let poller = {
        let sqs = sqs.clone();
        let url = url.clone();
        tokio::spawn(async move {
            let start = Instant::now();
            let got = sqs
                .receive_message()
                .queue_url(&url)
                .wait_time_seconds(20)
                .send()
                .await
                .expect("long poll");
            (got, start.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqs.send_message()
        .queue_url(&url)
        .message_body("wake")
        .send()
        .await
        .expect("send");
    let (got, waited) = poller.await.expect("poller");
    assert_eq!(got.messages()[0].body(), Some("wake"));
    // Woken by the send, not by the 20 s wait running out.
    assert!(waited < Duration::from_secs(15), "{waited:?}");

    // With nothing to receive, the wait runs out and the answer is empty.
    let start = Instant::now();
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .wait_time_seconds(1)
        .send()
        .await
        .expect("empty poll");
    assert!(got.messages().is_empty());
    assert!(start.elapsed() >= Duration::from_millis(900));
    server.stop().await;
}

/// Start a long poll (one message at most) in the background.
fn long_poll(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
    wait: i32,
) -> tokio::task::JoinHandle<Vec<String>> {
    let (sqs, url) = (sqs.clone(), url.to_string());
    tokio::spawn(async move {
        sqs.receive_message()
            .queue_url(&url)
            .wait_time_seconds(wait)
            .send()
            .await
            .expect("long poll")
            .messages()
            .iter()
            .map(|m| m.body().unwrap_or_default().to_string())
            .collect()
    })
}

#[tokio::test]
async fn a_batch_wakes_as_many_held_polls_as_it_sends_and_delays_are_waited_for() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "wake-n").await;
    // Each send wakes one held poll per message: a batch of two must reach both polls (each
    // takes one), or the second would run out its 20 s and answer empty.
    let polls = [long_poll(&sqs, &url, 20), long_poll(&sqs, &url, 20)];
    tokio::time::sleep(Duration::from_millis(300)).await;
    sqs.send_message_batch()
        .queue_url(&url)
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("a")
                .message_body("one")
                .build()
                .expect("entry"),
        )
        .entries(
            SendMessageBatchRequestEntry::builder()
                .id("b")
                .message_body("two")
                .build()
                .expect("entry"),
        )
        .send()
        .await
        .expect("batch");
    let mut got = Vec::new();
    for p in polls {
        got.extend(p.await.expect("poll"));
    }
    got.sort();
    assert_eq!(got, ["one", "two"]);

    // A delayed message wakes the held poll that it is not yet visible for; the poll then
    // waits for the delay to end instead of its whole 20 s.
    let poll = long_poll(&sqs, &url, 20);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let start = Instant::now();
    sqs.send_message()
        .queue_url(&url)
        .message_body("later")
        .delay_seconds(1)
        .send()
        .await
        .expect("delayed send");
    assert_eq!(poll.await.expect("poll"), ["later"]);
    assert!(start.elapsed() < Duration::from_secs(15));
    server.stop().await;
}

#[tokio::test]
async fn batches_and_their_errors() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "batch").await;
    let entry = |id: &str, body: &str| {
        SendMessageBatchRequestEntry::builder()
            .id(id)
            .message_body(body)
            .build()
            .expect("entry")
    };
    let sent = sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("a", "one"))
        .entries(entry("b", "two"))
        .entries(entry("bad", "\u{0}"))
        .send()
        .await
        .expect("SendMessageBatch");
    assert_eq!(sent.successful().len(), 2);
    assert_eq!(sent.failed().len(), 1);
    assert_eq!(sent.failed()[0].id(), "bad");
    assert_eq!(sent.failed()[0].code(), "InvalidMessageContents");
    assert!(sent.failed()[0].sender_fault());
    assert_eq!(sent.successful()[0].md5_of_message_body(), md5_hex(b"one"));

    let err = sqs
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(
            (0..11).map(|i| entry(&format!("e{i}"), "x")).collect(),
        ))
        .send()
        .await
        .expect_err("11 entries");
    assert_eq!(
        code(&err),
        "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"
    );
    let err = sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("same", "x"))
        .entries(entry("same", "y"))
        .send()
        .await
        .expect_err("same ids");
    assert_eq!(
        code(&err),
        "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"
    );
    let err = sqs
        .send_message_batch()
        .queue_url(&url)
        .entries(entry("no spaces", "x"))
        .send()
        .await
        .expect_err("bad id");
    assert_eq!(code(&err), "AWS.SimpleQueueService.InvalidBatchEntryId");
    let err = sqs
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(Vec::new()))
        .send()
        .await
        .expect_err("empty");
    assert_eq!(code(&err), "AWS.SimpleQueueService.EmptyBatchRequest");
    let big = "z".repeat(200_000);
    let err = sqs
        .send_message_batch()
        .queue_url(&url)
        .set_entries(Some(
            (0..6).map(|i| entry(&format!("e{i}"), &big)).collect(),
        ))
        .send()
        .await
        .expect_err("batch too long");
    assert_eq!(code(&err), "AWS.SimpleQueueService.BatchRequestTooLong");

    let got = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .visibility_timeout(60)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 2);
    let handles: Vec<&str> = got
        .messages()
        .iter()
        .filter_map(|m| m.receipt_handle())
        .collect();
    let vis = sqs
        .change_message_visibility_batch()
        .queue_url(&url)
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("v1")
                .receipt_handle(handles[0])
                .visibility_timeout(120)
                .build()
                .expect("entry"),
        )
        .entries(
            ChangeMessageVisibilityBatchRequestEntry::builder()
                .id("v2")
                .receipt_handle("garbage")
                .visibility_timeout(120)
                .build()
                .expect("entry"),
        )
        .send()
        .await
        .expect("ChangeMessageVisibilityBatch");
    assert_eq!(vis.successful().len(), 1);
    assert_eq!(vis.failed()[0].code(), "ReceiptHandleIsInvalid");
    let del = sqs
        .delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(
            handles
                .iter()
                .enumerate()
                .map(|(i, h)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(format!("d{i}"))
                        .receipt_handle(*h)
                        .build()
                        .expect("entry")
                })
                .collect(),
        ))
        .send()
        .await
        .expect("DeleteMessageBatch");
    assert_eq!(del.successful().len(), 2);
    assert!(del.failed().is_empty());
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::All)
        .send()
        .await
        .expect("attrs")
        .attributes
        .expect("attrs");
    assert_eq!(attrs[&A::ApproximateNumberOfMessagesNotVisible], "0");
    assert_eq!(attrs[&A::ApproximateNumberOfMessages], "0");
    server.stop().await;
}

#[tokio::test]
async fn dead_letter_queue_redrive_and_move_back() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let dlq = queue(&sqs, "dlq").await;
    let dlq_arn = arn_of(&sqs, &dlq).await;
    let src = sqs
        .create_queue()
        .queue_name(unique("src"))
        .attributes(
            A::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"2"}}"#),
        )
        .send()
        .await
        .expect("create with redrive")
        .queue_url
        .expect("url");
    sqs.send_message()
        .queue_url(&src)
        .message_body("poison")
        .send()
        .await
        .expect("send");
    for _ in 0..2 {
        let got = sqs
            .receive_message()
            .queue_url(&src)
            .send()
            .await
            .expect("receive");
        let h = got.messages()[0].receipt_handle().expect("handle");
        sqs.change_message_visibility()
            .queue_url(&src)
            .receipt_handle(h)
            .visibility_timeout(0)
            .send()
            .await
            .expect("release");
    }
    // The third receive exceeds maxReceiveCount: the message moves to the DLQ.
    let got = sqs
        .receive_message()
        .queue_url(&src)
        .send()
        .await
        .expect("receive");
    assert!(got.messages().is_empty());
    let moved = sqs
        .receive_message()
        .queue_url(&dlq)
        .visibility_timeout(0)
        .send()
        .await
        .expect("receive from dlq");
    assert_eq!(moved.messages()[0].body(), Some("poison"));

    let sources = sqs
        .list_dead_letter_source_queues()
        .queue_url(&dlq)
        .send()
        .await
        .expect("ListDeadLetterSourceQueues");
    assert_eq!(sources.queue_urls(), std::slice::from_ref(&src));

    // Move it back to the source with a move task.
    let task = sqs
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .send()
        .await
        .expect("StartMessageMoveTask");
    assert!(task.task_handle().is_some());
    let t = completed_move_task(&sqs, &dlq_arn).await;
    assert_eq!(t.approximate_number_of_messages_moved(), 1);
    let back = sqs
        .receive_message()
        .queue_url(&src)
        .send()
        .await
        .expect("receive moved back");
    assert_eq!(back.messages()[0].body(), Some("poison"));

    // A DLQ that allows no sources refuses new redrive policies.
    sqs.set_queue_attributes()
        .queue_url(&dlq)
        .attributes(A::RedriveAllowPolicy, r#"{"redrivePermission":"denyAll"}"#)
        .send()
        .await
        .expect("RedriveAllowPolicy");
    let err = sqs
        .create_queue()
        .queue_name(unique("denied"))
        .attributes(
            A::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"2"}}"#),
        )
        .send()
        .await
        .expect_err("denied by RedriveAllowPolicy");
    assert_eq!(code(&err), "InvalidParameterValue");
    let err = sqs
        .start_message_move_task()
        .source_arn(arn_of(&sqs, &src).await)
        .send()
        .await
        .expect_err("not a DLQ");
    assert_eq!(code(&err), "InvalidParameterValue");
    server.stop().await;
}

#[tokio::test]
async fn peek_endpoint_lists_messages_without_receiving_them() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "peek").await;
    sqs.send_message()
        .queue_url(&url)
        .message_body("look")
        .send()
        .await
        .expect("send");
    for _ in 0..2 {
        let body: serde_json::Value = crate::harness::http()
            .get(server.url("/_cloudemu/sqs/messages"))
            .query(&[("QueueUrl", url.as_str())])
            .send()
            .await
            .expect("peek")
            .json()
            .await
            .expect("json");
        assert_eq!(body["Messages"][0]["Body"], "look");
        assert_eq!(body["Messages"][0]["Visible"], true);
    }
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .message_system_attribute_names(S::ApproximateReceiveCount)
        .send()
        .await
        .expect("receive");
    assert_eq!(
        got.messages()[0].attributes().expect("attrs")[&S::ApproximateReceiveCount],
        "1"
    );
    let missing = crate::harness::http()
        .get(server.url("/_cloudemu/sqs/messages"))
        .query(&[("QueueUrl", "http://x/000000000000/nope")])
        .send()
        .await
        .expect("peek");
    assert_eq!(missing.status().as_u16(), 400);
    server.stop().await;
}

#[tokio::test]
async fn a_move_task_without_destination_returns_each_message_to_its_own_source() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let dlq = queue(&sqs, "shared-dlq").await;
    let dlq_arn = arn_of(&sqs, &dlq).await;
    let mut sources = Vec::new();
    for name in ["src-a", "src-b"] {
        let url = sqs
            .create_queue()
            .queue_name(unique(name))
            .attributes(
                A::RedrivePolicy,
                format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"1"}}"#),
            )
            .send()
            .await
            .expect("create with redrive")
            .queue_url
            .expect("url");
        for i in 0..2 {
            sqs.send_message()
                .queue_url(&url)
                .message_body(format!("{name}-{i}"))
                .send()
                .await
                .expect("send");
        }
        // Received once (released at once), then once more: past maxReceiveCount, so both
        // messages go to the shared DLQ.
        let got = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .expect("receive");
        assert_eq!(got.messages().len(), 2);
        let again = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive");
        assert!(again.messages().is_empty());
        sources.push((name, url));
    }
    let bodies = |r: aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput| {
        let mut b: Vec<String> = r
            .messages()
            .iter()
            .map(|m| m.body().unwrap_or_default().to_string())
            .collect();
        b.sort();
        b
    };
    let dead = sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .send()
        .await
        .expect("receive from dlq");
    assert_eq!(bodies(dead), ["src-a-0", "src-a-1", "src-b-0", "src-b-1"]);

    sqs.start_message_move_task()
        .source_arn(&dlq_arn)
        .send()
        .await
        .expect("StartMessageMoveTask");
    let t = completed_move_task(&sqs, &dlq_arn).await;
    assert_eq!(t.approximate_number_of_messages_moved(), 4);
    assert_eq!(t.destination_arn(), None);
    for (name, url) in &sources {
        let back = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_system_attribute_names(S::ApproximateReceiveCount)
            .send()
            .await
            .expect("receive moved back");
        for m in back.messages() {
            // Back in its source, a message starts its receive count over.
            assert_eq!(
                m.attributes().expect("attrs")[&S::ApproximateReceiveCount],
                "1"
            );
        }
        assert_eq!(bodies(back), [format!("{name}-0"), format!("{name}-1")]);
    }
    server.stop().await;
}

#[tokio::test]
async fn move_tasks_one_at_a_time_and_cancelled_while_running() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let dlq = queue(&sqs, "slow-dlq").await;
    let dlq_arn = arn_of(&sqs, &dlq).await;
    sqs.create_queue()
        .queue_name(unique("slow-src"))
        .attributes(
            A::RedrivePolicy,
            format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"3"}}"#),
        )
        .send()
        .await
        .expect("source");
    let target = queue(&sqs, "slow-target").await;
    let target_arn = arn_of(&sqs, &target).await;
    for i in 0..20 {
        sqs.send_message()
            .queue_url(&dlq)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    // One message a second: the task runs for many seconds.
    let task = sqs
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(&target_arn)
        .max_number_of_messages_per_second(1)
        .send()
        .await
        .expect("StartMessageMoveTask")
        .task_handle
        .expect("handle");
    let err = sqs
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .destination_arn(&target_arn)
        .send()
        .await
        .expect_err("one running task per source");
    // The legacy query code, as AWS sends it in `x-amzn-query-error`.
    assert_eq!(code(&err), "AWS.SimpleQueueService.UnsupportedOperation");
    let err = sqs
        .start_message_move_task()
        .source_arn(&dlq_arn)
        .max_number_of_messages_per_second(501)
        .send()
        .await
        .expect_err("rate above 500");
    assert_eq!(code(&err), "InvalidParameterValue");

    let cancelled = sqs
        .cancel_message_move_task()
        .task_handle(&task)
        .send()
        .await
        .expect("CancelMessageMoveTask");
    assert!(cancelled.approximate_number_of_messages_moved() < 20);
    let err = sqs
        .cancel_message_move_task()
        .task_handle(&task)
        .send()
        .await
        .expect_err("only running tasks can be cancelled");
    // The legacy query code, as AWS sends it in `x-amzn-query-error`.
    assert_eq!(code(&err), "AWS.SimpleQueueService.UnsupportedOperation");
    let err = sqs
        .cancel_message_move_task()
        .task_handle("bm90LWEtdGFzaw==")
        .send()
        .await
        .expect_err("unknown handle");
    assert_eq!(code(&err), "ResourceNotFoundException");

    let mut status = String::new();
    for _ in 0..100 {
        let list = sqs
            .list_message_move_tasks()
            .source_arn(&dlq_arn)
            .send()
            .await
            .expect("ListMessageMoveTasks");
        let t = &list.results()[0];
        status = t.status().unwrap_or_default().to_string();
        if status == "CANCELLED" {
            assert_eq!(t.destination_arn(), Some(target_arn.as_str()));
            assert_eq!(t.max_number_of_messages_per_second(), Some(1));
            assert_eq!(t.approximate_number_of_messages_to_move(), Some(20));
            assert!(t.approximate_number_of_messages_moved() < 20);
            // Only a running task shows its handle.
            assert_eq!(t.task_handle(), None);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "CANCELLED");
    server.stop().await;
}

#[tokio::test]
async fn a_delete_batch_deletes_only_messages_named_by_their_latest_receipt() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "delete-receipts").await;
    let bodies = ["one", "two", "three"];
    for b in bodies {
        sqs.send_message()
            .queue_url(&url)
            .message_body(b)
            .send()
            .await
            .expect("send");
    }
    let receive = |visibility: i32| {
        sqs.receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility)
            .send()
    };
    // Visible again at once, so the next receive hands out new receipts for the same messages.
    let first = receive(0).await.expect("first receive");
    let second = receive(60).await.expect("second receive");
    assert_eq!(first.messages().len(), 3);
    assert_eq!(second.messages().len(), 3);
    let handle = |r: &aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput, body: &str| {
        r.messages()
            .iter()
            .find(|m| m.body() == Some(body))
            .and_then(|m| m.receipt_handle())
            .expect("received")
            .to_string()
    };
    let entry = |id: &str, handle: String| {
        DeleteMessageBatchRequestEntry::builder()
            .id(id)
            .receipt_handle(handle)
            .build()
            .expect("entry")
    };
    let out = sqs
        .delete_message_batch()
        .queue_url(&url)
        .entries(entry("a", handle(&second, "one")))
        .entries(entry("b", handle(&second, "two")))
        // The receipt of an earlier receive: AWS answers success and keeps the message.
        .entries(entry("c", handle(&first, "three")))
        .send()
        .await
        .expect("DeleteMessageBatch");
    assert_eq!(out.successful().len(), 3);
    let left: serde_json::Value = crate::harness::http()
        .get(server.url("/_cloudemu/sqs/messages"))
        .query(&[("QueueUrl", url.as_str())])
        .send()
        .await
        .expect("peek")
        .json()
        .await
        .expect("json");
    let left: Vec<&str> = left["Messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["Body"].as_str())
        .collect();
    assert_eq!(left, vec!["three"]);
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .expect("attributes");
    assert_eq!(
        attrs.attributes().expect("attrs")[&A::ApproximateNumberOfMessagesNotVisible],
        "1"
    );
    server.stop().await;
}
