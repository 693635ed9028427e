#!/usr/bin/env python3
"""Lambda benchmark: cold start per runtime, warm RequestResponse latency (p50/p99) and
invokes/s of a trivial python function, against a release build over loopback.

    python3 bench/lambda.py [target/release/cloudemu] [--seconds 5] [--threads 4]

Invokes are sent as raw HTTP on keep-alive connections (the gateway reads the SigV4 scope, it
does not verify signatures), so the numbers are CloudEmu's, not an SDK's.
"""
import argparse
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

AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, "
        "SignedHeaders=host, Signature=0")


def make_zip(files, modes=None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, body in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (modes or {}).get(name, 0o644) << 16
            z.writestr(info, body)
    return buf.getvalue()


RUNTIMES = {
    "python3.12": ("app.handler", make_zip({"app.py": "def handler(e, c):\n    return e\n"})),
    "nodejs20.x": ("index.handler",
                   make_zip({"index.js": "exports.handler = async (e) => e;\n"})),
    "provided.al2023": ("bootstrap", make_zip({"bootstrap": open(
        os.path.join(os.path.dirname(__file__), "lambda_bootstrap.sh")).read()},
        {"bootstrap": 0o755})),
}
NEEDS = {"python3.12": "python3", "nodejs20.x": "node", "provided.al2023": "bash"}


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)

    def call(self, method, path, body=b""):
        self.conn.request(method, path, body=body,
                          headers={"Authorization": AUTH, "Content-Type": "application/json"})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, r.getheader("X-Amz-Function-Error"), data


def create(c, name, runtime, handler, code):
    import base64
    body = json.dumps({"FunctionName": name, "Runtime": runtime, "Handler": handler,
                       "Role": "arn:aws:iam::000000000000:role/bench",
                       "Code": {"ZipFile": base64.b64encode(code).decode()}})
    status, _, data = c.call("POST", "/2015-03-31/functions", body.encode())
    assert status == 201, data


def invoke(c, name, payload=b'{"x":1}'):
    status, ferr, data = c.call("POST", f"/2015-03-31/functions/{name}/invocations", payload)
    assert status == 200 and not ferr, (status, ferr, data)
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin", nargs="?", default="target/release/cloudemu")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--threads", type=int, default=4)
    args = ap.parse_args()
    data = tempfile.mkdtemp()
    proc = subprocess.Popen([args.bin, "--port", "0", "--data-dir", data, "--log-level", "warn,cloudemu=info"],
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

        print("== cold start (first invoke of a new function: unzip, spawn, init, answer)")
        for runtime, (handler, code) in RUNTIMES.items():
            if shutil.which(NEEDS[runtime]) is None:
                print(f"  {runtime:16} skipped: {NEEDS[runtime]} not on PATH")
                continue
            samples = []
            for i in range(5):
                name = f"cold-{runtime.replace('.', '-')}-{i}"
                create(c, name, runtime, handler, code)
                t = time.perf_counter()
                invoke(c, name)
                samples.append((time.perf_counter() - t) * 1000)
            samples.sort()
            print(f"  {runtime:16} median {samples[len(samples) // 2]:7.1f} ms  "
                  f"(min {samples[0]:.1f}, max {samples[-1]:.1f}, 5 functions)")

        print("== warm RequestResponse, trivial python function, one connection, sequential")
        create(c, "warm", "python3.12", *RUNTIMES["python3.12"])
        for _ in range(200):
            invoke(c, "warm")
        lat = []
        end = time.perf_counter() + args.seconds
        while time.perf_counter() < end:
            t = time.perf_counter()
            invoke(c, "warm")
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        print(f"  {len(lat)} invokes: p50 {lat[len(lat) // 2]:.3f} ms  "
              f"p99 {lat[int(len(lat) * 0.99)]:.3f} ms  -> {len(lat) / args.seconds:.0f} invokes/s")

        print(f"== warm throughput, {args.threads} client threads (environments scale out)")
        counts = [0] * args.threads
        stop = time.perf_counter() + args.seconds

        def worker(i):
            cc = Client(port)
            while time.perf_counter() < stop:
                invoke(cc, "warm")
                counts[i] += 1

        ts = [threading.Thread(target=worker, args=(i,)) for i in range(args.threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        print(f"  {sum(counts)} invokes in {args.seconds:.0f} s -> "
              f"{sum(counts) / args.seconds:.0f} invokes/s")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
