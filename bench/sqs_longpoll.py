#!/usr/bin/env python3
"""Hold N concurrent SQS long polls (WaitTimeSeconds=20) on an empty queue and report the
server's extra RSS and the CPU it burns while they wait, then how fast a send wakes one.

    python3 bench/sqs_longpoll.py PID PORT QUEUE_URL [N]
"""
import asyncio
import json
import os
import sys
import time

PID, PORT, URL = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
TICK = os.sysconf("SC_CLK_TCK")


def rss_mib():
    with open(f"/proc/{PID}/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds():
    with open(f"/proc/{PID}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def request(target, body):
    data = json.dumps(body).encode()
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{PORT}\r\n"
        f"Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: AmazonSQS.{target}\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    return head + data


async def poll(ready):
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(request("ReceiveMessage", {"QueueUrl": URL, "WaitTimeSeconds": 20}))
    await writer.drain()
    ready.append(1)
    data = await reader.read(65536)
    writer.close()
    return time.monotonic(), b"ReceiptHandle" in data


async def main():
    base_rss = rss_mib()
    ready = []
    tasks = [asyncio.create_task(poll(ready)) for _ in range(N)]
    while len(ready) < N:
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)
    held_rss = rss_mib()
    cpu0 = cpu_seconds()
    await asyncio.sleep(5.0)
    idle_cpu = cpu_seconds() - cpu0
    print(f"{N} long polls held: RSS {base_rss:.1f} -> {held_rss:.1f} MiB "
          f"(+{held_rss - base_rss:.1f} MiB); CPU while idle for 5 s: {idle_cpu:.2f} s")
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    sent = time.monotonic()
    writer.write(request("SendMessage", {"QueueUrl": URL, "MessageBody": "wake"}))
    await writer.drain()
    await reader.read(65536)
    writer.close()
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    woken = [t.result() for t in done if t.result()[1]]
    if woken:
        print(f"a send woke a held poll after {(woken[0][0] - sent) * 1000:.1f} ms")
    for t in tasks:
        t.cancel()


asyncio.run(main())
