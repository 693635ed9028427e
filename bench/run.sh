#!/usr/bin/env bash
# CloudEmu benchmark: start-up, idle RSS, and requests/s with latency percentiles over loopback.
#   bench/run.sh                 # builds release, runs everything (about 1 minute)
#   DURATION=30s CONNECTIONS=64 bench/run.sh
# Needs wrk (installed from Debian's packages if missing). Load goes only to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
BIN=target/release/cloudemu

cargo build --release --quiet
if ! command -v wrk >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

echo "== start-up and idle RSS (release build)"
python3 bench/startup.py "$BIN" --runs "${RUNS:-20}"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
"$BIN" --port "$port" --data-dir "$data" --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
until curl -sf "http://127.0.0.1:$port/_cloudemu/health" >/dev/null; do sleep 0.05; done

echo
echo "== GET /_cloudemu/health (the HTTP ceiling): $CONNECTIONS connections, $DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$port/_cloudemu/health" \
    | grep -E "Requests/sec|50%|99%|Non-2xx"

echo
echo "== STS GetCallerIdentity (query protocol, full pipeline): $CONNECTIONS connections, $DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/get_caller_identity.lua "http://127.0.0.1:$port/" \
    | grep -E "Requests/sec|50%|99%|Non-2xx"
echo
echo "RSS after load: $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$pid/status)"
