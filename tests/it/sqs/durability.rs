//! Acknowledged sends, deletes and visibility changes survive a restart and a `kill -9`.

use super::{arn_of, client, completed_move_task};
use crate::harness::TestServer;
use crate::persistence::spawn_binary;
use aws_sdk_sqs::types::{MessageSystemAttributeName as S, QueueAttributeName as A};

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn counts(sqs: &aws_sdk_sqs::Client, url: &str) -> (String, String) {
    let a = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(A::All)
        .send()
        .await
        .expect("attrs")
        .attributes
        .expect("attrs");
    (
        a[&A::ApproximateNumberOfMessages].clone(),
        a[&A::ApproximateNumberOfMessagesNotVisible].clone(),
    )
}

#[tokio::test]
async fn messages_and_their_state_survive_a_restart() {
    let keep = tempfile::tempdir().expect("dir");
    let data = keep.path().join("data");
    let first = TestServer::disk_at(&data).await;
    let sqs = client(&first);
    let url = sqs
        .create_queue()
        .queue_name("durable")
        .attributes(A::VisibilityTimeout, "600")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    for i in 0..3 {
        sqs.send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .send()
            .await
            .expect("send");
    }
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(2)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 2);
    sqs.delete_message()
        .queue_url(&url)
        .receipt_handle(got.messages()[0].receipt_handle().expect("h"))
        .send()
        .await
        .expect("delete");
    let held = got.messages()[1].receipt_handle().expect("h").to_string();
    first.stop().await;

    let second = TestServer::disk_at(&data).await;
    let sqs = client(&second);
    let url = sqs
        .get_queue_url()
        .queue_name("durable")
        .send()
        .await
        .expect("queue survives")
        .queue_url
        .expect("url");
    // One deleted, one still in flight (its visibility timeout survived), one visible.
    assert_eq!(counts(&sqs, &url).await, ("1".into(), "1".into()));
    // The receipt handle from before the restart still works.
    sqs.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(&held)
        .visibility_timeout(0)
        .send()
        .await
        .expect("old handle after restart");
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .message_system_attribute_names(S::ApproximateReceiveCount)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 2);
    let counts: Vec<&str> = got
        .messages()
        .iter()
        .map(|m| m.attributes().expect("attrs")[&S::ApproximateReceiveCount].as_str())
        .collect();
    assert!(counts.contains(&"2"), "receive count survived: {counts:?}");
    second.stop().await;
}

/// The counts are a kept total per queue, changed by the statement that adds, removes or moves
/// messages: a dead-letter move on receive, a delete batch and a move task each change two
/// queues' totals or one, and what GetQueueAttributes reads after a restart is what is stored.
#[tokio::test]
async fn counts_follow_dead_letter_moves_deletes_and_move_tasks_across_a_restart() {
    let keep = tempfile::tempdir().expect("dir");
    let data = keep.path().join("data");
    let first = TestServer::disk_at(&data).await;
    let sqs = client(&first);
    let create = |name: &'static str, redrive: Option<String>| {
        let sqs = sqs.clone();
        async move {
            sqs.create_queue()
                .queue_name(name)
                .set_attributes(redrive.map(|r| [(A::RedrivePolicy, r)].into()))
                .send()
                .await
                .expect("create")
                .queue_url
                .expect("url")
        }
    };
    let dlq = create("counts-dlq", None).await;
    let dlq_arn = arn_of(&sqs, &dlq).await;
    let policy = format!(r#"{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"1"}}"#);
    let src = create("counts-src", Some(policy)).await;
    let entries = (0..5).map(|i| {
        aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
            .id(format!("e{i}"))
            .message_body(format!("m{i}"))
            .build()
            .expect("entry")
    });
    sqs.send_message_batch()
        .queue_url(&src)
        .set_entries(Some(entries.collect()))
        .send()
        .await
        .expect("send batch");
    // Received once and visible again at once; the next receive dead-letters all five.
    let got = sqs
        .receive_message()
        .queue_url(&src)
        .max_number_of_messages(10)
        .visibility_timeout(0)
        .send()
        .await
        .expect("receive");
    assert_eq!(got.messages().len(), 5);
    let none = sqs
        .receive_message()
        .queue_url(&src)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive past maxReceiveCount");
    assert!(none.messages().is_empty());
    assert_eq!(counts(&sqs, &src).await, ("0".into(), "0".into()));
    assert_eq!(counts(&sqs, &dlq).await, ("5".into(), "0".into()));

    // From the DLQ: three received, two of them deleted (one named twice), one held.
    let got = sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(3)
        .visibility_timeout(600)
        .send()
        .await
        .expect("receive from dlq");
    assert_eq!(got.messages().len(), 3);
    let again = got.messages()[0].receipt_handle().expect("h").to_string();
    let mut handles: Vec<String> = got.messages()[..2]
        .iter()
        .map(|m| m.receipt_handle().expect("h").to_string())
        .collect();
    handles.push(again);
    let entries = handles.iter().enumerate().map(|(i, h)| {
        aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
            .id(format!("d{i}"))
            .receipt_handle(h)
            .build()
            .expect("entry")
    });
    sqs.delete_message_batch()
        .queue_url(&dlq)
        .set_entries(Some(entries.collect()))
        .send()
        .await
        .expect("delete batch");
    assert_eq!(counts(&sqs, &dlq).await, ("2".into(), "1".into()));

    // A move task with no destination returns the two visible ones to their source.
    sqs.start_message_move_task()
        .source_arn(&dlq_arn)
        .send()
        .await
        .expect("StartMessageMoveTask");
    completed_move_task(&sqs, &dlq_arn).await;
    assert_eq!(counts(&sqs, &src).await, ("2".into(), "0".into()));
    assert_eq!(counts(&sqs, &dlq).await, ("0".into(), "1".into()));
    first.stop().await;

    let second = TestServer::disk_at(&data).await;
    let sqs = client(&second);
    let url = |name: &'static str| {
        let sqs = sqs.clone();
        async move {
            sqs.get_queue_url()
                .queue_name(name)
                .send()
                .await
                .expect("queue survives")
                .queue_url
                .expect("url")
        }
    };
    let (src, dlq) = (url("counts-src").await, url("counts-dlq").await);
    assert_eq!(counts(&sqs, &src).await, ("2".into(), "0".into()));
    assert_eq!(counts(&sqs, &dlq).await, ("0".into(), "1".into()));
    // And they keep following the rows after it.
    sqs.purge_queue()
        .queue_url(&src)
        .send()
        .await
        .expect("purge");
    assert_eq!(counts(&sqs, &src).await, ("0".into(), "0".into()));
    second.stop().await;
}

#[tokio::test]
async fn a_receive_request_attempt_id_retried_after_a_restart_gets_the_same_messages() {
    let keep = tempfile::tempdir().expect("dir");
    let data = keep.path().join("data");
    let first = TestServer::disk_at(&data).await;
    let sqs = client(&first);
    let url = sqs
        .create_queue()
        .queue_name("attempts.fifo")
        .attributes(A::FifoQueue, "true")
        .attributes(A::ContentBasedDeduplication, "true")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    for i in 0..4 {
        sqs.send_message()
            .queue_url(&url)
            .message_body(format!("m{i}"))
            .message_group_id("g")
            .send()
            .await
            .expect("send");
    }
    let received = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(2)
        .receive_request_attempt_id("before-restart")
        .send()
        .await
        .expect("receive");
    let seen = |r: &aws_sdk_sqs::operation::receive_message::ReceiveMessageOutput| {
        r.messages()
            .iter()
            .map(|m| {
                (
                    m.body().unwrap_or_default().to_string(),
                    m.receipt_handle().unwrap_or_default().to_string(),
                )
            })
            .collect::<Vec<_>>()
    };
    let before = seen(&received);
    assert_eq!(before.len(), 2);
    first.stop().await;

    // The client never saw the answer and retries with the same attempt id on a restarted
    // server: AWS promises the same messages and receipt handles within 5 minutes.
    let second = TestServer::disk_at(&data).await;
    let sqs = client(&second);
    let retry = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(2)
        .receive_request_attempt_id("before-restart")
        .send()
        .await
        .expect("retry");
    assert_eq!(seen(&retry), before);
    assert_eq!(before[0].0, "m0");
    second.stop().await;
}

#[tokio::test]
async fn acknowledged_sends_survive_kill_9() {
    let keep = tempfile::tempdir().expect("dir");
    let data = keep.path().join("data");
    let (child, port) = spawn_binary(&data);
    // Killed on drop too, so a failing assertion leaves no server behind.
    let mut child = KillOnDrop(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    let conf = aws_sdk_sqs::config::Builder::from(
        &aws_config::SdkConfig::builder()
            .endpoint_url(&endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new("test", "test", None, None, "t"),
                ),
            )
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build(),
    )
    .build();
    let sqs = aws_sdk_sqs::Client::from_conf(conf);
    let url = sqs
        .create_queue()
        .queue_name("crash")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    let mut tasks = Vec::new();
    for i in 0..200 {
        let sqs = sqs.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            sqs.send_message()
                .queue_url(&url)
                .message_body(format!("m{i}"))
                .send()
                .await
                .expect("send")
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    // Ten received and deleted, one more hidden for ten minutes: both acknowledged.
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let entries: Vec<_> = got
        .messages()
        .iter()
        .enumerate()
        .map(|(i, m)| {
            aws_sdk_sqs::types::DeleteMessageBatchRequestEntry::builder()
                .id(format!("d{i}"))
                .receipt_handle(m.receipt_handle().expect("h"))
                .build()
                .expect("entry")
        })
        .collect();
    let deleted = entries.len();
    sqs.delete_message_batch()
        .queue_url(&url)
        .set_entries(Some(entries))
        .send()
        .await
        .expect("delete batch");
    let one = sqs
        .receive_message()
        .queue_url(&url)
        .visibility_timeout(30)
        .send()
        .await
        .expect("receive one");
    sqs.change_message_visibility()
        .queue_url(&url)
        .receipt_handle(one.messages()[0].receipt_handle().expect("h"))
        .visibility_timeout(600)
        .send()
        .await
        .expect("hide");
    child.0.kill().expect("kill -9");
    let _ = child.0.wait();

    let second = TestServer::disk_at(&data).await;
    let sqs = client(&second);
    let url = sqs
        .get_queue_url()
        .queue_name("crash")
        .send()
        .await
        .expect("queue")
        .queue_url
        .expect("url");
    let visible = 200 - deleted - 1;
    assert_eq!(
        counts(&sqs, &url).await,
        (visible.to_string(), "1".to_string())
    );
    second.stop().await;
}
