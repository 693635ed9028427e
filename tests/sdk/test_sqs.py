import hashlib
import json
import struct
import threading
import time

import pytest


def md5_of_attributes(attrs):
    """MD5OfMessageAttributes as SQS documents it, written independently of the server."""
    buf = b""
    for name in sorted(attrs):
        v = attrs[name]
        for field in (name.encode(), v["DataType"].encode()):
            buf += struct.pack(">I", len(field)) + field
        if "StringValue" in v:
            value = v["StringValue"].encode()
            buf += b"\x01" + struct.pack(">I", len(value)) + value
        else:
            value = v["BinaryValue"]
            buf += b"\x02" + struct.pack(">I", len(value)) + value
    return hashlib.md5(buf).hexdigest()


def test_queue_and_messages_boto3(server, unique_name):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=unique_name, Attributes={"VisibilityTimeout": "45"},
                           tags={"team": "core"})["QueueUrl"]
    assert url == f"{server.endpoint}/000000000000/{unique_name}"
    assert sqs.get_queue_url(QueueName=unique_name)["QueueUrl"] == url
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attrs["VisibilityTimeout"] == "45"
    assert attrs["MessageRetentionPeriod"] == "345600"
    assert attrs["MaximumMessageSize"] == "1048576"
    assert attrs["QueueArn"] == f"arn:aws:sqs:us-east-1:000000000000:{unique_name}"
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}

    message_attrs = {
        "color": {"DataType": "String", "StringValue": "blue"},
        "count": {"DataType": "Number.int", "StringValue": "7"},
        "raw": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
    }
    sent = sqs.send_message(QueueUrl=url, MessageBody="héllo", MessageAttributes=message_attrs)
    assert sent["MD5OfMessageBody"] == hashlib.md5("héllo".encode()).hexdigest()
    assert sent["MD5OfMessageAttributes"] == md5_of_attributes(message_attrs)

    got = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"],
                              MessageSystemAttributeNames=["All"])["Messages"]
    assert len(got) == 1
    m = got[0]
    assert m["Body"] == "héllo"
    assert m["MessageAttributes"]["raw"]["BinaryValue"] == b"\x00\x01\xff"
    assert m["MD5OfMessageAttributes"] == md5_of_attributes(message_attrs)
    assert m["Attributes"]["ApproximateReceiveCount"] == "1"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
    sqs.delete_queue(QueueUrl=url)


def test_errors_boto3(server, unique_name):
    sqs = server.client("sqs")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist) as e:
        sqs.get_queue_url(QueueName="no-such-queue")
    # boto3 reports the legacy code AWS sends in x-amzn-query-error.
    assert e.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    url = sqs.create_queue(QueueName=unique_name)["QueueUrl"]
    with pytest.raises(sqs.exceptions.QueueNameExists) as e:
        sqs.create_queue(QueueName=unique_name, Attributes={"DelaySeconds": "5"})
    assert e.value.response["Error"]["Code"] == "QueueAlreadyExists"
    with pytest.raises(sqs.exceptions.ReceiptHandleIsInvalid):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="nonsense")
    with pytest.raises(sqs.exceptions.TooManyEntriesInBatchRequest):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": "x"} for i in range(11)])
    with pytest.raises(sqs.exceptions.BatchEntryIdsNotDistinct):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": "a", "MessageBody": "x"}, {"Id": "a", "MessageBody": "y"}])
    with pytest.raises(sqs.exceptions.InvalidMessageContents):
        sqs.send_message(QueueUrl=url, MessageBody="\x00")
    sqs.purge_queue(QueueUrl=url)
    with pytest.raises(sqs.exceptions.PurgeQueueInProgress):
        sqs.purge_queue(QueueUrl=url)


def test_batches_and_paginated_listing(server):
    sqs = server.client("sqs", access_key="444444444444")
    urls = [sqs.create_queue(QueueName=f"listed-{i}")["QueueUrl"] for i in range(5)]
    pages = sqs.get_paginator("list_queues").paginate(
        QueueNamePrefix="listed-", PaginationConfig={"PageSize": 2})
    assert [u for p in pages for u in p.get("QueueUrls", [])] == urls
    url = urls[0]
    out = sqs.send_message_batch(QueueUrl=url, Entries=[
        {"Id": f"m{i}", "MessageBody": f"body {i}"} for i in range(10)])
    assert len(out["Successful"]) == 10
    received = []
    while len(received) < 10:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        assert got, "visible messages are never all hidden from a short poll"
        received += got
    deleted = sqs.delete_message_batch(QueueUrl=url, Entries=[
        {"Id": f"d{i}", "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received)])
    assert len(deleted["Successful"]) == 10 and deleted.get("Failed", []) == []


def test_fifo_boto3(server, unique_name):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=f"{unique_name}.fifo",
                           Attributes={"FifoQueue": "true",
                                       "ContentBasedDeduplication": "true"})["QueueUrl"]
    first = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g")
    dup = sqs.send_message(QueueUrl=url, MessageBody="a", MessageGroupId="g")
    assert dup["MessageId"] == first["MessageId"]
    sqs.send_message(QueueUrl=url, MessageBody="b", MessageGroupId="g")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                              MessageSystemAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in got] == ["a", "b"]
    assert got[0]["Attributes"]["SequenceNumber"] == first["SequenceNumber"]


def test_long_poll_wakes_on_send(server, unique_name):
    sqs = server.client("sqs")
    url = sqs.create_queue(QueueName=unique_name)["QueueUrl"]
    result = {}

    def poll():
        start = time.monotonic()
        result["messages"] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20).get("Messages")
        result["waited"] = time.monotonic() - start

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    server.client("sqs").send_message(QueueUrl=url, MessageBody="ping")
    t.join(30)
    assert result["messages"][0]["Body"] == "ping"
    assert result["waited"] < 15


def test_dead_letter_queue_boto3(server, unique_name):
    sqs = server.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{unique_name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    src = sqs.create_queue(QueueName=unique_name, Attributes={"RedrivePolicy": policy})["QueueUrl"]
    assert sqs.get_queue_attributes(QueueUrl=src, AttributeNames=["RedrivePolicy"])[
        "Attributes"]["RedrivePolicy"] == policy
    sqs.send_message(QueueUrl=src, MessageBody="bad")
    m = sqs.receive_message(QueueUrl=src)["Messages"][0]
    sqs.change_message_visibility(QueueUrl=src, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=src).get("Messages", []) == []
    assert sqs.receive_message(QueueUrl=dlq)["Messages"][0]["Body"] == "bad"
    assert sqs.list_dead_letter_source_queues(QueueUrl=dlq)["queueUrls"] == [src]


def test_sqs_cli(server, unique_name):
    _, out, _ = server.cli("sqs", "create-queue", "--queue-name", unique_name)
    url = out["QueueUrl"]
    _, out, _ = server.cli("sqs", "send-message", "--queue-url", url, "--message-body", "from the cli")
    assert out["MD5OfMessageBody"] == hashlib.md5(b"from the cli").hexdigest()
    _, out, _ = server.cli("sqs", "receive-message", "--queue-url", url,
                           "--attribute-names", "All")
    m = out["Messages"][0]
    assert m["Body"] == "from the cli"
    server.cli("sqs", "delete-message", "--queue-url", url, "--receipt-handle", m["ReceiptHandle"])
    _, out, _ = server.cli("sqs", "get-queue-attributes", "--queue-url", url,
                           "--attribute-names", "ApproximateNumberOfMessages")
    assert out["Attributes"]["ApproximateNumberOfMessages"] == "0"
    _, out, _ = server.cli("sqs", "list-queues", "--queue-name-prefix", unique_name)
    assert out["QueueUrls"] == [url]
    code, _, err = server.cli("sqs", "get-queue-url", "--queue-name", "missing-queue", check=False)
    assert code != 0 and "AWS.SimpleQueueService.NonExistentQueue" in err
    server.cli("sqs", "delete-queue", "--queue-url", url)


def test_move_task_returns_messages_to_their_sources_boto3(server, unique_name):
    sqs = server.client("sqs")
    dlq = sqs.create_queue(QueueName=f"{unique_name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    policy = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    sources = {}
    for name in ("a", "b"):
        url = sqs.create_queue(QueueName=f"{unique_name}-{name}",
                               Attributes={"RedrivePolicy": policy})["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=f"from-{name}")
        sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []  # dead-lettered
        sources[name] = url
    sqs.start_message_move_task(SourceArn=dlq_arn)
    for _ in range(100):
        task = sqs.list_message_move_tasks(SourceArn=dlq_arn)["Results"][0]
        if task["Status"] == "COMPLETED":
            break
        time.sleep(0.1)
    assert task["Status"] == "COMPLETED" and task["ApproximateNumberOfMessagesMoved"] == 2
    assert "DestinationArn" not in task
    for name, url in sources.items():
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in got] == [f"from-{name}"]


def test_fifo_receive_request_attempt_id_cli(server, unique_name):
    _, out, _ = server.cli("sqs", "create-queue", "--queue-name", f"{unique_name}.fifo",
                           "--attributes", "FifoQueue=true,ContentBasedDeduplication=true")
    url = out["QueueUrl"]
    for body in ("one", "two"):
        server.cli("sqs", "send-message", "--queue-url", url, "--message-body", body,
                   "--message-group-id", "g")
    receive = ("sqs", "receive-message", "--queue-url", url, "--max-number-of-messages", "10",
               "--receive-request-attempt-id", "retry-me")
    _, first, _ = server.cli(*receive)
    _, again, _ = server.cli(*receive)
    assert [m["Body"] for m in first["Messages"]] == ["one", "two"]
    assert [m["ReceiptHandle"] for m in again["Messages"]] == \
        [m["ReceiptHandle"] for m in first["Messages"]]
