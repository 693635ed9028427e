#!/usr/bin/env python3
"""Regenerate services/models/data/*.json from a pinned botocore release on PyPI.

Each file is botocore's service-2.json with documentation stripped (CloudEmu never serves
documentation, and the stripped models are a tenth of the size). Run from the repo root:

    python3 services/models/scripts/update-models.py            # uses BOTOCORE_VERSION below
    python3 services/models/scripts/update-models.py --check    # exit 1 if data/ would change

The protocol test fixtures under services/protocol/tests/fixtures/botocore come from the same
release's source distribution (tests/unit/protocols); --fixtures refreshes them too.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

BOTOCORE_VERSION = "1.43.11"

# CloudEmu service id -> botocore data directory. Every service we route must be listed here.
SERVICES = {
    "sts": "sts",
    "iam": "iam",
    "sqs": "sqs",
    "s3": "s3",
    "s3control": "s3control",
    "dynamodb": "dynamodb",
    "dynamodbstreams": "dynamodbstreams",
    "kms": "kms",
    "lambda": "lambda",
}

FIXTURE_PROTOCOLS = ["query", "json", "json_1_0", "json_1_0-query-compatible", "rest-json", "rest-xml"]
DROP_KEYS = {"documentation", "documentationUrl", "examples"}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(os.path.dirname(ROOT))


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in DROP_KEYS}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def download(kind, dest):
    args = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", dest,
            f"botocore=={BOTOCORE_VERSION}"]
    args += ["--no-binary", ":all:"] if kind == "sdist" else ["--only-binary", ":all:"]
    subprocess.run(args, check=True)
    return os.path.join(dest, os.listdir(dest)[0])


def read_models(wheel):
    out = {}
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        for ours, theirs in SERVICES.items():
            prefix = f"botocore/data/{theirs}/"
            cands = sorted(n for n in names if n.startswith(prefix) and n.endswith("/service-2.json.gz"))
            if not cands:
                cands = sorted(n for n in names if n.startswith(prefix) and n.endswith("/service-2.json"))
            raw = zf.read(cands[-1])
            if cands[-1].endswith(".gz"):
                raw = gzip.decompress(raw)
            model = strip(json.loads(raw))
            out[ours] = json.dumps(model, separators=(",", ":"), sort_keys=False) + "\n"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--fixtures", action="store_true")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        models = read_models(download("wheel", os.path.join(tmp, "wheel")))
        changed = []
        for name, text in models.items():
            path = os.path.join(ROOT, "data", f"{name}.json")
            old = open(path).read() if os.path.exists(path) else None
            if old != text:
                changed.append(name)
                if not a.check:
                    with open(path, "w") as f:
                        f.write(text)
        if a.fixtures and not a.check:
            sdist = download("sdist", os.path.join(tmp, "sdist"))
            fx = os.path.join(REPO, "services", "protocol", "tests", "fixtures", "botocore")
            with tarfile.open(sdist) as tf:
                for kind in ("input", "output"):
                    os.makedirs(os.path.join(fx, kind), exist_ok=True)
                    for proto in FIXTURE_PROTOCOLS:
                        member = f"botocore-{BOTOCORE_VERSION}/tests/unit/protocols/{kind}/{proto}.json"
                        data = tf.extractfile(member).read()
                        with open(os.path.join(fx, kind, f"{proto}.json"), "wb") as f:
                            f.write(data)
                ign = f"botocore-{BOTOCORE_VERSION}/tests/unit/protocols/protocol-tests-ignore-list.json"
                with open(os.path.join(fx, "protocol-tests-ignore-list.json"), "wb") as f:
                    f.write(tf.extractfile(ign).read())
        if a.check and changed:
            print("models out of date:", ", ".join(changed))
            return 1
        print(f"botocore {BOTOCORE_VERSION}: {len(models)} models, {len(changed)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
