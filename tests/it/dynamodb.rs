//! DynamoDB through the AWS SDK for Rust against a real server.

use crate::harness::{unique, TestServer};
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, Projection,
    ProjectionType, ProvisionedThroughput, ReturnValue, ScalarAttributeType, StreamSpecification,
    StreamViewType, Tag, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::Client;

fn attr(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(t)
        .build()
        .expect("attr")
}

fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(t)
        .build()
        .expect("key")
}

/// An error's code and message.
fn msg<E: ProvideErrorMetadata>(e: &E) -> (String, String) {
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

fn client(server: &TestServer) -> Client {
    Client::new(&server.sdk_config())
}

/// A pay-per-request table with a string hash key `pk` and, when `range` is given, a range key
/// `sk` of that type.
async fn table(ddb: &Client, range: Option<ScalarAttributeType>) -> String {
    let name = unique("tbl");
    let mut req = ddb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash));
    if let Some(t) = range {
        req = req
            .attribute_definitions(attr("sk", t))
            .key_schema(key("sk", KeyType::Range));
    }
    req.send().await.expect("CreateTable");
    name
}

#[tokio::test]
async fn table_lifecycle_as_terraform_reads_it() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = unique("orders");
    let created = ddb
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("id", ScalarAttributeType::S))
        .attribute_definitions(attr("ts", ScalarAttributeType::N))
        .attribute_definitions(attr("user", ScalarAttributeType::S))
        .key_schema(key("id", KeyType::Hash))
        .key_schema(key("ts", KeyType::Range))
        .provisioned_throughput(
            ProvisionedThroughput::builder()
                .read_capacity_units(5)
                .write_capacity_units(3)
                .build()
                .expect("pt"),
        )
        .global_secondary_indexes(
            aws_sdk_dynamodb::types::GlobalSecondaryIndex::builder()
                .index_name("by-user")
                .key_schema(key("user", KeyType::Hash))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::Include)
                        .non_key_attributes("total")
                        .build(),
                )
                .provisioned_throughput(
                    ProvisionedThroughput::builder()
                        .read_capacity_units(1)
                        .write_capacity_units(1)
                        .build()
                        .expect("pt"),
                )
                .build()
                .expect("gsi"),
        )
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("stream"),
        )
        .deletion_protection_enabled(true)
        .tags(
            Tag::builder()
                .key("team")
                .value("core")
                .build()
                .expect("tag"),
        )
        .send()
        .await
        .expect("CreateTable");
    let desc = created.table_description().expect("description");
    assert_eq!(desc.table_name(), Some(name.as_str()));
    assert_eq!(
        desc.table_arn(),
        Some(format!("arn:aws:dynamodb:us-east-1:000000000000:table/{name}").as_str())
    );

    let got = ddb
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect("DescribeTable");
    let t = got.table().expect("table");
    assert_eq!(t.table_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(t.key_schema().len(), 2);
    assert_eq!(t.attribute_definitions().len(), 3);
    assert_eq!(t.item_count(), Some(0));
    let pt = t.provisioned_throughput().expect("throughput");
    assert_eq!(pt.read_capacity_units(), Some(5));
    assert_eq!(pt.write_capacity_units(), Some(3));
    let gsi = &t.global_secondary_indexes()[0];
    assert_eq!(gsi.index_name(), Some("by-user"));
    assert_eq!(gsi.index_status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(
        gsi.projection()
            .and_then(|p| p.non_key_attributes().first()),
        Some(&"total".to_string())
    );
    assert!(t
        .latest_stream_arn()
        .is_some_and(|a| a.starts_with(&format!("{}/stream/", t.table_arn().expect("arn")))));
    assert_eq!(
        t.stream_specification().map(|s| s.stream_view_type()),
        Some(Some(&StreamViewType::NewAndOldImages))
    );
    assert_eq!(t.deletion_protection_enabled(), Some(true));
    let arn = t.table_arn().expect("arn").to_string();

    // Tables are also addressed by ARN.
    let by_arn = ddb
        .describe_table()
        .table_name(&arn)
        .send()
        .await
        .expect("DescribeTable by ARN");
    assert_eq!(
        by_arn.table().and_then(|t| t.table_name()),
        Some(name.as_str())
    );

    let tags = ddb
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("ListTagsOfResource");
    assert_eq!(tags.tags().len(), 1);
    ddb.tag_resource()
        .resource_arn(&arn)
        .tags(Tag::builder().key("env").value("dev").build().expect("tag"))
        .send()
        .await
        .expect("TagResource");
    ddb.untag_resource()
        .resource_arn(&arn)
        .tag_keys("team")
        .send()
        .await
        .expect("UntagResource");
    let tags = ddb
        .list_tags_of_resource()
        .resource_arn(&arn)
        .send()
        .await
        .expect("ListTagsOfResource");
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key(), "env");

    // Deletion protection holds until it is turned off.
    let err = ddb
        .delete_table()
        .table_name(&name)
        .send()
        .await
        .expect_err("protected");
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(err
        .message()
        .unwrap_or_default()
        .contains("protected against deletion"));
    ddb.update_table()
        .table_name(&name)
        .deletion_protection_enabled(false)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("UpdateTable");
    let t = ddb
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect("describe");
    let t = t.table().expect("table");
    assert_eq!(
        t.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    assert!(t
        .billing_mode_summary()
        .and_then(|b| b.last_update_to_pay_per_request_date_time())
        .is_some());
    let deleted = ddb
        .delete_table()
        .table_name(&name)
        .send()
        .await
        .expect("DeleteTable");
    assert_eq!(
        deleted
            .table_description()
            .and_then(|d| d.table_status())
            .map(|s| s.as_str()),
        Some("DELETING")
    );
    let err = ddb
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect_err("gone");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    assert_eq!(
        err.message(),
        Some(format!("Requested resource not found: Table: {name} not found").as_str())
    );
    server.stop().await;
}

#[tokio::test]
async fn create_table_validation_speaks_aws() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = unique("bad");
    // An attribute definition no key uses.
    let err = ddb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("extra", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .send()
        .await
        .expect_err("unused definition");
    assert_eq!(
        msg(&err),
        (
            "ValidationException".into(),
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions".into()
        )
    );
    // A key attribute without a definition.
    let err = ddb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .send()
        .await
        .expect_err("undefined key");
    assert_eq!(
        msg(&err).1,
        "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [pk, sk], AttributeDefinitions: [pk]"
    );
    // RANGE first.
    let err = ddb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Range))
        .send()
        .await
        .expect_err("range first");
    assert_eq!(
        msg(&err).1,
        "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
    );
    // Provisioned without throughput.
    let err = ddb
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .send()
        .await
        .expect_err("no throughput");
    assert_eq!(
        msg(&err).1,
        "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED"
    );
    // An LSI on a table without a range key.
    let err = ddb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("other", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .local_secondary_indexes(
            aws_sdk_dynamodb::types::LocalSecondaryIndex::builder()
                .index_name("lsi")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("other", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("lsi"),
        )
        .send()
        .await
        .expect_err("lsi without range");
    assert_eq!(
        msg(&err).1,
        "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex"
    );
    // Bad names are refused with the model's pattern wording.
    let err = ddb
        .create_table()
        .table_name("a!")
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .send()
        .await
        .expect_err("bad name");
    assert_eq!(
        msg(&err).1,
        "2 validation errors detected: Value 'a!' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3; Value 'a!' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
    );
    // A second table of the same name.
    let existing = table(&ddb, None).await;
    let err = ddb
        .create_table()
        .table_name(&existing)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .send()
        .await
        .expect_err("exists");
    assert_eq!(
        msg(&err),
        (
            "ResourceInUseException".into(),
            format!("Table already exists: {existing}")
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn list_tables_pages_in_name_order() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let mut names = Vec::new();
    for _ in 0..5 {
        names.push(table(&ddb, None).await);
    }
    names.sort();
    let first = ddb.list_tables().limit(2).send().await.expect("ListTables");
    assert_eq!(first.table_names(), &names[..2]);
    assert_eq!(first.last_evaluated_table_name(), Some(names[1].as_str()));
    let rest = ddb
        .list_tables()
        .exclusive_start_table_name(&names[1])
        .send()
        .await
        .expect("ListTables");
    assert_eq!(rest.table_names(), &names[2..]);
    assert_eq!(rest.last_evaluated_table_name(), None);
    server.stop().await;
}

#[tokio::test]
async fn ttl_backups_limits_and_endpoints() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, None).await;
    let ttl = ddb
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .expect("ttl");
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.time_to_live_status())
            .map(|s| s.as_str()),
        Some("DISABLED")
    );
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name("expires")
        .build()
        .expect("spec");
    ddb.update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(spec.clone())
        .send()
        .await
        .expect("UpdateTimeToLive");
    let ttl = ddb
        .describe_time_to_live()
        .table_name(&name)
        .send()
        .await
        .expect("ttl");
    let d = ttl.time_to_live_description().expect("description");
    assert_eq!(d.time_to_live_status().map(|s| s.as_str()), Some("ENABLED"));
    assert_eq!(d.attribute_name(), Some("expires"));
    let err = ddb
        .update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(spec)
        .send()
        .await
        .expect_err("again");
    assert_eq!(err.message(), Some("TimeToLive is already enabled"));

    let b = ddb
        .describe_continuous_backups()
        .table_name(&name)
        .send()
        .await
        .expect("backups");
    let pitr = b
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        .map(|s| s.as_str().to_string());
    assert_eq!(pitr.as_deref(), Some("DISABLED"));
    let b = ddb
        .update_continuous_backups()
        .table_name(&name)
        .point_in_time_recovery_specification(
            aws_sdk_dynamodb::types::PointInTimeRecoverySpecification::builder()
                .point_in_time_recovery_enabled(true)
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("UpdateContinuousBackups");
    let p = b
        .continuous_backups_description()
        .and_then(|d| d.point_in_time_recovery_description())
        .expect("pitr");
    assert_eq!(
        p.point_in_time_recovery_status().map(|s| s.as_str()),
        Some("ENABLED")
    );
    assert_eq!(p.recovery_period_in_days(), Some(35));
    let err = ddb
        .describe_continuous_backups()
        .table_name("missing-table")
        .send()
        .await
        .expect_err("missing");
    assert_eq!(err.code(), Some("TableNotFoundException"));

    let limits = ddb.describe_limits().send().await.expect("limits");
    assert_eq!(limits.table_max_read_capacity_units(), Some(40000));
    let eps = ddb.describe_endpoints().send().await.expect("endpoints");
    assert_eq!(eps.endpoints().len(), 1);
    server.stop().await;
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

#[tokio::test]
async fn items_put_get_delete_with_canonical_numbers() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, Some(ScalarAttributeType::N)).await;
    let put = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("user#1"))
        .item("sk", n("1.50"))
        .item("big", n("00012345678901234567890123456789012345678"))
        .item("tags", AttributeValue::Ss(vec!["a".into(), "b".into()]))
        .item(
            "doc",
            AttributeValue::M(
                [(
                    "nested".to_string(),
                    AttributeValue::L(vec![n("1e2"), AttributeValue::Null(true)]),
                )]
                .into(),
            ),
        )
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("PutItem");
    assert!(put.attributes().is_none(), "nothing was there before");
    let got = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("user#1"))
        .key("sk", n("1.5"))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem");
    let item = got.item().expect("item");
    assert_eq!(item["sk"], n("1.5"));
    assert_eq!(item["big"], n("12345678901234567890123456789012345678"));
    let AttributeValue::M(doc) = &item["doc"] else {
        panic!("map")
    };
    assert_eq!(
        doc["nested"],
        AttributeValue::L(vec![n("100"), AttributeValue::Null(true)])
    );

    // Projection with a reserved word behind a name placeholder.
    let got = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("user#1"))
        .key("sk", n("1.5"))
        .projection_expression("#d.nested[0], tags")
        .expression_attribute_names("#d", "doc")
        .send()
        .await
        .expect("GetItem projected");
    let item = got.item().expect("item");
    assert_eq!(item.len(), 2);
    assert_eq!(
        item["doc"],
        AttributeValue::M([("nested".to_string(), AttributeValue::L(vec![n("100")]))].into())
    );

    let deleted = ddb
        .delete_item()
        .table_name(&name)
        .key("pk", s("user#1"))
        .key("sk", n("1.5"))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .expect("DeleteItem");
    assert_eq!(deleted.attributes().map(|a| a.len()), Some(5));
    let got = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("user#1"))
        .key("sk", n("1.5"))
        .send()
        .await
        .expect("GetItem");
    assert!(got.item().is_none());
    server.stop().await;
}

#[tokio::test]
async fn item_validation_speaks_aws() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, Some(ScalarAttributeType::N)).await;
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .send()
        .await
        .expect_err("missing range key");
    assert_eq!(
        msg(&err),
        (
            "ValidationException".into(),
            "One or more parameter values were invalid: Missing the key sk in the item".into()
        )
    );
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .item("sk", s("x"))
        .send()
        .await
        .expect_err("wrong type");
    assert_eq!(
        msg(&err).1,
        "One or more parameter values were invalid: Type mismatch for key sk expected: N actual: S"
    );
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s(""))
        .item("sk", n("1"))
        .send()
        .await
        .expect_err("empty key");
    assert_eq!(
        msg(&err).1,
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: pk"
    );
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .item("sk", n("1"))
        .item("num", n("1".repeat(39).as_str()))
        .send()
        .await
        .expect_err("39 digits");
    assert_eq!(
        msg(&err).1,
        "Attempting to store more than 38 significant digits in a Number"
    );
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .item("sk", n("1"))
        .item("blob", s(&"x".repeat(400 * 1024)))
        .send()
        .await
        .expect_err("too big");
    assert_eq!(
        msg(&err).1,
        "Item size has exceeded the maximum allowed size"
    );
    let err = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("a"))
        .send()
        .await
        .expect_err("partial key");
    assert_eq!(
        msg(&err).1,
        "The provided key element does not match the schema"
    );
    let err = ddb
        .get_item()
        .table_name("no-such-table")
        .key("pk", s("a"))
        .send()
        .await
        .expect_err("no table");
    assert_eq!(
        msg(&err),
        (
            "ResourceNotFoundException".into(),
            "Requested resource not found".into()
        )
    );
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .item("sk", n("1"))
        .condition_expression("attribute_not_exists(pk)")
        .expression_attribute_values(":unused", s("x"))
        .send()
        .await
        .expect_err("unused value");
    assert_eq!(
        msg(&err).1,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}"
    );
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .item("sk", n("1"))
        .condition_expression("size > :v")
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .expect_err("reserved word");
    assert_eq!(
        msg(&err).1,
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: size"
    );
    server.stop().await;
}

#[tokio::test]
async fn conditional_writes_and_update_expressions() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, None).await;
    ddb.put_item()
        .table_name(&name)
        .item("pk", s("k"))
        .item("count", n("1"))
        .item("list", AttributeValue::L(vec![s("a")]))
        .item("colors", AttributeValue::Ss(vec!["red".into()]))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .expect("first put");
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("k"))
        .condition_expression("attribute_not_exists(pk)")
        .return_values_on_condition_check_failure(
            aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
        )
        .send()
        .await
        .expect_err("second put");
    assert_eq!(
        msg(&err),
        (
            "ConditionalCheckFailedException".into(),
            "The conditional request failed".into()
        )
    );
    let svc = err.into_service_error();
    let ccf = match svc {
        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) => {
            e
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(ccf.item().map(|i| i["count"].clone()), Some(n("1")));

    let updated = ddb
        .update_item()
        .table_name(&name)
        .key("pk", s("k"))
        .update_expression(
            "SET #c = #c + :inc, #l = list_append(#l, :more), fresh = if_not_exists(fresh, :zero) ADD colors :blue REMOVE gone",
        )
        .condition_expression("#c < :limit")
        .expression_attribute_names("#c", "count")
        .expression_attribute_names("#l", "list")
        .expression_attribute_values(":inc", n("0.5"))
        .expression_attribute_values(":more", AttributeValue::L(vec![s("b")]))
        .expression_attribute_values(":zero", n("0"))
        .expression_attribute_values(":blue", AttributeValue::Ss(vec!["blue".into()]))
        .expression_attribute_values(":limit", n("10"))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await
        .expect("UpdateItem");
    let attrs = updated.attributes().expect("attributes");
    assert_eq!(attrs["count"], n("1.5"));
    assert_eq!(attrs["list"], AttributeValue::L(vec![s("a"), s("b")]));
    assert_eq!(attrs["fresh"], n("0"));
    let AttributeValue::Ss(colors) = &attrs["colors"] else {
        panic!("set")
    };
    assert_eq!(colors.len(), 2);
    assert!(!attrs.contains_key("pk"));

    // Key attributes cannot be updated.
    let err = ddb
        .update_item()
        .table_name(&name)
        .key("pk", s("k"))
        .update_expression("SET pk = :v")
        .expression_attribute_values(":v", s("other"))
        .send()
        .await
        .expect_err("key update");
    assert_eq!(
        msg(&err).1,
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key"
    );
    // Arithmetic on a missing attribute.
    let err = ddb
        .update_item()
        .table_name(&name)
        .key("pk", s("k"))
        .update_expression("SET amount = absent + :v")
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .expect_err("missing operand");
    assert_eq!(
        msg(&err).1,
        "The provided expression refers to an attribute that does not exist in the item"
    );
    // A syntax error names the token.
    let err = ddb
        .update_item()
        .table_name(&name)
        .key("pk", s("k"))
        .update_expression("SET = :v")
        .expression_attribute_values(":v", n("1"))
        .send()
        .await
        .expect_err("syntax");
    assert_eq!(
        msg(&err).1,
        "Invalid UpdateExpression: Syntax error; token: \"=\", near: \"SET = :v\""
    );
    // UpdateItem on a missing item creates it.
    ddb.update_item()
        .table_name(&name)
        .key("pk", s("new"))
        .update_expression("SET v = :v")
        .expression_attribute_values(":v", n("7"))
        .send()
        .await
        .expect("upsert");
    let got = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("new"))
        .send()
        .await
        .expect("GetItem");
    assert_eq!(got.item().map(|i| i["v"].clone()), Some(n("7")));

    // A failed condition on delete leaves the item.
    let err = ddb
        .delete_item()
        .table_name(&name)
        .key("pk", s("new"))
        .condition_expression("v = :other")
        .expression_attribute_values(":other", n("8"))
        .send()
        .await
        .expect_err("condition");
    assert_eq!(msg(&err).0, "ConditionalCheckFailedException");
    let got = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("new"))
        .send()
        .await
        .expect("GetItem");
    assert!(got.item().is_some());
    server.stop().await;
}

#[tokio::test]
async fn query_orders_numbers_numerically_and_pages() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, Some(ScalarAttributeType::N)).await;
    let numbers = [
        "-1E+20", "-100", "-10.5", "-2", "-0.001", "0", "1E-100", "0.5", "2", "10", "10.25", "100",
        "1E+30",
    ];
    // Written in a scrambled order; read back in numeric order.
    for i in [7, 2, 12, 0, 5, 9, 1, 11, 3, 8, 4, 10, 6] {
        ddb.put_item()
            .table_name(&name)
            .item("pk", s("p"))
            .item("sk", n(numbers[i]))
            .item("odd", AttributeValue::Bool(i % 2 == 1))
            .send()
            .await
            .expect("PutItem");
    }
    ddb.put_item()
        .table_name(&name)
        .item("pk", s("other"))
        .item("sk", n("5"))
        .send()
        .await
        .expect("PutItem");
    let all = ddb
        .query()
        .table_name(&name)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .send()
        .await
        .expect("Query");
    let got: Vec<String> = all
        .items()
        .iter()
        .map(|i| i["sk"].as_n().expect("n").clone())
        .collect();
    let canonical = [
        "-100000000000000000000",
        "-100",
        "-10.5",
        "-2",
        "-0.001",
        "0",
        &format!("0.{}1", "0".repeat(99)),
        "0.5",
        "2",
        "10",
        "10.25",
        "100",
        &format!("1{}", "0".repeat(30)),
    ];
    assert_eq!(got, canonical);
    assert_eq!(all.count(), 13);
    assert!(all.last_evaluated_key().is_none());

    // Backwards, a range condition, and pages of 2.
    let mut pages = 0;
    let mut seen = Vec::new();
    let mut start = None;
    loop {
        let page = ddb
            .query()
            .table_name(&name)
            .key_condition_expression("pk = :p AND sk BETWEEN :lo AND :hi")
            .expression_attribute_values(":p", s("p"))
            .expression_attribute_values(":lo", n("-2"))
            .expression_attribute_values(":hi", n("10"))
            .scan_index_forward(false)
            .limit(2)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("Query page");
        pages += 1;
        seen.extend(
            page.items()
                .iter()
                .map(|i| i["sk"].as_n().expect("n").clone()),
        );
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(
        seen,
        [
            "10",
            "2",
            "0.5",
            &format!("0.{}1", "0".repeat(99)),
            "0",
            "-0.001",
            "-2"
        ]
    );
    // 7 items in pages of 2: the fourth page holds the last item and ends the query.
    assert_eq!(pages, 4);

    // Filter and COUNT: ScannedCount counts before the filter.
    let counted = ddb
        .query()
        .table_name(&name)
        .key_condition_expression("pk = :p AND sk > :z")
        .filter_expression("odd = :t")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":z", n("0"))
        .expression_attribute_values(":t", AttributeValue::Bool(true))
        .select(aws_sdk_dynamodb::types::Select::Count)
        .send()
        .await
        .expect("Query COUNT");
    assert_eq!(counted.scanned_count(), 7);
    assert!(counted.count() < 7);
    assert!(counted.items().is_empty());

    let err = ddb
        .query()
        .table_name(&name)
        .key_condition_expression("sk = :z")
        .expression_attribute_values(":z", n("0"))
        .send()
        .await
        .expect_err("no hash key");
    assert_eq!(msg(&err).1, "Query condition missed key schema element: pk");
    let err = ddb
        .query()
        .table_name(&name)
        .key_condition_expression("pk = :p")
        .filter_expression("sk > :z")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":z", n("0"))
        .send()
        .await
        .expect_err("key in filter");
    assert_eq!(
        msg(&err).1,
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk"
    );
    server.stop().await;
}

#[tokio::test]
async fn strings_sort_by_utf8_bytes_and_begins_with() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, Some(ScalarAttributeType::S)).await;
    for sk in ["b", "a", "B", "ab", "é", "z", "aa", "a\u{10000}"] {
        ddb.put_item()
            .table_name(&name)
            .item("pk", s("p"))
            .item("sk", s(sk))
            .send()
            .await
            .expect("PutItem");
    }
    let all = ddb
        .query()
        .table_name(&name)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .send()
        .await
        .expect("Query");
    let got: Vec<&str> = all
        .items()
        .iter()
        .map(|i| i["sk"].as_s().expect("s").as_str())
        .collect();
    assert_eq!(got, ["B", "a", "aa", "ab", "a\u{10000}", "b", "z", "é"]);
    let prefixed = ddb
        .query()
        .table_name(&name)
        .key_condition_expression("pk = :p AND begins_with(sk, :a)")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":a", s("a"))
        .send()
        .await
        .expect("Query begins_with");
    assert_eq!(prefixed.count(), 4);
    server.stop().await;
}

#[tokio::test]
async fn scan_pages_at_one_megabyte_and_splits_segments() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, None).await;
    let blob = "x".repeat(100 * 1024);
    for i in 0..25 {
        ddb.put_item()
            .table_name(&name)
            .item("pk", s(&format!("item-{i:02}")))
            .item("blob", s(&blob))
            .send()
            .await
            .expect("PutItem");
    }
    // ~100 KB items: a page stops once 1 MB has been read.
    let first = ddb
        .scan()
        .table_name(&name)
        .projection_expression("pk")
        .send()
        .await
        .expect("Scan");
    assert_eq!(first.count(), 11, "pages end at the item that crosses 1 MB");
    assert!(first.last_evaluated_key().is_some());
    assert_eq!(first.items()[0].len(), 1, "projection keeps only pk");
    let mut total = first.count();
    let mut start = first.last_evaluated_key().cloned();
    while let Some(k) = start {
        let page = ddb
            .scan()
            .table_name(&name)
            .projection_expression("pk")
            .set_exclusive_start_key(Some(k))
            .send()
            .await
            .expect("Scan page");
        total += page.count();
        start = page.last_evaluated_key().cloned();
    }
    assert_eq!(total, 25);

    let mut per_segment = 0;
    for segment in 0..3 {
        let page = ddb
            .scan()
            .table_name(&name)
            .segment(segment)
            .total_segments(3)
            .select(aws_sdk_dynamodb::types::Select::Count)
            .send()
            .await
            .expect("segment");
        assert!(page.last_evaluated_key().is_none());
        per_segment += page.count();
    }
    assert_eq!(per_segment, 25, "every item is in exactly one segment");
    let err = ddb
        .scan()
        .table_name(&name)
        .segment(3)
        .total_segments(3)
        .send()
        .await
        .expect_err("segment out of range");
    assert_eq!(
        msg(&err).1,
        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 3 is not less than TotalSegments: 3"
    );
    server.stop().await;
}

fn put_request(pk: &str, v: &str) -> aws_sdk_dynamodb::types::WriteRequest {
    aws_sdk_dynamodb::types::WriteRequest::builder()
        .put_request(
            aws_sdk_dynamodb::types::PutRequest::builder()
                .item("pk", s(pk))
                .item("v", s(v))
                .build()
                .expect("put"),
        )
        .build()
}

#[tokio::test]
async fn batch_writes_and_reads_with_limits() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, None).await;
    let writes: Vec<_> = (0..25)
        .map(|i| put_request(&format!("k{i}"), "x"))
        .collect();
    let out = ddb
        .batch_write_item()
        .request_items(&name, writes)
        .send()
        .await
        .expect("BatchWriteItem");
    assert!(out.unprocessed_items().is_none_or(|u| u.is_empty()));
    let too_many: Vec<_> = (0..26)
        .map(|i| put_request(&format!("k{i}"), "x"))
        .collect();
    let err = ddb
        .batch_write_item()
        .request_items(&name, too_many)
        .send()
        .await
        .expect_err("26 writes");
    assert_eq!(msg(&err).0, "ValidationException");
    let err = ddb
        .batch_write_item()
        .request_items(
            &name,
            vec![put_request("dup", "1"), put_request("dup", "2")],
        )
        .send()
        .await
        .expect_err("duplicates");
    assert_eq!(
        msg(&err).1,
        "Provided list of item keys contains duplicates"
    );

    let keys = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
        .keys([("pk".to_string(), s("k1"))].into())
        .keys([("pk".to_string(), s("k2"))].into())
        .keys([("pk".to_string(), s("absent"))].into())
        .projection_expression("pk")
        .build()
        .expect("keys");
    let got = ddb
        .batch_get_item()
        .request_items(&name, keys)
        .send()
        .await
        .expect("BatchGetItem");
    let items = &got.responses().expect("responses")[&name];
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i.len() == 1));

    let mut many = aws_sdk_dynamodb::types::KeysAndAttributes::builder();
    for i in 0..101 {
        many = many.keys([("pk".to_string(), s(&format!("k{i}")))].into());
    }
    let err = ddb
        .batch_get_item()
        .request_items(&name, many.build().expect("keys"))
        .send()
        .await
        .expect_err("101 keys");
    assert_eq!(msg(&err).0, "ValidationException");
    server.stop().await;
}

#[tokio::test]
async fn transactions_are_all_or_nothing() {
    use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, None).await;
    ddb.put_item()
        .table_name(&name)
        .item("pk", s("acct-a"))
        .item("balance", n("100"))
        .send()
        .await
        .expect("seed");
    ddb.put_item()
        .table_name(&name)
        .item("pk", s("acct-b"))
        .item("balance", n("0"))
        .send()
        .await
        .expect("seed");
    let transfer = |amount: &str| {
        vec![
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&name)
                        .key("pk", s("acct-a"))
                        .update_expression("SET balance = balance - :amt")
                        .condition_expression("balance >= :amt")
                        .expression_attribute_values(":amt", n(amount))
                        .return_values_on_condition_check_failure(
                            aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .expect("update"),
                )
                .build(),
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&name)
                        .key("pk", s("acct-b"))
                        .update_expression("SET balance = balance + :amt")
                        .expression_attribute_values(":amt", n(amount))
                        .build()
                        .expect("update"),
                )
                .build(),
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&name)
                        .item("pk", s(&format!("log-{amount}")))
                        .build()
                        .expect("put"),
                )
                .build(),
        ]
    };
    ddb.transact_write_items()
        .set_transact_items(Some(transfer("30")))
        .send()
        .await
        .expect("TransactWriteItems");
    let err = ddb
        .transact_write_items()
        .set_transact_items(Some(transfer("500")))
        .send()
        .await
        .expect_err("insufficient funds");
    assert_eq!(msg(&err).0, "TransactionCanceledException");
    assert_eq!(
        msg(&err).1,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None, None]"
    );
    let reasons = match err.into_service_error() {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
            e.cancellation_reasons().to_vec()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(reasons.len(), 3);
    assert_eq!(reasons[0].code(), Some("ConditionalCheckFailed"));
    assert_eq!(
        reasons[0].item().map(|i| i["balance"].clone()),
        Some(n("70"))
    );
    assert_eq!(reasons[1].code(), Some("None"));

    // Nothing of the cancelled transaction was applied.
    let got = ddb
        .transact_get_items()
        .transact_items(
            aws_sdk_dynamodb::types::TransactGetItem::builder()
                .get(
                    aws_sdk_dynamodb::types::Get::builder()
                        .table_name(&name)
                        .key("pk", s("acct-a"))
                        .build()
                        .expect("get"),
                )
                .build(),
        )
        .transact_items(
            aws_sdk_dynamodb::types::TransactGetItem::builder()
                .get(
                    aws_sdk_dynamodb::types::Get::builder()
                        .table_name(&name)
                        .key("pk", s("log-500"))
                        .build()
                        .expect("get"),
                )
                .build(),
        )
        .send()
        .await
        .expect("TransactGetItems");
    let responses = got.responses();
    assert_eq!(
        responses[0].item().map(|i| i["balance"].clone()),
        Some(n("70"))
    );
    assert!(responses[1].item().is_none());

    // Two actions on one item are refused; a repeated token is a no-op.
    let check = |pk: &str| {
        TransactWriteItem::builder()
            .condition_check(
                ConditionCheck::builder()
                    .table_name(&name)
                    .key("pk", s(pk))
                    .condition_expression("attribute_exists(pk)")
                    .build()
                    .expect("check"),
            )
            .build()
    };
    let err = ddb
        .transact_write_items()
        .transact_items(check("acct-a"))
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&name)
                        .key("pk", s("acct-a"))
                        .build()
                        .expect("delete"),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("same item twice");
    assert_eq!(
        msg(&err).1,
        "Transaction request cannot include multiple operations on one item"
    );
    for _ in 0..2 {
        ddb.transact_write_items()
            .client_request_token("token-1")
            .set_transact_items(Some(transfer("10")))
            .send()
            .await
            .expect("idempotent transfer");
    }
    let a = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("acct-a"))
        .send()
        .await
        .expect("GetItem");
    assert_eq!(a.item().map(|i| i["balance"].clone()), Some(n("60")));
    let err = ddb
        .transact_write_items()
        .client_request_token("token-1")
        .set_transact_items(Some(transfer("20")))
        .send()
        .await
        .expect_err("token reuse");
    assert_eq!(msg(&err).0, "IdempotentParameterMismatchException");
    server.stop().await;
}

#[tokio::test]
async fn tables_and_items_survive_a_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let server = TestServer::disk_at(dir.path()).await;
    let ddb = client(&server);
    let name = table(&ddb, Some(ScalarAttributeType::N)).await;
    for i in 0..3 {
        ddb.put_item()
            .table_name(&name)
            .item("pk", s("p"))
            .item("sk", n(&i.to_string()))
            .send()
            .await
            .expect("PutItem");
    }
    // A transaction's ClientRequestToken outlives a restart (AWS keeps it 10 minutes).
    let once = || {
        ddb.transact_write_items()
            .client_request_token("restart-token")
            .transact_items(
                aws_sdk_dynamodb::types::TransactWriteItem::builder()
                    .put(
                        aws_sdk_dynamodb::types::Put::builder()
                            .table_name(&name)
                            .item("pk", s("t"))
                            .item("sk", n("1"))
                            .condition_expression("attribute_not_exists(pk)")
                            .build()
                            .expect("put"),
                    )
                    .build(),
            )
    };
    once().send().await.expect("first transaction");
    server.stop().await;
    let server = TestServer::disk_at(dir.path()).await;
    let ddb = client(&server);
    let t = ddb
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect("describe");
    // Three puts and the transaction's item.
    assert_eq!(t.table().and_then(|t| t.item_count()), Some(4));
    let q = ddb
        .query()
        .table_name(&name)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .scan_index_forward(false)
        .send()
        .await
        .expect("Query");
    let sks: Vec<&str> = q
        .items()
        .iter()
        .map(|i| i["sk"].as_n().expect("n").as_str())
        .collect();
    assert_eq!(sks, ["2", "1", "0"]);
    // The repeat is answered as done (its condition would fail if it ran again)...
    let again = || {
        ddb.transact_write_items()
            .client_request_token("restart-token")
            .transact_items(
                aws_sdk_dynamodb::types::TransactWriteItem::builder()
                    .put(
                        aws_sdk_dynamodb::types::Put::builder()
                            .table_name(&name)
                            .item("pk", s("t"))
                            .item("sk", n("1"))
                            .condition_expression("attribute_not_exists(pk)")
                            .build()
                            .expect("put"),
                    )
                    .build(),
            )
    };
    again().send().await.expect("repeat after restart");
    // ...and the token cannot be reused for a different request.
    let err = ddb
        .transact_write_items()
        .client_request_token("restart-token")
        .transact_items(
            aws_sdk_dynamodb::types::TransactWriteItem::builder()
                .delete(
                    aws_sdk_dynamodb::types::Delete::builder()
                        .table_name(&name)
                        .key("pk", s("t"))
                        .key("sk", n("1"))
                        .build()
                        .expect("delete"),
                )
                .build(),
        )
        .send()
        .await
        .expect_err("token reuse after restart");
    assert_eq!(msg(&err).0, "IdempotentParameterMismatchException");
    server.stop().await;
}

#[tokio::test]
async fn secondary_indexes_are_maintained_sparse_and_queryable() {
    use aws_sdk_dynamodb::types::{
        CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate,
        LocalSecondaryIndex,
    };
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = unique("idx");
    ddb.create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::S))
        .attribute_definitions(attr("user", ScalarAttributeType::S))
        .attribute_definitions(attr("score", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by-user")
                .key_schema(key("user", KeyType::Hash))
                .key_schema(key("score", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .expect("gsi"),
        )
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by-score")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("score", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("lsi"),
        )
        .send()
        .await
        .expect("CreateTable");
    for (sk, user, score) in [
        ("a", Some("u1"), "30"),
        ("b", Some("u1"), "-5"),
        ("c", None, "7"),
        ("d", Some("u2"), "1"),
    ] {
        let mut put = ddb
            .put_item()
            .table_name(&name)
            .item("pk", s("p"))
            .item("sk", s(sk))
            .item("score", n(score))
            .item("extra", s("not projected"));
        if let Some(u) = user {
            put = put.item("user", s(u));
        }
        put.send().await.expect("PutItem");
    }
    // The GSI holds only items with a `user` (sparse), ordered by score, keys only.
    let q = ddb
        .query()
        .table_name(&name)
        .index_name("by-user")
        .key_condition_expression("#u = :u")
        .expression_attribute_names("#u", "user")
        .expression_attribute_values(":u", s("u1"))
        .send()
        .await
        .expect("Query GSI");
    let scores: Vec<&str> = q
        .items()
        .iter()
        .map(|i| i["score"].as_n().expect("n").as_str())
        .collect();
    assert_eq!(scores, ["-5", "30"]);
    assert!(q
        .items()
        .iter()
        .all(|i| !i.contains_key("extra") && i.contains_key("sk")));
    // PartiQL reads an index as Query and Scan do: one hash key, or all of it in pages.
    let sel = ddb
        .execute_statement()
        .statement(format!(
            "SELECT * FROM \"{name}\".\"by-user\" WHERE \"user\" = 'u1'"
        ))
        .send()
        .await
        .expect("SELECT on an index");
    let scores: Vec<&str> = sel
        .items()
        .iter()
        .map(|i| i["score"].as_n().expect("n").as_str())
        .collect();
    assert_eq!(scores, ["-5", "30"]);
    assert!(sel.items().iter().all(|i| !i.contains_key("extra")));
    let mut sks = Vec::new();
    let mut token = None;
    loop {
        let page = ddb
            .execute_statement()
            .statement(format!("SELECT sk FROM \"{name}\".\"by-user\""))
            .limit(1)
            .set_next_token(token)
            .send()
            .await
            .expect("SELECT page on an index");
        sks.extend(page.items().iter().map(|i| i["sk"].clone()));
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    sks.sort_by_key(|v| v.as_s().expect("s").clone());
    assert_eq!(
        sks,
        vec![s("a"), s("b"), s("d")],
        "item c has no user: not in the GSI"
    );
    let err = ddb
        .execute_statement()
        .statement(format!("SELECT * FROM \"{name}\".\"nope\""))
        .send()
        .await
        .expect_err("unknown index");
    assert_eq!(msg(&err).0, "ValidationException");
    let scan = ddb
        .scan()
        .table_name(&name)
        .index_name("by-user")
        .limit(2)
        .send()
        .await
        .expect("Scan GSI");
    assert_eq!(scan.count(), 2);
    let lek = scan.last_evaluated_key().expect("more").clone();
    assert_eq!(lek.len(), 4, "table keys and index keys: {lek:?}");
    let rest = ddb
        .scan()
        .table_name(&name)
        .index_name("by-user")
        .set_exclusive_start_key(Some(lek))
        .send()
        .await
        .expect("Scan GSI page 2");
    assert_eq!(rest.count(), 1, "three items are in the GSI");

    // The LSI orders a partition by score and projects everything.
    let q = ddb
        .query()
        .table_name(&name)
        .index_name("by-score")
        .key_condition_expression("pk = :p AND score > :min")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":min", n("0"))
        .send()
        .await
        .expect("Query LSI");
    let sks: Vec<&str> = q
        .items()
        .iter()
        .map(|i| i["sk"].as_s().expect("s").as_str())
        .collect();
    assert_eq!(sks, ["d", "c", "a"]);
    assert!(q.items()[0].contains_key("extra"));

    // Deleting and updating items moves their entries.
    ddb.delete_item()
        .table_name(&name)
        .key("pk", s("p"))
        .key("sk", s("b"))
        .send()
        .await
        .expect("DeleteItem");
    ddb.update_item()
        .table_name(&name)
        .key("pk", s("p"))
        .key("sk", s("c"))
        .update_expression("SET #u = :u")
        .expression_attribute_names("#u", "user")
        .expression_attribute_values(":u", s("u1"))
        .send()
        .await
        .expect("UpdateItem");
    let q = ddb
        .query()
        .table_name(&name)
        .index_name("by-user")
        .key_condition_expression("#u = :u")
        .expression_attribute_names("#u", "user")
        .expression_attribute_values(":u", s("u1"))
        .send()
        .await
        .expect("Query GSI");
    let sks: Vec<&str> = q
        .items()
        .iter()
        .map(|i| i["sk"].as_s().expect("s").as_str())
        .collect();
    assert_eq!(sks, ["c", "a"]);

    // Wrong key type for an index is refused; GSIs have no consistent reads.
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("p"))
        .item("sk", s("e"))
        .item("user", n("5"))
        .send()
        .await
        .expect_err("index key type");
    assert_eq!(
        msg(&err).1,
        "One or more parameter values were invalid: Type mismatch for Index Key user Expected: S Actual: N IndexName: by-user"
    );
    let err = ddb
        .query()
        .table_name(&name)
        .index_name("by-user")
        .consistent_read(true)
        .key_condition_expression("#u = :u")
        .expression_attribute_names("#u", "user")
        .expression_attribute_values(":u", s("u1"))
        .send()
        .await
        .expect_err("consistent GSI read");
    assert_eq!(
        msg(&err).1,
        "Consistent reads are not supported on global secondary indexes"
    );
    let err = ddb
        .query()
        .table_name(&name)
        .index_name("nope")
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("p"))
        .send()
        .await
        .expect_err("unknown index");
    assert_eq!(
        msg(&err).1,
        "The table does not have the specified index: nope"
    );

    // A GSI created later is backfilled; DescribeTable counts its entries.
    ddb.update_table()
        .table_name(&name)
        .attribute_definitions(attr("extra", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name("by-extra")
                        .key_schema(key("extra", KeyType::Hash))
                        .projection(
                            Projection::builder()
                                .projection_type(ProjectionType::All)
                                .build(),
                        )
                        .build()
                        .expect("create"),
                )
                .build(),
        )
        .send()
        .await
        .expect("UpdateTable create GSI");
    let q = ddb
        .query()
        .table_name(&name)
        .index_name("by-extra")
        .key_condition_expression("extra = :e")
        .expression_attribute_values(":e", s("not projected"))
        .send()
        .await
        .expect("Query backfilled GSI");
    assert_eq!(q.count(), 3);
    let t = ddb
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .expect("describe");
    let gsis = t.table().expect("table").global_secondary_indexes();
    let by_user = gsis
        .iter()
        .find(|g| g.index_name() == Some("by-user"))
        .expect("by-user");
    assert_eq!(by_user.item_count(), Some(3));
    server.stop().await;
}

#[tokio::test]
async fn reset_forgets_cached_tables() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, None).await;
    ddb.put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .send()
        .await
        .expect("PutItem warms the table cache");
    let r = crate::harness::http()
        .post(server.url("/_cloudemu/reset"))
        .send()
        .await
        .expect("reset");
    assert!(r.status().is_success());
    let err = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .send()
        .await
        .expect_err("table is gone");
    assert_eq!(msg(&err).0, "ResourceNotFoundException");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_conditional_writes_serialize() {
    let dir = tempfile::tempdir().expect("dir");
    let server = TestServer::disk_at(dir.path()).await;
    let ddb = client(&server);
    let name = table(&ddb, None).await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (ddb, name) = (ddb.clone(), name.clone());
        tasks.push(tokio::spawn(async move {
            // Every increment lands exactly once.
            ddb.update_item()
                .table_name(&name)
                .key("pk", s("counter"))
                .update_expression("ADD n :one")
                .expression_attribute_values(":one", n("1"))
                .send()
                .await
                .expect("increment");
            // Only one writer can create the same item.
            ddb.put_item()
                .table_name(&name)
                .item("pk", s("once"))
                .item("by", n(&i.to_string()))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await
                .is_ok()
        }));
    }
    let mut created = 0;
    for t in tasks {
        if t.await.expect("task") {
            created += 1;
        }
    }
    assert_eq!(created, 1);
    let got = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("counter"))
        .send()
        .await
        .expect("GetItem");
    assert_eq!(got.item().map(|i| i["n"].clone()), Some(n("40")));
    server.stop().await;
}

#[tokio::test]
async fn ttl_sweeper_deletes_expired_items() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, None).await;
    let now = chrono::Utc::now().timestamp();
    let put = |pk: &str, exp: AttributeValue| {
        ddb.put_item()
            .table_name(&name)
            .item("pk", s(pk))
            .item("exp", exp)
            .send()
    };
    // Written before TTL is enabled: enabling it applies to existing items too.
    put("old-expired", n(&(now - 60).to_string()))
        .await
        .expect("put");
    ddb.update_time_to_live()
        .table_name(&name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name("exp")
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("UpdateTimeToLive");
    put("expired", n(&format!("{}.5", now - 10)))
        .await
        .expect("put");
    put("future", n(&(now + 3600).to_string()))
        .await
        .expect("put");
    put("not-a-number", s("yesterday")).await.expect("put");
    put("ancient", n(&(now - 6 * 365 * 24 * 3600).to_string()))
        .await
        .expect("put");
    let remaining = || async {
        let scan = ddb.scan().table_name(&name).send().await.expect("Scan");
        let mut keys: Vec<String> = scan
            .items()
            .iter()
            .map(|i| i["pk"].as_s().expect("s").clone())
            .collect();
        keys.sort();
        keys
    };
    // The sweeper runs every second; allow it plenty of time on a loaded machine.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let keys = remaining().await;
        if keys == ["ancient", "future", "not-a-number"] {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "not swept: {keys:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    server.stop().await;
}

/// A DynamoDB Streams call over raw JSON 1.0 (the Rust SDK for Streams is not a dependency).
async fn streams_call(
    server: &TestServer,
    op: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let r = crate::harness::http()
        .post(server.url("/"))
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("X-Amz-Target", format!("DynamoDBStreams_20120810.{op}"))
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .await
        .expect("streams request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

#[tokio::test]
async fn streams_record_every_change_in_order() {
    use serde_json::json;
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = unique("streamed");
    let created = ddb
        .create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("spec"),
        )
        .send()
        .await
        .expect("CreateTable");
    let stream_arn = created
        .table_description()
        .and_then(|d| d.latest_stream_arn())
        .expect("stream arn")
        .to_string();
    ddb.put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .item("v", n("1"))
        .send()
        .await
        .expect("put");
    ddb.put_item()
        .table_name(&name)
        .item("pk", s("a"))
        .item("v", n("1"))
        .send()
        .await
        .expect("same put");
    ddb.update_item()
        .table_name(&name)
        .key("pk", s("a"))
        .update_expression("SET v = :two")
        .expression_attribute_values(":two", n("2"))
        .send()
        .await
        .expect("update");
    ddb.delete_item()
        .table_name(&name)
        .key("pk", s("a"))
        .send()
        .await
        .expect("delete");

    let (status, listed) = streams_call(&server, "ListStreams", json!({"TableName": name})).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["Streams"][0]["StreamArn"], json!(stream_arn));
    let (_, described) =
        streams_call(&server, "DescribeStream", json!({"StreamArn": stream_arn})).await;
    let desc = &described["StreamDescription"];
    assert_eq!(desc["StreamStatus"], json!("ENABLED"));
    assert_eq!(desc["StreamViewType"], json!("NEW_AND_OLD_IMAGES"));
    let shard = desc["Shards"][0]["ShardId"]
        .as_str()
        .expect("shard")
        .to_string();
    let (_, it) = streams_call(
        &server,
        "GetShardIterator",
        json!({"StreamArn": stream_arn, "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON"}),
    )
    .await;
    let (_, got) = streams_call(
        &server,
        "GetRecords",
        json!({"ShardIterator": it["ShardIterator"]}),
    )
    .await;
    let records = got["Records"].as_array().expect("records");
    let events: Vec<&str> = records
        .iter()
        .map(|r| r["eventName"].as_str().expect("name"))
        .collect();
    // The identical second put changed nothing and left no record.
    assert_eq!(events, ["INSERT", "MODIFY", "REMOVE"]);
    assert_eq!(records[1]["dynamodb"]["OldImage"]["v"], json!({"N": "1"}));
    assert_eq!(records[1]["dynamodb"]["NewImage"]["v"], json!({"N": "2"}));
    assert_eq!(records[2]["dynamodb"]["Keys"], json!({"pk": {"S": "a"}}));
    assert!(records[2]["dynamodb"].get("NewImage").is_none());
    let seqs: Vec<&str> = records
        .iter()
        .map(|r| r["dynamodb"]["SequenceNumber"].as_str().expect("seq"))
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");

    // A LATEST iterator sees only what comes after it; the next iterator continues.
    let (_, latest) = streams_call(
        &server,
        "GetShardIterator",
        json!({"StreamArn": stream_arn, "ShardId": shard, "ShardIteratorType": "LATEST"}),
    )
    .await;
    let (_, empty) = streams_call(
        &server,
        "GetRecords",
        json!({"ShardIterator": latest["ShardIterator"]}),
    )
    .await;
    assert_eq!(empty["Records"], json!([]));
    ddb.put_item()
        .table_name(&name)
        .item("pk", s("b"))
        .send()
        .await
        .expect("put");
    let (_, next) = streams_call(
        &server,
        "GetRecords",
        json!({"ShardIterator": empty["NextShardIterator"]}),
    )
    .await;
    assert_eq!(next["Records"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        next["Records"][0]["dynamodb"]["Keys"]["pk"],
        json!({"S": "b"})
    );

    let (status, err) = streams_call(
        &server,
        "DescribeStream",
        json!({"StreamArn": format!("{stream_arn}x")}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        err["__type"],
        json!("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException")
    );
    server.stop().await;
}

#[tokio::test]
async fn partiql_statements_on_one_table() {
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, Some(ScalarAttributeType::N)).await;
    for i in 0..5 {
        ddb.execute_statement()
            .statement(format!(
                "INSERT INTO \"{name}\" VALUE {{'pk': 'p', 'sk': {i}, 'tags': <<'a', 'b'>>, 'doc': {{'n': [1, 'two', true, null]}}}}"
            ))
            .send()
            .await
            .expect("INSERT");
    }
    let err = ddb
        .execute_statement()
        .statement(format!(
            "INSERT INTO \"{name}\" VALUE {{'pk': 'p', 'sk': 0}}"
        ))
        .send()
        .await
        .expect_err("duplicate");
    assert_eq!(
        msg(&err),
        (
            "DuplicateItemException".into(),
            "Duplicate primary key exists in table".into()
        )
    );
    let got = ddb
        .execute_statement()
        .statement(format!(
            "SELECT sk, doc.n[1] FROM \"{name}\" WHERE pk = ? AND sk >= ?"
        ))
        .parameters(s("p"))
        .parameters(n("3"))
        .send()
        .await
        .expect("SELECT");
    let items = got.items();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["sk"], n("3"));
    assert_eq!(
        items[0]["doc"],
        AttributeValue::M([("n".to_string(), AttributeValue::L(vec![s("two")]))].into())
    );
    // Paging with Limit and NextToken.
    let mut seen = 0;
    let mut token = None;
    loop {
        let page = ddb
            .execute_statement()
            .statement(format!("SELECT * FROM \"{name}\""))
            .limit(2)
            .set_next_token(token)
            .send()
            .await
            .expect("SELECT page");
        seen += page.items().len();
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, 5);
    ddb.execute_statement()
        .statement(format!(
            "UPDATE \"{name}\" SET counter = 10 SET label = 'x' REMOVE tags WHERE pk = 'p' AND sk = 1"
        ))
        .send()
        .await
        .expect("UPDATE");
    let item = ddb
        .get_item()
        .table_name(&name)
        .key("pk", s("p"))
        .key("sk", n("1"))
        .send()
        .await
        .expect("GetItem");
    let item = item.item().expect("item");
    assert_eq!(item["counter"], n("10"));
    assert!(!item.contains_key("tags"));
    let err = ddb
        .execute_statement()
        .statement(format!("UPDATE \"{name}\" SET a = 1 WHERE pk = 'p'"))
        .send()
        .await
        .expect_err("partial key");
    assert_eq!(
        msg(&err).1,
        "Where clause does not contain a mandatory equality on all key attributes"
    );
    let err = ddb
        .execute_statement()
        .statement(format!(
            "UPDATE \"{name}\" SET a = 1 WHERE pk = 'p' AND sk = 99"
        ))
        .send()
        .await
        .expect_err("missing item");
    assert_eq!(msg(&err).0, "ConditionalCheckFailedException");
    ddb.execute_statement()
        .statement(format!("DELETE FROM \"{name}\" WHERE pk = 'p' AND sk = 4"))
        .send()
        .await
        .expect("DELETE");
    let batch = ddb
        .batch_execute_statement()
        .statements(
            aws_sdk_dynamodb::types::BatchStatementRequest::builder()
                .statement(format!(
                    "SELECT * FROM \"{name}\" WHERE pk = 'p' AND sk = 0"
                ))
                .build()
                .expect("stmt"),
        )
        .statements(
            aws_sdk_dynamodb::types::BatchStatementRequest::builder()
                .statement(format!(
                    "INSERT INTO \"{name}\" VALUE {{'pk': 'p', 'sk': 0}}"
                ))
                .build()
                .expect("stmt"),
        )
        .send()
        .await
        .expect("BatchExecuteStatement");
    let r = batch.responses();
    assert_eq!(r[0].item().map(|i| i["sk"].clone()), Some(n("0")));
    assert_eq!(
        r[1].error().and_then(|e| e.code()).map(|c| c.as_str()),
        Some("DuplicateItem")
    );
    let err = ddb
        .execute_statement()
        .statement("SELEC * FROM x")
        .send()
        .await
        .expect_err("syntax");
    assert_eq!(msg(&err).0, "ValidationException");
    server.stop().await;
}

#[tokio::test]
async fn partiql_transactions_commit_all_or_nothing() {
    use aws_sdk_dynamodb::types::ParameterizedStatement;
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = table(&ddb, None).await;
    let st = |text: String| {
        ParameterizedStatement::builder()
            .statement(text)
            .build()
            .expect("stmt")
    };
    ddb.execute_transaction()
        .transact_statements(st(format!(
            "INSERT INTO \"{name}\" VALUE {{'pk': 'a', 'n': 1}}"
        )))
        .transact_statements(st(format!(
            "INSERT INTO \"{name}\" VALUE {{'pk': 'b', 'n': 2}}"
        )))
        .send()
        .await
        .expect("ExecuteTransaction");
    let err = ddb
        .execute_transaction()
        .transact_statements(st(format!(
            "UPDATE \"{name}\" SET n = n + 1 WHERE pk = 'a'"
        )))
        .transact_statements(st(format!("INSERT INTO \"{name}\" VALUE {{'pk': 'b'}}")))
        .send()
        .await
        .expect_err("duplicate insert cancels");
    assert_eq!(
        msg(&err),
        (
            "TransactionCanceledException".into(),
            "Transaction cancelled, please refer cancellation reasons for specific reasons [None, DuplicateItem]".into()
        )
    );
    let read = ddb
        .execute_transaction()
        .transact_statements(st(format!("SELECT * FROM \"{name}\" WHERE pk = 'a'")))
        .transact_statements(st(format!("SELECT n FROM \"{name}\" WHERE pk = 'zzz'")))
        .send()
        .await
        .expect("read transaction");
    let r = read.responses();
    assert_eq!(
        r[0].item().map(|i| i["n"].clone()),
        Some(n("1")),
        "the update was undone"
    );
    assert!(r[1].item().is_none());
    let err = ddb
        .execute_transaction()
        .transact_statements(st(format!("SELECT * FROM \"{name}\" WHERE pk = 'a'")))
        .transact_statements(st(format!("DELETE FROM \"{name}\" WHERE pk = 'a'")))
        .send()
        .await
        .expect_err("mixed");
    assert_eq!(msg(&err).0, "ValidationException");
    server.stop().await;
}

#[tokio::test]
async fn local_indexes_fetch_unprojected_attributes_from_the_table() {
    use aws_sdk_dynamodb::types::{LocalSecondaryIndex, Select};
    let server = TestServer::memory().await;
    let ddb = client(&server);
    let name = unique("lsi");
    ddb.create_table()
        .table_name(&name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::S))
        .attribute_definitions(attr("rank", ScalarAttributeType::N))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by-rank")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("rank", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::KeysOnly)
                        .build(),
                )
                .build()
                .expect("lsi"),
        )
        .send()
        .await
        .expect("CreateTable");
    let put = ddb
        .put_item()
        .table_name(&name)
        .item("pk", s("p"))
        .item("sk", s("a"))
        .item("rank", n("2"))
        .item("body", s("full"))
        .return_item_collection_metrics(aws_sdk_dynamodb::types::ReturnItemCollectionMetrics::Size)
        .send()
        .await
        .expect("put");
    let metrics = put
        .item_collection_metrics()
        .expect("item collection metrics");
    assert_eq!(
        metrics.item_collection_key().map(|k| k["pk"].clone()),
        Some(s("p"))
    );
    assert_eq!(metrics.size_estimate_range_gb(), [0.0, 1.0]);
    let q = |select: Option<Select>| {
        ddb.query()
            .table_name(&name)
            .index_name("by-rank")
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .set_select(select)
            .send()
    };
    let projected = q(None).await.expect("projected");
    assert!(!projected.items()[0].contains_key("body"));
    let full = q(Some(Select::AllAttributes))
        .await
        .expect("all attributes");
    assert_eq!(full.items()[0]["body"], s("full"));

    // Batch and transactional writes report the item collection of each write too.
    use aws_sdk_dynamodb::types::{
        Delete, DeleteRequest, Put, PutRequest, ReturnItemCollectionMetrics, TransactWriteItem,
        WriteRequest,
    };
    let batch = ddb
        .batch_write_item()
        .request_items(
            &name,
            vec![
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .item("pk", s("q"))
                            .item("sk", s("a"))
                            .item("rank", n("1"))
                            .build()
                            .expect("put"),
                    )
                    .build(),
                WriteRequest::builder()
                    .delete_request(
                        DeleteRequest::builder()
                            .key("pk", s("p"))
                            .key("sk", s("a"))
                            .build()
                            .expect("delete"),
                    )
                    .build(),
            ],
        )
        .return_item_collection_metrics(ReturnItemCollectionMetrics::Size)
        .send()
        .await
        .expect("BatchWriteItem");
    let keys_of = |m: &[aws_sdk_dynamodb::types::ItemCollectionMetrics]| -> Vec<AttributeValue> {
        m.iter()
            .map(|c| {
                assert_eq!(c.size_estimate_range_gb(), [0.0, 1.0]);
                c.item_collection_key().expect("key")["pk"].clone()
            })
            .collect()
    };
    let metrics = batch.item_collection_metrics().expect("batch metrics");
    assert_eq!(keys_of(&metrics[&name]), vec![s("q"), s("p")]);
    let tx = ddb
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&name)
                        .item("pk", s("r"))
                        .item("sk", s("a"))
                        .build()
                        .expect("put"),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(&name)
                        .key("pk", s("q"))
                        .key("sk", s("a"))
                        .build()
                        .expect("delete"),
                )
                .build(),
        )
        .return_item_collection_metrics(ReturnItemCollectionMetrics::Size)
        .send()
        .await
        .expect("TransactWriteItems");
    let metrics = tx.item_collection_metrics().expect("transaction metrics");
    assert_eq!(keys_of(&metrics[&name]), vec![s("r"), s("q")]);
    // Not asked for: not answered.
    let plain = ddb
        .batch_write_item()
        .request_items(
            &name,
            vec![WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .item("pk", s("z"))
                        .item("sk", s("a"))
                        .build()
                        .expect("put"),
                )
                .build()],
        )
        .send()
        .await
        .expect("plain batch");
    assert!(plain.item_collection_metrics().is_none_or(|m| m.is_empty()));
    server.stop().await;
}

#[tokio::test]
async fn acknowledged_item_writes_survive_kill_9() {
    use std::time::{Duration, Instant};
    // The real binary, killed with SIGKILL: only what was acknowledged must be there after.
    let dir = tempfile::tempdir().expect("dir");
    let connect = |port: u16| {
        let conf = aws_config::SdkConfig::builder()
            .endpoint_url(format!("http://127.0.0.1:{port}"))
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new("test", "test", None, None, "t"),
                ),
            )
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        Client::new(&conf)
    };
    let healthy = |port: u16| async move {
        let deadline = Instant::now() + Duration::from_secs(20);
        let url = format!("http://127.0.0.1:{port}/_cloudemu/health");
        while Instant::now() < deadline {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("server on port {port} did not become healthy");
    };
    let (mut child, port) = crate::persistence::spawn_binary(dir.path());
    healthy(port).await;
    let ddb = connect(port);
    let name = table(&ddb, Some(ScalarAttributeType::N)).await;
    // Concurrent writers: they share group commits on the server.
    let writes = (0..40).map(|i| {
        ddb.put_item()
            .table_name(&name)
            .item("pk", s("k9"))
            .item("sk", n(&i.to_string()))
            .send()
    });
    for w in futures_util::future::join_all(writes).await {
        w.expect("PutItem acknowledged");
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let (mut child, port) = crate::persistence::spawn_binary(dir.path());
    healthy(port).await;
    let q = connect(port)
        .query()
        .table_name(&name)
        .key_condition_expression("pk = :p")
        .expression_attribute_values(":p", s("k9"))
        .send()
        .await
        .expect("Query after kill -9");
    assert_eq!(q.count(), 40);
    child.kill().expect("stop");
    child.wait().expect("reaped");
}
