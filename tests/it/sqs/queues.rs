//! Queues: create (and its idempotence rules), attributes, URLs, listing, tags, permissions,
//! purge, delete.

use super::{client, code, queue};
use crate::harness::{unique, TestServer};
use aws_sdk_sqs::types::QueueAttributeName as A;
use std::collections::HashMap;

#[tokio::test]
async fn a_new_queue_reports_aws_defaults_exactly() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let name = unique("defaults");
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("CreateQueue")
        .queue_url
        .expect("url");
    // http://<host the client used>/<account>/<name>: three path segments.
    assert_eq!(url, format!("{}/000000000000/{name}", server.endpoint));
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::All)
        .send()
        .await
        .expect("GetQueueAttributes")
        .attributes
        .expect("attributes");
    let get = |k: A| attrs.get(&k).cloned().unwrap_or_default();
    assert_eq!(get(A::VisibilityTimeout), "30");
    assert_eq!(get(A::MessageRetentionPeriod), "345600");
    assert_eq!(get(A::MaximumMessageSize), "1048576");
    assert_eq!(get(A::DelaySeconds), "0");
    assert_eq!(get(A::ReceiveMessageWaitTimeSeconds), "0");
    assert_eq!(get(A::SqsManagedSseEnabled), "true");
    assert_eq!(get(A::ApproximateNumberOfMessages), "0");
    assert_eq!(get(A::ApproximateNumberOfMessagesNotVisible), "0");
    assert_eq!(get(A::ApproximateNumberOfMessagesDelayed), "0");
    assert_eq!(
        get(A::QueueArn),
        format!("arn:aws:sqs:us-east-1:000000000000:{name}")
    );
    let created: i64 = get(A::CreatedTimestamp).parse().expect("epoch seconds");
    assert!((created - chrono::Utc::now().timestamp()).abs() < 120);
    assert!(attrs.contains_key(&A::LastModifiedTimestamp));
    assert!(!attrs.contains_key(&A::FifoQueue));

    // Only what is asked for.
    let some = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::VisibilityTimeout)
        .send()
        .await
        .expect("one attribute")
        .attributes
        .expect("attributes");
    assert_eq!(some.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn set_attributes_read_back_exactly_as_set() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "settable").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"*"}]}"#;
    sqs.set_queue_attributes()
        .queue_url(&url)
        .attributes(A::VisibilityTimeout, "60")
        .attributes(A::DelaySeconds, "5")
        .attributes(A::MaximumMessageSize, "2048")
        .attributes(A::MessageRetentionPeriod, "86400")
        .attributes(A::ReceiveMessageWaitTimeSeconds, "20")
        .attributes(A::Policy, policy)
        .send()
        .await
        .expect("SetQueueAttributes");
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::All)
        .send()
        .await
        .expect("get")
        .attributes
        .expect("attributes");
    assert_eq!(attrs[&A::VisibilityTimeout], "60");
    assert_eq!(attrs[&A::DelaySeconds], "5");
    assert_eq!(attrs[&A::MaximumMessageSize], "2048");
    assert_eq!(attrs[&A::MessageRetentionPeriod], "86400");
    assert_eq!(attrs[&A::ReceiveMessageWaitTimeSeconds], "20");
    assert_eq!(attrs[&A::Policy], policy);

    for (name, bad) in [
        (A::VisibilityTimeout, "43201"),
        (A::DelaySeconds, "901"),
        (A::MaximumMessageSize, "1023"),
        (A::MessageRetentionPeriod, "59"),
        (A::ReceiveMessageWaitTimeSeconds, "21"),
        (A::VisibilityTimeout, "abc"),
    ] {
        let err = sqs
            .set_queue_attributes()
            .queue_url(&url)
            .attributes(name.clone(), bad)
            .send()
            .await
            .expect_err("out of range");
        assert_eq!(
            code(&err),
            "InvalidAttributeValue",
            "{name:?}={bad}: {err:?}"
        );
    }
    // FIFO-only attributes on a standard queue.
    let err = sqs
        .set_queue_attributes()
        .queue_url(&url)
        .attributes(A::ContentBasedDeduplication, "true")
        .send()
        .await
        .expect_err("fifo only");
    assert_eq!(code(&err), "InvalidAttributeName");
    server.stop().await;
}

#[tokio::test]
async fn create_is_idempotent_unless_attributes_differ() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let name = unique("same");
    let create = |vt: &'static str| {
        sqs.create_queue()
            .queue_name(&name)
            .attributes(A::VisibilityTimeout, vt)
            .send()
    };
    let first = create("45").await.expect("first").queue_url;
    let again = create("45").await.expect("same attributes").queue_url;
    assert_eq!(first, again);
    let err = create("46").await.expect_err("different attributes");
    assert_eq!(code(&err), "QueueAlreadyExists");
    assert!(err.into_service_error().is_queue_name_exists());
    server.stop().await;
}

#[tokio::test]
async fn names_are_validated() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    for bad in ["has space", "dot.name", &"x".repeat(81), "bad!"] {
        let err = sqs
            .create_queue()
            .queue_name(bad)
            .send()
            .await
            .expect_err("bad name");
        assert_eq!(code(&err), "InvalidParameterValue", "{bad}");
    }
    // .fifo names need FifoQueue=true and vice versa.
    let err = sqs
        .create_queue()
        .queue_name(unique("plain"))
        .attributes(A::FifoQueue, "true")
        .send()
        .await
        .expect_err("fifo attr without suffix");
    assert_eq!(code(&err), "InvalidParameterValue");
    assert!(sqs
        .create_queue()
        .queue_name("x".repeat(80))
        .send()
        .await
        .is_ok());
    server.stop().await;
}

#[tokio::test]
async fn missing_queues_answer_queue_does_not_exist() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let err = sqs
        .get_queue_url()
        .queue_name("no-such-queue")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(code(&err), "AWS.SimpleQueueService.NonExistentQueue");
    assert!(err.into_service_error().is_queue_does_not_exist());

    let url = format!("{}/000000000000/no-such-queue", server.endpoint);
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(code(&err), "AWS.SimpleQueueService.NonExistentQueue");

    // Raw: the JSON body names the modern type, the header the legacy code.
    let resp = crate::harness::http()
        .post(server.url("/"))
        .header("x-amz-target", "AmazonSQS.GetQueueUrl")
        .header("content-type", "application/x-amz-json-1.0")
        .body(r#"{"QueueName":"no-such-queue"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 400);
    assert_eq!(
        resp.headers()
            .get("x-amzn-query-error")
            .and_then(|v| v.to_str().ok()),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["__type"], "com.amazonaws.sqs#QueueDoesNotExist");
    server.stop().await;
}

#[tokio::test]
async fn get_queue_url_and_owner_account() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let name = unique("owned");
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create")
        .queue_url;
    let got = sqs
        .get_queue_url()
        .queue_name(&name)
        .queue_owner_aws_account_id("000000000000")
        .send()
        .await
        .expect("GetQueueUrl")
        .queue_url;
    assert_eq!(got, url);
    let err = sqs
        .get_queue_url()
        .queue_name(&name)
        .queue_owner_aws_account_id("111111111111")
        .send()
        .await
        .expect_err("other account has no such queue");
    assert!(err.into_service_error().is_queue_does_not_exist());

    // Another account (a 12-digit access key selects it) sees its own queues only.
    let other = aws_sdk_sqs::Client::new(&server.sdk_config_with("222222222222", "x", None));
    let err = other
        .get_queue_url()
        .queue_name(&name)
        .send()
        .await
        .expect_err("isolated");
    assert!(err.into_service_error().is_queue_does_not_exist());
    server.stop().await;
}

#[tokio::test]
async fn list_queues_by_prefix_with_paging() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let prefix = unique("page");
    let mut names = Vec::new();
    for i in 0..5 {
        let n = format!("{prefix}-{i}");
        sqs.create_queue()
            .queue_name(&n)
            .send()
            .await
            .expect("create");
        names.push(n);
    }
    let all = sqs
        .list_queues()
        .queue_name_prefix(&prefix)
        .send()
        .await
        .expect("ListQueues");
    assert_eq!(all.queue_urls().len(), 5);
    assert!(all.next_token.is_none());

    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = sqs
            .list_queues()
            .queue_name_prefix(&prefix)
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .expect("page");
        assert!(page.queue_urls().len() <= 2);
        seen.extend(page.queue_urls().iter().cloned());
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    let expected: Vec<String> = names
        .iter()
        .map(|n| format!("{}/000000000000/{n}", server.endpoint))
        .collect();
    assert_eq!(seen, expected);

    let err = sqs
        .list_queues()
        .max_results(1001)
        .send()
        .await
        .expect_err("too many");
    assert_eq!(code(&err), "InvalidParameterValue");
    server.stop().await;
}

#[tokio::test]
async fn tags_on_create_tag_untag_list() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = sqs
        .create_queue()
        .queue_name(unique("tagged"))
        .tags("team", "core")
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    sqs.tag_queue()
        .queue_url(&url)
        .tags("env", "test")
        .send()
        .await
        .expect("TagQueue");
    let tags = sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("ListQueueTags")
        .tags
        .expect("tags");
    assert_eq!(
        tags,
        HashMap::from([
            ("team".to_string(), "core".to_string()),
            ("env".to_string(), "test".to_string())
        ])
    );
    sqs.untag_queue()
        .queue_url(&url)
        .tag_keys("team")
        .send()
        .await
        .expect("UntagQueue");
    let tags = sqs
        .list_queue_tags()
        .queue_url(&url)
        .send()
        .await
        .expect("list")
        .tags
        .unwrap_or_default();
    assert_eq!(tags.len(), 1);
    assert_eq!(tags["env"], "test");
    server.stop().await;
}

#[tokio::test]
async fn permissions_edit_the_policy_attribute() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "perm").await;
    sqs.add_permission()
        .queue_url(&url)
        .label("send1")
        .aws_account_ids("111122223333")
        .actions("SendMessage")
        .send()
        .await
        .expect("AddPermission");
    let policy = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::Policy)
        .send()
        .await
        .expect("get")
        .attributes
        .expect("attrs")[&A::Policy]
        .clone();
    let doc: serde_json::Value = serde_json::from_str(&policy).expect("policy JSON");
    assert_eq!(doc["Statement"][0]["Sid"], "send1");
    assert_eq!(doc["Statement"][0]["Action"], "SQS:SendMessage");
    assert_eq!(
        doc["Statement"][0]["Principal"]["AWS"],
        "arn:aws:iam::111122223333:root"
    );
    let err = sqs
        .add_permission()
        .queue_url(&url)
        .label("send1")
        .aws_account_ids("111122223333")
        .actions("SendMessage")
        .send()
        .await
        .expect_err("duplicate label");
    assert_eq!(code(&err), "InvalidParameterValue");
    sqs.remove_permission()
        .queue_url(&url)
        .label("send1")
        .send()
        .await
        .expect("RemovePermission");
    let err = sqs
        .remove_permission()
        .queue_url(&url)
        .label("send1")
        .send()
        .await
        .expect_err("gone");
    assert_eq!(code(&err), "InvalidParameterValue");
    server.stop().await;
}

#[tokio::test]
async fn purge_once_a_minute_and_delete_blocks_the_name_for_a_minute() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let name = unique("purged");
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    sqs.send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .expect("send");
    sqs.purge_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("PurgeQueue");
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert!(got.messages().is_empty());
    let err = sqs
        .purge_queue()
        .queue_url(&url)
        .send()
        .await
        .expect_err("second purge");
    assert_eq!(code(&err), "AWS.SimpleQueueService.PurgeQueueInProgress");
    assert!(err.into_service_error().is_purge_queue_in_progress());

    sqs.delete_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("DeleteQueue");
    let err = sqs
        .get_queue_url()
        .queue_name(&name)
        .send()
        .await
        .expect_err("gone");
    assert!(err.into_service_error().is_queue_does_not_exist());
    let err = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect_err("recently deleted");
    assert_eq!(code(&err), "AWS.SimpleQueueService.QueueDeletedRecently");
    server.stop().await;
}

#[tokio::test]
async fn sends_follow_a_queue_through_delete_and_reset() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let name = unique("reborn");
    let url = sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    sqs.send_message()
        .queue_url(&url)
        .message_body("before")
        .send()
        .await
        .expect("send");
    sqs.delete_queue()
        .queue_url(&url)
        .send()
        .await
        .expect("delete");
    let err = sqs
        .send_message()
        .queue_url(&url)
        .message_body("x")
        .send()
        .await
        .expect_err("deleted");
    assert!(err.into_service_error().is_queue_does_not_exist());

    // After a reset the name is free again; a send reaches the new queue, not the old one.
    let reset = crate::harness::http()
        .post(server.url("/_cloudemu/reset"))
        .send()
        .await
        .expect("reset");
    assert!(reset.status().is_success());
    sqs.create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create again");
    sqs.send_message()
        .queue_url(&url)
        .message_body("after")
        .send()
        .await
        .expect("send to the new queue");
    let got = sqs
        .receive_message()
        .queue_url(&url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let bodies: Vec<&str> = got.messages().iter().filter_map(|m| m.body()).collect();
    assert_eq!(bodies, ["after"]);
    server.stop().await;
}

#[tokio::test]
async fn queues_are_found_by_url_path_and_by_other_hosts_urls() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let name = unique("paths");
    sqs.create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create");
    // The legacy path form and AWS-style hosts name the same queue: only account and name count.
    for url in [
        format!("/000000000000/{name}"),
        format!("https://sqs.us-east-1.amazonaws.com/000000000000/{name}"),
        format!("http://localhost:4566/000000000000/{name}"),
    ] {
        sqs.send_message()
            .queue_url(&url)
            .message_body("x")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e:?}"));
    }
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(format!("/000000000000/{name}"))
        .attribute_names(A::ApproximateNumberOfMessages)
        .send()
        .await
        .expect("attrs")
        .attributes
        .expect("attrs");
    assert_eq!(attrs[&A::ApproximateNumberOfMessages], "3");
    server.stop().await;
}

#[tokio::test]
async fn unknown_attributes_and_missing_parameters_get_sqs_own_errors() {
    let server = TestServer::memory().await;
    let sqs = client(&server);
    let url = queue(&sqs, "strict").await;
    let err = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(A::from("Foo"))
        .send()
        .await
        .expect_err("unknown attribute");
    assert_eq!(code(&err), "InvalidAttributeName");
    assert_eq!(
        aws_sdk_sqs::error::ProvideErrorMetadata::message(&err),
        Some("Unknown Attribute Foo.")
    );
    let err = sqs
        .create_queue()
        .queue_name(unique("bogus"))
        .attributes(A::from("Bogus"), "1")
        .send()
        .await
        .expect_err("unknown attribute");
    assert_eq!(code(&err), "InvalidAttributeName");

    let resp = crate::harness::http()
        .post(server.url("/"))
        .header("x-amz-target", "AmazonSQS.SendMessage")
        .header("content-type", "application/x-amz-json-1.0")
        .body(format!(r#"{{"QueueUrl":"{url}"}}"#))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status().as_u16(), 400);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["__type"], "com.amazonaws.sqs#MissingParameter");
    assert_eq!(
        body["message"],
        "The request must contain the parameter MessageBody."
    );
    let (status, xml) = super::form(&server, &[("Action", "GetQueueUrl")]).await;
    assert_eq!(status, 400);
    assert!(xml.contains("<Code>MissingParameter</Code>"), "{xml}");
    server.stop().await;
}

#[tokio::test]
async fn a_queue_lives_in_one_region_only() {
    let server = TestServer::memory().await;
    let east = client(&server);
    let west = aws_sdk_sqs::Client::new(
        &server
            .sdk_config()
            .to_builder()
            .region(aws_sdk_sqs::config::Region::new("eu-west-1"))
            .build(),
    );
    let name = unique("regional");
    let url = east
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create")
        .queue_url
        .expect("url");
    let err = west
        .get_queue_url()
        .queue_name(&name)
        .send()
        .await
        .expect_err("not in eu-west-1");
    assert!(err.into_service_error().is_queue_does_not_exist());
    // The same name in another region is another queue, with its own ARN and messages.
    let west_url = west
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .expect("create in eu-west-1")
        .queue_url
        .expect("url");
    let arn = west
        .get_queue_attributes()
        .queue_url(&west_url)
        .attribute_names(A::QueueArn)
        .send()
        .await
        .expect("attributes")
        .attributes
        .expect("attrs")[&A::QueueArn]
        .clone();
    assert_eq!(arn, format!("arn:aws:sqs:eu-west-1:000000000000:{name}"));
    west.send_message()
        .queue_url(&west_url)
        .message_body("west")
        .send()
        .await
        .expect("send");
    let got = east
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .expect("receive");
    assert!(got.messages().is_empty());
    server.stop().await;
}
