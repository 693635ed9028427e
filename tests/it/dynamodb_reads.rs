//! DynamoDB reads that pass stored items through as they are (Query, Scan, GetItem without a
//! filter or projection) and reads longer than one storage visit: what comes back must be
//! exactly what was written, in key order, with pagination where it was.

use crate::harness::{unique, TestServer};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, PutRequest,
    ScalarAttributeType, Select, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use std::collections::{HashMap, HashSet};

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A table with string hash key `pk` and number range key `sk`.
async fn table(ddb: &Client) -> String {
    let name = unique("reads");
    ddb.create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("pk"),
        )
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("sk")
                .attribute_type(ScalarAttributeType::N)
                .build()
                .expect("sk"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .expect("hash"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("sk")
                .key_type(KeyType::Range)
                .build()
                .expect("range"),
        )
        .send()
        .await
        .expect("CreateTable");
    name
}

async fn put_all(ddb: &Client, name: &str, items: Vec<HashMap<String, AttributeValue>>) {
    for chunk in items.chunks(25) {
        let writes = chunk
            .iter()
            .map(|item| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item.clone()))
                            .build()
                            .expect("put"),
                    )
                    .build()
            })
            .collect();
        let out = ddb
            .batch_write_item()
            .request_items(name, writes)
            .send()
            .await
            .expect("BatchWriteItem");
        assert!(out.unprocessed_items().is_none_or(HashMap::is_empty));
    }
}

fn sk_of(item: &HashMap<String, AttributeValue>) -> i64 {
    match item.get("sk") {
        Some(AttributeValue::N(v)) => v.parse().expect("number"),
        other => panic!("sk is {other:?}"),
    }
}

#[tokio::test]
async fn stored_items_come_back_exactly_as_written() {
    let server = TestServer::memory().await;
    let ddb = Client::new(&server.sdk_config());
    let name = table(&ddb).await;
    // Everything JSON has to escape or that a re-encoding could change.
    let item: HashMap<String, AttributeValue> = [
        ("pk", s("p \"quoted\" \\ back\nslash")),
        ("sk", AttributeValue::N("1.50".into())),
        ("unicode", s("é ü 日本 \u{1F600} \u{7f} \t")),
        ("bin", AttributeValue::B(vec![0, 1, 254, 255].into())),
        ("set", AttributeValue::Ss(vec!["b".into(), "a".into()])),
        (
            "nums",
            AttributeValue::Ns(vec!["1e2".into(), "-0.001".into()]),
        ),
        ("nul", AttributeValue::Null(true)),
        ("flag", AttributeValue::Bool(false)),
        (
            "nested",
            AttributeValue::M(
                [(
                    "list".to_string(),
                    AttributeValue::L(vec![s(""), n(7), AttributeValue::M(HashMap::new())]),
                )]
                .into(),
            ),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    ddb.put_item()
        .table_name(&name)
        .set_item(Some(item.clone()))
        .send()
        .await
        .expect("PutItem");
    // The number is stored canonically, as DynamoDB returns it; the rest unchanged.
    let mut expected = item.clone();
    expected.insert("sk".into(), AttributeValue::N("1.5".into()));
    expected.insert(
        "nums".into(),
        AttributeValue::Ns(vec!["100".into(), "-0.001".into()]),
    );

    let got = ddb
        .get_item()
        .table_name(&name)
        .key("pk", item["pk"].clone())
        .key("sk", AttributeValue::N("1.5".into()))
        .send()
        .await
        .expect("GetItem");
    assert_eq!(got.item(), Some(&expected));
    let queried = ddb
        .query()
        .table_name(&name)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", item["pk"].clone())
        .send()
        .await
        .expect("Query");
    assert_eq!(queried.items(), std::slice::from_ref(&expected));
    let scanned = ddb.scan().table_name(&name).send().await.expect("Scan");
    assert_eq!(scanned.items(), std::slice::from_ref(&expected));
    assert_eq!((scanned.count(), scanned.scanned_count()), (1, 1));
    let key: HashMap<String, AttributeValue> = [
        ("pk".to_string(), item["pk"].clone()),
        ("sk".to_string(), AttributeValue::N("1.5".into())),
    ]
    .into();
    let missing_key: HashMap<String, AttributeValue> =
        [("pk".to_string(), s("nobody")), ("sk".to_string(), n(1))].into();
    let batch = ddb
        .batch_get_item()
        .request_items(
            &name,
            aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .keys(key.clone())
                .keys(missing_key)
                .build()
                .expect("keys"),
        )
        .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
        .send()
        .await
        .expect("BatchGetItem");
    let got = batch.responses().and_then(|r| r.get(&name)).expect("table");
    assert_eq!(got, std::slice::from_ref(&expected));
    assert!(batch.unprocessed_keys().is_none_or(HashMap::is_empty));
    // One small item, eventually consistent: half a read unit, as from the decoded item.
    let units: Vec<f64> = batch
        .consumed_capacity()
        .iter()
        .filter_map(|c| c.capacity_units())
        .collect();
    assert_eq!(units, [0.5]);
    let projected = ddb
        .batch_get_item()
        .request_items(
            &name,
            aws_sdk_dynamodb::types::KeysAndAttributes::builder()
                .keys(key)
                .projection_expression("flag, nested.#l[1]")
                .expression_attribute_names("#l", "list")
                .build()
                .expect("keys"),
        )
        .send()
        .await
        .expect("BatchGetItem projected");
    let only: HashMap<String, AttributeValue> = [
        ("flag".to_string(), AttributeValue::Bool(false)),
        (
            "nested".to_string(),
            AttributeValue::M([("list".to_string(), AttributeValue::L(vec![n(7)]))].into()),
        ),
    ]
    .into();
    assert_eq!(
        projected.responses().and_then(|r| r.get(&name)),
        Some(&vec![only])
    );
    // A missing item: no Item member at all.
    let missing = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("nobody"))
        .key("sk", n(1))
        .send()
        .await
        .expect("GetItem missing");
    assert!(missing.item().is_none());
    server.stop().await;
}

#[tokio::test]
async fn long_reads_resume_in_key_order_and_page_where_they_did() {
    let server = TestServer::memory().await;
    let ddb = Client::new(&server.sdk_config());
    let name = table(&ddb).await;
    // 2,500 items in one partition, more than two storage visits' worth, and 500 elsewhere.
    let mut items: Vec<_> = (0..2500)
        .map(|i| {
            [
                ("pk".to_string(), s("p")),
                ("sk".to_string(), n(i)),
                ("v".to_string(), n(i)),
            ]
            .into()
        })
        .collect();
    items.extend((0..500).map(|i| {
        [
            ("pk".to_string(), s(&format!("other-{i}"))),
            ("sk".to_string(), n(i)),
        ]
        .into()
    }));
    put_all(&ddb, &name, items).await;

    let query = || {
        ddb.query()
            .table_name(&name)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
    };
    let all = query().send().await.expect("Query");
    assert_eq!((all.count(), all.scanned_count()), (2500, 2500));
    let order: Vec<i64> = all.items().iter().map(sk_of).collect();
    assert_eq!(order, (0..2500).collect::<Vec<_>>(), "numeric key order");
    assert!(all.last_evaluated_key().is_none());

    let backwards = query()
        .scan_index_forward(false)
        .send()
        .await
        .expect("Query backwards");
    let order: Vec<i64> = backwards.items().iter().map(sk_of).collect();
    assert_eq!(order, (0..2500).rev().collect::<Vec<_>>());

    // A filter that keeps two items: every item is still read (and counted as scanned).
    let filtered = query()
        .filter_expression("v IN (:a, :b)")
        .expression_attribute_values(":a", n(999))
        .expression_attribute_values(":b", n(2222))
        .send()
        .await
        .expect("Query with filter");
    assert_eq!((filtered.count(), filtered.scanned_count()), (2, 2500));
    let kept: Vec<i64> = filtered.items().iter().map(sk_of).collect();
    assert_eq!(kept, [999, 2222]);
    assert!(filtered.last_evaluated_key().is_none());

    // Limit beyond one visit: the page says where it stopped, and the next page goes on.
    let first = query().limit(1500).send().await.expect("page 1");
    assert_eq!(first.count(), 1500);
    let lek = first.last_evaluated_key().expect("more to read").clone();
    assert_eq!(lek.get("sk"), Some(&n(1499)));
    assert_eq!(lek.get("pk"), Some(&s("p")));
    let second = query()
        .set_exclusive_start_key(Some(lek))
        .send()
        .await
        .expect("page 2");
    assert_eq!(second.count(), 1000);
    assert_eq!(second.items().first().map(sk_of), Some(1500));
    assert!(second.last_evaluated_key().is_none());
    // A Limit that ends exactly at the partition's end still reports where it stopped.
    let exact = query().limit(2500).send().await.expect("exact");
    assert_eq!(exact.count(), 2500);
    assert!(exact.last_evaluated_key().is_some());

    // Parallel scan: each segment reads the whole table to find its partitions; together they
    // see every item exactly once.
    let mut seen = HashSet::new();
    for segment in 0..4 {
        let mut start = None;
        loop {
            let page = ddb
                .scan()
                .table_name(&name)
                .segment(segment)
                .total_segments(4)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("Scan segment");
            for item in page.items() {
                let pk = match item.get("pk") {
                    Some(AttributeValue::S(p)) => p.clone(),
                    other => panic!("pk is {other:?}"),
                };
                assert!(seen.insert((pk, sk_of(item))), "an item seen twice");
            }
            start = page.last_evaluated_key().cloned();
            if start.is_none() {
                break;
            }
        }
    }
    assert_eq!(seen.len(), 3000);
    let count = ddb
        .scan()
        .table_name(&name)
        .filter_expression("sk >= :x")
        .expression_attribute_values(":x", n(2400))
        .select(Select::Count)
        .send()
        .await
        .expect("Scan with filter");
    assert_eq!((count.count(), count.scanned_count()), (100, 3000));
    assert!(count.items().is_empty());
    server.stop().await;
}
