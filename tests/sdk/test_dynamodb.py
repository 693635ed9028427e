"""DynamoDB through boto3 (client and resource APIs, boto3.dynamodb.conditions) and the AWS CLI."""
from decimal import Decimal

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config


def resource(server):
    return boto3.resource(
        "dynamodb", endpoint_url=server.endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1}),
    )


def make_table(ddb, name, range_type="N"):
    return ddb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": range_type}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
    )


def test_resource_api_with_conditions(server, unique_name):
    ddb = resource(server)
    table = make_table(ddb, unique_name)
    table.wait_until_exists()
    with table.batch_writer() as batch:
        for i in range(30):
            batch.put_item(Item={"pk": "user", "sk": Decimal(i) - 10, "even": i % 2 == 0,
                                 "name": f"n{i:02d}", "tags": {"a", "b"}})
    got = table.get_item(Key={"pk": "user", "sk": Decimal("-10")})["Item"]
    assert got["name"] == "n00" and got["tags"] == {"a", "b"}
    q = table.query(KeyConditionExpression=Key("pk").eq("user") & Key("sk").between(-2, 3),
                    FilterExpression=Attr("even").eq(True), ScanIndexForward=False)
    assert [int(i["sk"]) for i in q["Items"]] == [2, 0, -2]
    assert q["ScannedCount"] == 6
    # Numbers come back exact, never through floats.
    table.put_item(Item={"pk": "num", "sk": Decimal("0.1"),
                         "v": Decimal("12345678901234567890.123456789012345678")})
    v = table.get_item(Key={"pk": "num", "sk": Decimal("0.1")})["Item"]["v"]
    assert v == Decimal("12345678901234567890.123456789012345678")
    out = table.update_item(Key={"pk": "num", "sk": Decimal("0.1")},
                            UpdateExpression="SET v = v + :d, #n = :n",
                            ExpressionAttributeNames={"#n": "name"},
                            ExpressionAttributeValues={":d": Decimal("0.000000000000000002"), ":n": "x"},
                            ReturnValues="UPDATED_NEW")
    assert out["Attributes"]["v"] == Decimal("12345678901234567890.12345678901234568")
    with pytest.raises(table.meta.client.exceptions.ConditionalCheckFailedException) as e:
        table.put_item(Item={"pk": "num", "sk": Decimal("0.1")},
                       ConditionExpression=Attr("pk").not_exists())
    assert e.value.response["Error"]["Message"] == "The conditional request failed"
    # Scan pagination through the resource API's LastEvaluatedKey.
    items, start = [], None
    while True:
        kwargs = {"Limit": 7}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = table.scan(**kwargs)
        items.extend(page["Items"])
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert len(items) == 31


def test_client_api_errors_match_aws(server, unique_name):
    ddb = server.client("dynamodb")
    make_table(ddb, unique_name)
    with pytest.raises(ddb.exceptions.ResourceInUseException) as e:
        make_table(ddb, unique_name)
    assert e.value.response["Error"]["Message"] == f"Table already exists: {unique_name}"
    with pytest.raises(ddb.exceptions.ClientError) as e:
        ddb.put_item(TableName=unique_name, Item={"pk": {"S": "a"}})
    err = e.value.response["Error"]
    assert err["Code"] == "ValidationException"
    assert err["Message"] == "One or more parameter values were invalid: Missing the key sk in the item"
    with pytest.raises(ddb.exceptions.ClientError) as e:
        ddb.query(TableName=unique_name, KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "a"}, ":unused": {"S": "b"}})
    assert e.value.response["Error"]["Message"] == (
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}")
    with pytest.raises(ddb.exceptions.ResourceNotFoundException):
        ddb.describe_table(TableName="missing-" + unique_name)
    with pytest.raises(ddb.exceptions.TransactionCanceledException) as e:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": unique_name, "Item": {"pk": {"S": "t"}, "sk": {"N": "1"}}}},
            {"ConditionCheck": {"TableName": unique_name,
                                "Key": {"pk": {"S": "absent"}, "sk": {"N": "1"}},
                                "ConditionExpression": "attribute_exists(pk)"}},
        ])
    reasons = e.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed"]
    assert "Item" not in ddb.get_item(TableName=unique_name,
                                      Key={"pk": {"S": "t"}, "sk": {"N": "1"}})


def test_table_waiters_tags_and_ttl(server, unique_name):
    ddb = server.client("dynamodb")
    arn = make_table(ddb, unique_name)["TableDescription"]["TableArn"]
    ddb.get_waiter("table_exists").wait(TableName=unique_name, WaiterConfig={"Delay": 1})
    ddb.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "test"}])
    assert ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "test"}]
    ddb.update_time_to_live(TableName=unique_name,
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ttl = ddb.describe_time_to_live(TableName=unique_name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    names = [n for p in ddb.get_paginator("list_tables").paginate() for n in p["TableNames"]]
    assert unique_name in names
    ddb.delete_table(TableName=unique_name)
    ddb.get_waiter("table_not_exists").wait(TableName=unique_name, WaiterConfig={"Delay": 1})


def test_cli(server, unique_name):
    _, out, _ = server.cli(
        "dynamodb", "create-table", "--table-name", unique_name,
        "--attribute-definitions", "AttributeName=pk,AttributeType=S",
        "--key-schema", "AttributeName=pk,KeyType=HASH", "--billing-mode", "PAY_PER_REQUEST")
    assert out["TableDescription"]["TableName"] == unique_name
    server.cli("dynamodb", "put-item", "--table-name", unique_name,
               "--item", '{"pk": {"S": "a"}, "n": {"N": "1.50"}}')
    _, out, _ = server.cli("dynamodb", "get-item", "--table-name", unique_name,
                           "--key", '{"pk": {"S": "a"}}')
    assert out["Item"] == {"pk": {"S": "a"}, "n": {"N": "1.5"}}
    _, out, _ = server.cli("dynamodb", "scan", "--table-name", unique_name, "--select", "COUNT")
    assert out["Count"] == 1
    code, _, err = server.cli("dynamodb", "describe-table", "--table-name", "nope-" + unique_name,
                              check=False)
    assert code != 0 and "ResourceNotFoundException" in err


def test_streams_boto3(server, unique_name):
    ddb = server.client("dynamodb")
    desc = ddb.create_table(
        TableName=unique_name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]
    arn = desc["LatestStreamArn"]
    ddb.put_item(TableName=unique_name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.delete_item(TableName=unique_name, Key={"pk": {"S": "a"}})
    streams = server.client("dynamodbstreams")
    assert [s["StreamArn"] for s in streams.list_streams(TableName=unique_name)["Streams"]] == [arn]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=it)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
    assert records[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "v": {"N": "1"}}
    assert "OldImage" not in records[1]["dynamodb"]
