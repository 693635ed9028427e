"""SQS event source mappings, S3 code and asynchronous invocation with boto3."""
import json
import time

from test_lambda import ROLE, make_zip

FORWARDER = """
import json, os, urllib.request

def handler(event, context):
    for r in event.get("Records", [event]):
        body = r.get("body", json.dumps(r))
        req = urllib.request.Request(
            os.environ["AWS_ENDPOINT_URL"] + "/",
            data=json.dumps({"QueueUrl": os.environ["OUT_QUEUE"], "MessageBody": body}).encode(),
            headers={"Content-Type": "application/x-amz-json-1.0",
                     "X-Amz-Target": "AmazonSQS.SendMessage",
                     "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/%s/sqs/aws4_request, "
                     "SignedHeaders=host, Signature=0" % (os.environ["AWS_ACCESS_KEY_ID"],
                                                          os.environ["AWS_REGION"])})
        urllib.request.urlopen(req).read()
    return {"batchItemFailures": []}
"""


def receive_all(sqs, url, want, timeout=60):
    got, deadline = [], time.time() + timeout
    while len(got) < want and time.time() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                     WaitTimeSeconds=2).get("Messages", []):
            got.append(m["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def test_sqs_event_source_mapping_boto3(server, unique_name):
    lam, sqs = server.client("lambda"), server.client("sqs")
    src = sqs.create_queue(QueueName=unique_name + "-in")["QueueUrl"]
    out = sqs.create_queue(QueueName=unique_name + "-out")["QueueUrl"]
    src_arn = sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    lam.create_function(FunctionName=unique_name, Runtime="python3.12", Role=ROLE,
                        Handler="app.handler", Code={"ZipFile": make_zip({"app.py": FORWARDER})},
                        Environment={"Variables": {"OUT_QUEUE": out}})
    created = lam.create_event_source_mapping(
        FunctionName=unique_name, EventSourceArn=src_arn, BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"])
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert created["State"] == "Creating"
    uuid = created["UUID"]
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"
    listed = lam.list_event_source_mappings(FunctionName=unique_name)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [uuid]

    for i in range(3):
        sqs.send_message(QueueUrl=src, MessageBody=f"hello-{i}")
    assert sorted(receive_all(sqs, out, 3)) == ["hello-0", "hello-1", "hello-2"]

    disabled = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert disabled["State"] == "Disabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled"
    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["State"] == "Deleting"
    try:
        lam.get_event_source_mapping(UUID=uuid)
        raise AssertionError("mapping still there")
    except lam.exceptions.ResourceNotFoundException:
        pass


def test_code_from_s3_boto3(server, unique_name):
    lam, s3 = server.client("lambda"), server.client("s3")
    s3.create_bucket(Bucket=unique_name)
    code = make_zip({"app.py": "def handler(e, c):\n    return {'from': 's3'}\n"})
    s3.put_object(Bucket=unique_name, Key="fn.zip", Body=code)
    lam.create_function(FunctionName=unique_name, Runtime="python3.12", Role=ROLE,
                        Handler="app.handler",
                        Code={"S3Bucket": unique_name, "S3Key": "fn.zip"})
    out = lam.invoke(FunctionName=unique_name)
    assert json.loads(out["Payload"].read()) == {"from": "s3"}
    try:
        lam.update_function_code(FunctionName=unique_name, S3Bucket=unique_name, S3Key="nope.zip")
        raise AssertionError("missing key accepted")
    except lam.exceptions.InvalidParameterValueException as e:
        assert "S3 Error Code: NoSuchKey" in str(e)


def test_event_invoke_on_success_destination_boto3(server, unique_name):
    lam, sqs = server.client("lambda"), server.client("sqs")
    dest = sqs.create_queue(QueueName=unique_name + "-ok")["QueueUrl"]
    dest_arn = sqs.get_queue_attributes(QueueUrl=dest, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    lam.create_function(FunctionName=unique_name, Runtime="python3.12", Role=ROLE,
                        Handler="app.handler",
                        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return {'got': e}\n"})})
    cfg = lam.put_function_event_invoke_config(
        FunctionName=unique_name, MaximumRetryAttempts=1, MaximumEventAgeInSeconds=600,
        DestinationConfig={"OnSuccess": {"Destination": dest_arn}})
    assert cfg["FunctionArn"].endswith(f":function:{unique_name}:$LATEST")
    assert cfg["DestinationConfig"]["OnSuccess"] == {"Destination": dest_arn}
    assert lam.list_function_event_invoke_configs(FunctionName=unique_name)[
        "FunctionEventInvokeConfigs"][0]["MaximumRetryAttempts"] == 1

    out = lam.invoke(FunctionName=unique_name, InvocationType="Event", Payload=b'{"k": 1}')
    assert out["StatusCode"] == 202
    bodies = receive_all(sqs, dest, 1)
    record = json.loads(bodies[0])
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["requestId"] == out["ResponseMetadata"]["RequestId"]
    assert record["requestPayload"] == {"k": 1}
    assert record["responsePayload"] == {"got": {"k": 1}}
    lam.delete_function_event_invoke_config(FunctionName=unique_name)
