"""Start the CloudEmu binary once per session and hand tests clients pointed at it."""
import json
import os
import re
import shutil
import threading
import subprocess
import tempfile
import time
import urllib.request

import boto3
import pytest
from botocore.config import Config


class Server:
    def __init__(self, *extra_args):
        self.data_dir = tempfile.mkdtemp(prefix="cloudemu-sdk-")
        # Port 0: the server picks a free port and names it in its start-up line.
        env = dict(os.environ, CLOUDEMU_LOG_LEVEL="info", CLOUDEMU_LOG_FORMAT="text")
        self.proc = subprocess.Popen(
            [os.environ["CLOUDEMU_BIN"], "--port", "0", "--data-dir", self.data_dir, *extra_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        self.port = None
        deadline = time.time() + 20
        for line in self.proc.stdout:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
            if time.time() > deadline:
                break
        if self.port is None:
            raise RuntimeError("cloudemu did not report its address")
        # Keep draining the log so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        while time.time() < deadline:
            try:
                self.get_json("/_cloudemu/health")
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("cloudemu did not become healthy")

    def get_json(self, path, method="GET"):
        req = urllib.request.Request(self.endpoint + path, method=method)
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read())

    def client(self, service, access_key="test", validate=True):
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, parameter_validation=validate),
        )

    def cli(self, *args, access_key="test", check=True):
        """Run `aws --endpoint-url … <args>`; returns (exit code, parsed JSON or text, stderr)."""
        env = dict(os.environ)
        env.update(
            AWS_ACCESS_KEY_ID=access_key,
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION="us-east-1",
            AWS_CONFIG_FILE="/dev/null",
            AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        )
        p = subprocess.run(
            ["aws", "--endpoint-url", self.endpoint, "--output", "json", *args],
            env=env, capture_output=True, text=True, timeout=60,
        )
        if check and p.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed: {p.stderr}")
        out = p.stdout.strip()
        try:
            out = json.loads(out) if out else None
        except ValueError:
            pass
        return p.returncode, out, p.stderr

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=15)
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def unique_name(request):
    import uuid
    return f"{request.node.name[:30].replace('_', '-')}-{uuid.uuid4().hex[:8]}"
