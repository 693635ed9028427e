#!/usr/bin/env python3
"""Lambda: what idle warm execution environments cost. Starts N python environments (N
concurrent invokes of a function that sleeps, so each needs its own environment), lets them go
idle, then measures the CPU time the server and every function process use over a window, and
their memory.

    python3 bench/lambda_idle.py [target/release/cloudemu] [--envs 100] [--seconds 30]

CPU comes from /proc/<pid>/stat (utime + stime, all threads) before and after the window, so
the numbers are what the kernel charged, not a sampling estimate. Linux only.
"""
import argparse
import base64
import http.client
import io
import json
import os
import re
import subprocess
import threading
import time
import zipfile

AUTH = ("AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/lambda/aws4_request, "
        "SignedHeaders=host, Signature=0")
TICK = os.sysconf("SC_CLK_TCK")


def call(port, method, path, body=b""):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    c.request(method, path, body=body,
              headers={"Authorization": AUTH, "Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, r.read()


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(d))
    return out


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def ctx_switches(pid):
    total = 0
    for t in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{t}/status") as f:
            for line in f:
                if "ctxt_switches" in line:
                    total += int(line.split()[1])
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bin", nargs="?", default="target/release/cloudemu")
    ap.add_argument("--envs", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=30)
    args = ap.parse_args()
    proc = subprocess.Popen([args.bin, "--in-memory", "--port", "0", "--lambda-idle-seconds",
                             "3600", "--log-level", "warn,cloudemu=info"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for line in proc.stdout:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                port = int(m.group(1))
                break
        threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("app.py", "import time\ndef handler(e, c):\n    time.sleep(15)\n    return 1\n")
        status, body = call(port, "POST", "/2015-03-31/functions", json.dumps({
            "FunctionName": "idle", "Runtime": "python3.12", "Handler": "app.handler",
            "Role": "arn:aws:iam::000000000000:role/bench", "Timeout": 60,
            "Code": {"ZipFile": base64.b64encode(buf.getvalue()).decode()}}).encode())
        assert status == 201, body

        print(f"== starting {args.envs} environments (concurrent invokes of a 15 s function)")
        t0 = time.perf_counter()
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            call(port, "POST", "/2015-03-31/functions/idle/invocations", b"{}")[0]))
            for _ in range(args.envs)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count(200) == args.envs, results
        kids = children(proc.pid)
        print(f"  {len(kids)} function processes after {time.perf_counter() - t0:.1f} s")

        time.sleep(2)  # let start-up work settle
        pids = [proc.pid] + kids
        before = {p: cpu_ticks(p) for p in pids}
        switches = ctx_switches(proc.pid)
        print(f"== idle for {args.seconds:.0f} s")
        time.sleep(args.seconds)
        after = {p: cpu_ticks(p) for p in pids if os.path.exists(f"/proc/{p}")}
        server_cpu = (after[proc.pid] - before[proc.pid]) / TICK
        kids_cpu = sum(after[p] - before[p] for p in kids if p in after) / TICK
        woke = ctx_switches(proc.pid) - switches
        print(f"  server CPU:            {server_cpu:.2f} s  "
              f"({server_cpu / args.seconds * 100:.2f} % of one core)")
        print(f"  function processes:    {kids_cpu:.2f} s in total  "
              f"({len([p for p in kids if p in after])} still alive)")
        print(f"  server context switches: {woke} ({woke / args.seconds:.1f}/s)")
        print(f"  RSS: server {rss_mb(proc.pid):.1f} MiB, functions "
              f"{sum(rss_mb(p) for p in kids if p in after):.0f} MiB in total")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


if __name__ == "__main__":
    main()
