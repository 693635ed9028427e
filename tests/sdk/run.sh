#!/usr/bin/env bash
# Drive a CloudEmu binary with boto3 and the AWS CLI (v1).
#   tests/sdk/run.sh                     # uses target/release/cloudemu (builds it if missing)
#   CLOUDEMU_BIN=/path/to/cloudemu tests/sdk/run.sh -k iam
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/pytest" ] || ! cmp -s "$here/requirements.txt" "$venv/.requirements"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/.requirements"
fi
export CLOUDEMU_BIN="${CLOUDEMU_BIN:-$root/target/release/cloudemu}"
if [ ! -x "$CLOUDEMU_BIN" ]; then
    (cd "$root" && cargo build --release)
fi
export PATH="$venv/bin:$PATH"
cd "$here"
exec "$venv/bin/pytest" -q "$@"
