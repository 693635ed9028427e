#!/usr/bin/env python3
"""Lambda event plumbing benchmark (release build, loopback, state on disk):

  * SQS event source mapping drain rate: N messages already in a queue, a trivial python
    function, BatchSize 10; messages/s from creating the mapping until the queue is empty.
  * Idle cost: server CPU seconds over 10 s with that mapping's pollers waiting on an empty queue.
  * Asynchronous invokes: N `Event` invokes, then time until an OnSuccess SQS destination holds
    N records (accept, run, record, deliver).

    python3 bench/lambda_esm.py [target/release/cloudemu] [--messages 2000] [--events 500]

Requests are raw HTTP (the gateway reads the SigV4 scope, it does not verify signatures).
"""
import argparse
import base64
import http.client
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import zipfile


def auth(service):
    return (f"AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0")


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)

    def rest(self, method, path, body=None):
        self.conn.request(method, path, body=json.dumps(body).encode() if body else b"",
                          headers={"Authorization": auth("lambda"),
                                   "Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        assert r.status < 300, (r.status, data)
        return json.loads(data) if data else None

    def sqs(self, action, body):
        self.conn.request("POST", "/", body=json.dumps(body).encode(),
                          headers={"Authorization": auth("sqs"),
                                   "X-Amz-Target": f"AmazonSQS.{action}",
                                   "Content-Type": "application/x-amz-json-1.0"})
        r = self.conn.getresponse()
        data = r.read()
        assert r.status == 200, (r.status, data)
        return json.loads(data)


def zip_of(src):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", src)
    return base64.b64encode(buf.getvalue()).decode()


def queue(c, name):
    url = c.sqs("CreateQueue", {"QueueName": name})["QueueUrl"]
    arn = c.sqs("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["QueueArn"]})[
        "Attributes"]["QueueArn"]
    return url, arn


def count(c, url):
    a = c.sqs("GetQueueAttributes", {"QueueUrl": url, "AttributeNames": ["All"]})["Attributes"]
    return int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"])


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin", nargs="?", default="target/release/cloudemu")
    ap.add_argument("--messages", type=int, default=2000)
    ap.add_argument("--events", type=int, default=500)
    args = ap.parse_args()
    data = tempfile.mkdtemp()
    proc = subprocess.Popen([args.bin, "--port", "0", "--data-dir", data,
                             "--log-level", "warn,cloudemu=info"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for line in proc.stdout:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
        c = Client(port)
        c.rest("POST", "/2015-03-31/functions", {
            "FunctionName": "sink", "Runtime": "python3.12", "Handler": "app.handler",
            "Role": "arn:aws:iam::000000000000:role/bench",
            "Code": {"ZipFile": zip_of("def handler(e, c):\n    return {'n': len(e.get('Records', []))}\n")}})

        url, arn = queue(c, "esm-source")
        for i in range(0, args.messages, 10):
            c.sqs("SendMessageBatch", {"QueueUrl": url, "Entries": [
                {"Id": str(j), "MessageBody": json.dumps({"i": i + j})} for j in range(10)]})
        t = time.perf_counter()
        c.rest("POST", "/2015-03-31/event-source-mappings",
               {"FunctionName": "sink", "EventSourceArn": arn, "BatchSize": 10})
        while count(c, url) > 0:
            time.sleep(0.05)
        took = time.perf_counter() - t
        print(f"== SQS mapping drain: {args.messages} messages in {took:.2f} s -> "
              f"{args.messages / took:.0f} messages/s (BatchSize 10, 5 pollers)")

        time.sleep(2)
        before = cpu_seconds(proc.pid)
        time.sleep(10)
        print(f"== idle mapping (5 pollers long-polling an empty queue): "
              f"{cpu_seconds(proc.pid) - before:.2f} s server CPU in 10 s")

        c = Client(port)  # the idle keep-alive connection has been closed by now
        dest_url, dest_arn = queue(c, "async-dest")
        c.rest("PUT", "/2019-09-25/functions/sink/event-invoke-config",
               {"DestinationConfig": {"OnSuccess": {"Destination": dest_arn}}})
        t = time.perf_counter()
        for i in range(args.events):
            c.conn.request("POST", "/2015-03-31/functions/sink/invocations",
                           body=json.dumps({"i": i}).encode(),
                           headers={"Authorization": auth("lambda"),
                                    "X-Amz-Invocation-Type": "Event"})
            r = c.conn.getresponse()
            r.read()
            assert r.status == 202, r.status
        accepted = time.perf_counter() - t
        while count(c, dest_url) < args.events:
            time.sleep(0.05)
        took = time.perf_counter() - t
        print(f"== async: {args.events} Event invokes accepted in {accepted:.2f} s "
              f"({args.events / accepted:.0f}/s, each stored before its 202); all OnSuccess "
              f"records delivered after {took:.2f} s -> {args.events / took:.0f} events/s")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
