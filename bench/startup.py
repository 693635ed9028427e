#!/usr/bin/env python3
"""Start-up time (exec -> first answered request) and idle RSS of the CloudEmu binary.

    python3 bench/startup.py target/release/cloudemu [--runs 20]

Each run execs the binary on a free port and polls GET /_cloudemu/health over a raw socket
until it answers 200; the time from just before exec to that answer is the start-up time.
Runs both storage modes: in-memory and on-disk (fresh data dir each run). Idle RSS is read from
/proc after the server has answered and sat idle for a second.
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /_cloudemu/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_run(binary, mode):
    port = free_port()
    data = tempfile.mkdtemp(prefix="cloudemu-bench-")
    args = [binary, "--port", str(port), "--log-level", "warn"]
    args += ["--in-memory"] if mode == "memory" else ["--data-dir", data]
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not health_ok(port):
            if proc.poll() is not None:
                raise RuntimeError("server exited")
            if time.perf_counter() - t0 > 10:
                raise RuntimeError("server did not answer within 10 s")
        elapsed_ms = (time.perf_counter() - t0) * 1000
        time.sleep(1.0)
        rss = rss_kib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        shutil.rmtree(data, ignore_errors=True)
    return elapsed_ms, rss


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--runs", type=int, default=20)
    a = ap.parse_args()
    print(f"{'mode':8} {'startup p50':>12} {'startup min':>12} {'startup max':>12} {'idle RSS':>10}")
    for mode in ("memory", "disk"):
        runs = [one_run(os.path.abspath(a.binary), mode) for _ in range(a.runs)]
        times = [r[0] for r in runs]
        rss = statistics.median(r[1] for r in runs)
        print(f"{mode:8} {statistics.median(times):10.1f}ms {min(times):10.1f}ms "
              f"{max(times):10.1f}ms {rss / 1024:8.1f}MiB")


if __name__ == "__main__":
    main()
