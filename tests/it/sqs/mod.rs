//! SQS through the AWS SDK for Rust (JSON protocol) and raw form posts (query protocol).

mod durability;
mod fifo;
mod messages;
mod query;
mod queues;

use crate::harness::{unique, TestServer};
use aws_sdk_sqs::Client;

pub(crate) fn client(server: &TestServer) -> Client {
    Client::new(&server.sdk_config())
}

/// A new standard queue; returns its URL.
pub(crate) async fn queue(sqs: &Client, prefix: &str) -> String {
    sqs.create_queue()
        .queue_name(unique(prefix))
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("QueueUrl")
}

/// A queue's ARN, as GetQueueAttributes reports it.
pub(crate) async fn arn_of(sqs: &Client, url: &str) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("arn")
        .attributes
        .expect("attrs")[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
        .clone()
}

/// The newest message move task from `source_arn`, once it has COMPLETED (polled for up to
/// ten seconds; the task moves messages in the background).
pub(crate) async fn completed_move_task(
    sqs: &Client,
    source_arn: &str,
) -> aws_sdk_sqs::types::ListMessageMoveTasksResultEntry {
    let mut last = None;
    for _ in 0..100 {
        let list = sqs
            .list_message_move_tasks()
            .source_arn(source_arn)
            .send()
            .await
            .expect("ListMessageMoveTasks");
        let task = list.results()[0].clone();
        if task.status() == Some("COMPLETED") {
            return task;
        }
        last = Some(task);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("move task did not complete: {last:?}");
}

/// The error code the SDK reports (the legacy code from `x-amzn-query-error` where AWS sends one).
pub(crate) fn code<E: aws_sdk_sqs::error::ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or("").to_string()
}

/// A form post in the query protocol; returns status and body.
pub(crate) async fn form(server: &TestServer, params: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("Version", "2012-11-05")];
    all.extend_from_slice(params);
    let body: String = all
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                k,
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    let resp = crate::harness::http()
        .post(server.url("/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .expect("post");
    let status = resp.status().as_u16();
    (status, resp.text().await.expect("body"))
}
