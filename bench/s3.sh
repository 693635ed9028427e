#!/usr/bin/env bash
# S3 benchmark (release build, loopback, disk mode):
#   1. PutObject and GetObject of 1 KiB objects, requests/s with wrk ($CONNECTIONS connections);
#   2. one 1 GiB PUT and GET with curl, MB/s, and the server's peak RSS during each transfer.
#   bench/s3.sh                  # about a minute
#   DURATION=30s CONNECTIONS=64 SIZE_MB=2048 bench/s3.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
SIZE_MB="${SIZE_MB:-1024}"
BIN=target/release/cloudemu

cargo build --release --quiet
if ! command -v wrk >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
scratch=$(mktemp -d)
"$BIN" --port "$port" --data-dir "$data" --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data" "$scratch"' EXIT
until curl -sf "http://127.0.0.1:$port/_cloudemu/health" >/dev/null; do sleep 0.05; done
url="http://127.0.0.1:$port"
auth="Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
curl -sf -X PUT -H "$auth" "$url/bench" >/dev/null
head -c 1024 /dev/urandom | curl -sf -X PUT -H "$auth" --data-binary @- "$url/bench/one-kib" >/dev/null

echo "== PutObject, 1 KiB, new key each: $CONNECTIONS connections, $DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/s3_put.lua "$url" \
    | grep -E "Requests/sec|50%|99%|Non-2xx"
echo
echo "== GetObject, 1 KiB: $CONNECTIONS connections, $DURATION"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/s3_get.lua "$url" \
    | grep -E "Requests/sec|50%|99%|Non-2xx"

rss() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }
# Peak RSS (KiB) of the server while the command runs.
peak_during() {
    local peak=0 r
    "$@" &
    local job=$!
    while kill -0 $job 2>/dev/null; do
        r=$(rss); [ "$r" -gt "$peak" ] && peak=$r
        sleep 0.05
    done
    wait $job
    echo "$peak"
}
echo
echo "== ${SIZE_MB} MiB object (body from a file on disk; the page cache is warm)"
head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom > "$scratch/big"
bytes=$((SIZE_MB * 1024 * 1024))
echo "RSS before: $(( $(rss) / 1024 )) MiB"
start=$(date +%s.%N)
peak=$(peak_during curl -sf -X PUT -H "$auth" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
    -H "Expect:" -T "$scratch/big" "$url/bench/big" -o /dev/null)
end=$(date +%s.%N)
echo "PUT: $(python3 -c "print(f'{$bytes/($end-$start)/1e6:.0f} MB/s')")  peak RSS $((peak / 1024)) MiB"
start=$(date +%s.%N)
peak=$(peak_during curl -sf -H "$auth" "$url/bench/big" -o /dev/null)
end=$(date +%s.%N)
echo "GET: $(python3 -c "print(f'{$bytes/($end-$start)/1e6:.0f} MB/s')")  peak RSS $((peak / 1024)) MiB"
