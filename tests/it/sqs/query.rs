//! The query protocol (form posts, XML replies, legacy error codes), as older SDKs, the AWS CLI
//! v1 of some tools and hand-written clients still send it.

use super::form;
use crate::harness::{unique, TestServer};

/// The text of the first `<tag>` element.
fn text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(&xml[start..end])
}

#[tokio::test]
async fn queue_and_message_lifecycle_over_query() {
    let server = TestServer::memory().await;
    let name = unique("q");
    let (status, xml) = form(
        &server,
        &[
            ("Action", "CreateQueue"),
            ("QueueName", &name),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "45"),
            ("Tag.1.Key", "team"),
            ("Tag.1.Value", "core"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.starts_with(
            r#"<CreateQueueResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><CreateQueueResult><QueueUrl>"#
        ),
        "{xml}"
    );
    let url = text(&xml, "QueueUrl").expect("url").to_string();
    assert_eq!(url, format!("{}/000000000000/{name}", server.endpoint));
    assert!(xml.contains("<ResponseMetadata><RequestId>"));

    let (_, xml) = form(
        &server,
        &[
            ("Action", "GetQueueAttributes"),
            ("QueueUrl", &url),
            ("AttributeName.1", "VisibilityTimeout"),
            ("AttributeName.2", "DelaySeconds"),
        ],
    )
    .await;
    assert!(
        xml.contains("<Attribute><Name>VisibilityTimeout</Name><Value>45</Value></Attribute>"),
        "{xml}"
    );
    assert!(xml.contains("<Attribute><Name>DelaySeconds</Name><Value>0</Value></Attribute>"));

    let (_, xml) = form(&server, &[("Action", "ListQueueTags"), ("QueueUrl", &url)]).await;
    assert!(
        xml.contains("<Tag><Key>team</Key><Value>core</Value></Tag>"),
        "{xml}"
    );

    let (status, xml) = form(
        &server,
        &[
            ("Action", "SendMessage"),
            ("QueueUrl", &url),
            ("MessageBody", "hello <xml> & friends"),
            ("MessageAttribute.1.Name", "color"),
            ("MessageAttribute.1.Value.DataType", "String"),
            ("MessageAttribute.1.Value.StringValue", "blue"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(
        text(&xml, "MD5OfMessageBody"),
        Some(md5_of("hello <xml> & friends").as_str())
    );
    assert!(text(&xml, "MD5OfMessageAttributes").is_some());
    let message_id = text(&xml, "MessageId").expect("id").to_string();

    let (_, xml) = form(
        &server,
        &[
            ("Action", "ReceiveMessage"),
            ("QueueUrl", &url),
            ("AttributeName.1", "All"),
            ("MessageAttributeName.1", "All"),
        ],
    )
    .await;
    assert!(
        xml.contains("<ReceiveMessageResult><Message><MessageId>"),
        "{xml}"
    );
    assert_eq!(text(&xml, "MessageId"), Some(message_id.as_str()));
    assert_eq!(text(&xml, "Body"), Some("hello &lt;xml&gt; &amp; friends"));
    assert!(
        xml.contains("<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>"),
        "{xml}"
    );
    assert!(
        xml.contains("<MessageAttribute><Name>color</Name><Value><StringValue>blue</StringValue><DataType>String</DataType></Value></MessageAttribute>"),
        "{xml}"
    );
    let handle = text(&xml, "ReceiptHandle").expect("handle").to_string();

    let (status, xml) = form(
        &server,
        &[
            ("Action", "DeleteMessageBatch"),
            ("QueueUrl", &url),
            ("DeleteMessageBatchRequestEntry.1.Id", "a"),
            ("DeleteMessageBatchRequestEntry.1.ReceiptHandle", &handle),
        ],
    )
    .await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.contains("<DeleteMessageBatchResultEntry><Id>a</Id></DeleteMessageBatchResultEntry>"),
        "{xml}"
    );

    let (_, xml) = form(
        &server,
        &[
            ("Action", "SendMessageBatch"),
            ("QueueUrl", &url),
            ("SendMessageBatchRequestEntry.1.Id", "one"),
            ("SendMessageBatchRequestEntry.1.MessageBody", "1"),
            ("SendMessageBatchRequestEntry.2.Id", "two"),
            ("SendMessageBatchRequestEntry.2.MessageBody", "2"),
        ],
    )
    .await;
    assert_eq!(
        xml.matches("<SendMessageBatchResultEntry>").count(),
        2,
        "{xml}"
    );

    let (_, xml) = form(
        &server,
        &[("Action", "ListQueues"), ("QueueNamePrefix", &name)],
    )
    .await;
    assert!(
        xml.contains(&format!(
            "<ListQueuesResult><QueueUrl>{url}</QueueUrl></ListQueuesResult>"
        )),
        "{xml}"
    );

    let (status, xml) = form(&server, &[("Action", "DeleteQueue"), ("QueueUrl", &url)]).await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.starts_with("<DeleteQueueResponse"), "{xml}");
    server.stop().await;
}

fn md5_of(s: &str) -> String {
    use md5::Digest;
    md5::Md5::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[tokio::test]
async fn errors_carry_the_legacy_query_codes() {
    let server = TestServer::memory().await;
    let missing = format!("{}/000000000000/nope", server.endpoint);
    let (status, xml) = form(&server, &[("Action", "GetQueueUrl"), ("QueueName", "nope")]).await;
    assert_eq!(status, 400);
    assert!(
        xml.starts_with(r#"<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>"#),
        "{xml}"
    );
    let (_, xml) = form(
        &server,
        &[
            ("Action", "SendMessage"),
            ("QueueUrl", &missing),
            ("MessageBody", "x"),
        ],
    )
    .await;
    assert_eq!(
        text(&xml, "Code"),
        Some("AWS.SimpleQueueService.NonExistentQueue")
    );

    let name = unique("errs");
    let (_, xml) = form(&server, &[("Action", "CreateQueue"), ("QueueName", &name)]).await;
    let url = text(&xml, "QueueUrl").expect("url").to_string();
    let (_, xml) = form(
        &server,
        &[
            ("Action", "CreateQueue"),
            ("QueueName", &name),
            ("Attribute.1.Name", "VisibilityTimeout"),
            ("Attribute.1.Value", "99"),
        ],
    )
    .await;
    assert_eq!(text(&xml, "Code"), Some("QueueAlreadyExists"), "{xml}");
    let (_, xml) = form(
        &server,
        &[
            ("Action", "SendMessageBatch"),
            ("QueueUrl", &url),
            ("SendMessageBatchRequestEntry.1.Id", "x"),
            ("SendMessageBatchRequestEntry.1.MessageBody", "1"),
            ("SendMessageBatchRequestEntry.2.Id", "x"),
            ("SendMessageBatchRequestEntry.2.MessageBody", "2"),
        ],
    )
    .await;
    assert_eq!(
        text(&xml, "Code"),
        Some("AWS.SimpleQueueService.BatchEntryIdsNotDistinct"),
        "{xml}"
    );
    let (status, xml) = form(
        &server,
        &[
            ("Action", "DeleteMessage"),
            ("QueueUrl", &url),
            ("ReceiptHandle", "bogus"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(text(&xml, "Code"), Some("ReceiptHandleIsInvalid"), "{xml}");
    let (_, xml) = form(&server, &[("Action", "PurgeQueue"), ("QueueUrl", &url)]).await;
    assert!(xml.starts_with("<PurgeQueueResponse"), "{xml}");
    let (status, xml) = form(&server, &[("Action", "PurgeQueue"), ("QueueUrl", &url)]).await;
    assert_eq!(status, 403);
    assert_eq!(
        text(&xml, "Code"),
        Some("AWS.SimpleQueueService.PurgeQueueInProgress")
    );
    let (status, xml) = form(&server, &[("Action", "NoSuchAction")]).await;
    assert_eq!(status, 400);
    assert_eq!(text(&xml, "Code"), Some("InvalidAction"), "{xml}");
    server.stop().await;
}

#[tokio::test]
async fn old_clients_post_to_the_queue_url_itself() {
    let server = TestServer::memory().await;
    let name = unique("posted");
    let (_, xml) = form(&server, &[("Action", "CreateQueue"), ("QueueName", &name)]).await;
    let url = text(&xml, "QueueUrl").expect("url").to_string();
    let path = format!("/000000000000/{name}");
    let resp = crate::harness::http()
        .post(server.url(&path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=SendMessage&Version=2012-11-05&MessageBody=via+path")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 200);
    let (_, xml) = form(&server, &[("Action", "ReceiveMessage"), ("QueueUrl", &url)]).await;
    assert_eq!(text(&xml, "Body"), Some("via path"), "{xml}");
    server.stop().await;
}
