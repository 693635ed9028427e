//! FIFO queues: attributes, ordering within a group, groups blocked while in flight,
//! deduplication, sequence numbers, ReceiveRequestAttemptId.

use super::{client, code};
use crate::harness::{unique, TestServer};
use aws_sdk_sqs::types::{MessageSystemAttributeName as S, QueueAttributeName as A};
use std::collections::HashMap;

async fn fifo_queue(sqs: &aws_sdk_sqs::Client, cbd: bool) -> String {
    sqs.create_queue()
        .queue_name(format!("{}.fifo", unique("f")))
        .attributes(A::FifoQueue, "true")
        .attributes(A::ContentBasedDeduplication, cbd.to_string())
        .send()
        .await
        .expect("create fifo")
        .queue_url
        .expect("url")
}

#[tokio::test]
async fn fifo_attributes_and_send_rules() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = fifo_queue(&sqs, false).await;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::All)
        .send()
        .await
        .expect("attrs")
        .attributes
        .expect("attrs");
    assert_eq!(attrs[&A::FifoQueue], "true");
    assert_eq!(attrs[&A::ContentBasedDeduplication], "false");
    assert_eq!(attrs[&A::DeduplicationScope], "queue");
    assert_eq!(attrs[&A::FifoThroughputLimit], "perQueue");

    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_deduplication_id("d")
        .send()
        .await
        .expect_err("group required");
    assert_eq!(code(&err), "MissingParameter");
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_group_id("g")
        .send()
        .await
        .expect_err("dedup id required without content-based dedup");
    assert_eq!(code(&err), "InvalidParameterValue");
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .message_group_id("g")
        .message_deduplication_id("d")
        .delay_seconds(5)
        .send()
        .await
        .expect_err("no per-message delay on FIFO");
    assert_eq!(code(&err), "InvalidParameterValue");

    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(A::DeduplicationScope, "messageGroup")
        .attributes(A::FifoThroughputLimit, "perMessageGroupId")
        .send()
        .await
        .expect("high throughput mode");
    server.stop().await;
}

#[tokio::test]
async fn deduplication_and_sequence_numbers() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = fifo_queue(&sqs, true).await;
    let send = |body: &'static str, dedup: Option<&'static str>| {
        sqs.send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id("g")
            .set_message_deduplication_id(dedup.map(str::to_string))
            .send()
    };
    let a = send("same body", None).await.expect("first");
    let b = send("same body", None).await.expect("duplicate by content");
    assert_eq!(a.message_id(), b.message_id());
    assert_eq!(a.sequence_number(), b.sequence_number());
    let c = send("other", Some("explicit")).await.expect("explicit id");
    let d = send("different body", Some("explicit"))
        .await
        .expect("duplicate by id");
    assert_eq!(c.message_id(), d.message_id());
    let seq_a: u128 = a.sequence_number().expect("seq").parse().expect("number");
    let seq_c: u128 = c.sequence_number().expect("seq").parse().expect("number");
    assert!(seq_c > seq_a);
    assert_eq!(a.sequence_number().map(str::len), Some(20));

    let got = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .message_system_attribute_names(S::All)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 2);
    let attrs = got.messages()[0].attributes().expect("attrs");
    assert_eq!(attrs[&S::MessageGroupId], "g");
    assert_eq!(attrs[&S::SequenceNumber], a.sequence_number().expect("seq"));
    assert!(attrs.contains_key(&S::MessageDeduplicationId));
    server.stop().await;
}

#[tokio::test]
async fn order_within_groups_and_groups_block_while_in_flight() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = fifo_queue(&sqs, true).await;
    for i in 0..6 {
        let group = if i % 2 == 0 { "even" } else { "odd" };
        sqs.send_message()
            .queue_url(&url)
            .message_body(format!("{group}-{i}"))
            .message_group_id(group)
            .send()
            .await
            .expect("send");
    }
    // One message per receive: each group hands out its first message, then is blocked.
    let first = sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert_eq!(first.messages()[0].body(), Some("even-0"));
    let second = sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert_eq!(second.messages()[0].body(), Some("odd-1"));
    let blocked = sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert!(blocked.messages().is_empty(), "both groups are in flight");
    sqs.delete_message()
        .queue_url(&url)
        .receipt_handle(first.messages()[0].receipt_handle().expect("h"))
        .send()
        .await
        .expect("delete");
    let next = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let bodies: Vec<&str> = next.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["even-2", "even-4"]);
    server.stop().await;
}

#[tokio::test]
async fn concurrent_consumers_see_each_group_in_order() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = fifo_queue(&sqs, true).await;
    for i in 0..30 {
        sqs.send_message()
            .queue_url(&url)
            .message_body(format!("{}:{i}", i % 3))
            .message_group_id(format!("g{}", i % 3))
            .send()
            .await
            .expect("send");
    }
    let mut consumers = Vec::new();
    for _ in 0..4 {
        let sqs = sqs.clone();
        let url = url.clone();
        consumers.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            loop {
                let got = sqs
                    .receive_message()
                    .queue_url(&url)
                    .max_number_of_messages(3)
                    .wait_time_seconds(1)
                    .send()
                    .await
                    .expect("receive");
                if got.messages().is_empty() {
                    break;
                }
                for m in got.messages() {
                    seen.push(m.body().unwrap_or_default().to_string());
                    sqs.delete_message()
                        .queue_url(&url)
                        .receipt_handle(m.receipt_handle().expect("h"))
                        .send()
                        .await
                        .expect("delete");
                }
            }
            seen
        }));
    }
    let mut per_group: HashMap<String, Vec<u32>> = HashMap::new();
    let mut total = 0;
    for c in consumers {
        for body in c.await.expect("consumer") {
            let (g, i) = body.split_once(':').expect("body");
            per_group
                .entry(g.to_string())
                .or_default()
                .push(i.parse().expect("n"));
            total += 1;
        }
    }
    assert_eq!(total, 30);
    // Within each consumer's view messages of a group never go backwards, and a group is
    // never handed to two consumers at once, so the union per group is each index once.
    for (_, mut idx) in per_group {
        idx.sort();
        idx.dedup();
        assert_eq!(idx.len(), 10);
    }
    server.stop().await;
}

#[tokio::test]
async fn receive_request_attempt_id_retries_return_the_same_messages() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = fifo_queue(&sqs, true).await;
    for i in 0..3 {
        sqs.send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .message_group_id("g")
            .send()
            .await
            .expect("send");
    }
    let first = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(2)
        .receive_request_attempt_id("attempt-1")
        .send()
        .await
        .expect("receive");
    let retry = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(2)
        .receive_request_attempt_id("attempt-1")
        .send()
        .await
        .expect("retry");
    let ids = |r: &aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput| {
        r.messages()
            .iter()
            .map(|m| m.message_id().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first).len(), 2);
    assert_eq!(ids(&first), ids(&retry));
    assert_eq!(
        first.messages()[0].receipt_handle(),
        retry.messages()[0].receipt_handle()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_held_poll_gets_the_next_message_of_a_group_once_the_one_in_flight_is_deleted() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = fifo_queue(&sqs, true).await;
    for body in ["first", "second"] {
        sqs.send_message()
            .queue_url(&url)
            .message_body(body)
            .message_group_id("g")
            .send()
            .await
            .expect("send");
    }
    let first = sqs
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(600)
        .send()
        .await
        .expect("receive");
    assert_eq!(first.messages()[0].body(), Some("first"));
    // The group is blocked while "first" is in flight: this poll waits (its timer would fire
    // only in 600 s), and the delete has to wake it.
    let poll = {
        let (sqs, url) = (sqs.clone(), url.clone());
        tokio::spawn(async move {
            sqs.receive_message()
                .queue_url(&url)
                .wait_time_seconds(20)
                .send()
                .await
                .expect("long poll")
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    sqs.delete_message()
        .queue_url(&url)
        .receipt_handle(first.messages()[0].receipt_handle().expect("handle"))
        .send()
        .await
        .expect("delete");
    let got = poll.await.expect("poll");
    assert_eq!(got.messages()[0].body(), Some("second"));
    server.stop().await;
}
