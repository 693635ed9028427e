#!/usr/bin/env bash
# DynamoDB throughput and latency: PutItem, GetItem, and a Query returning 100 items, over
# loopback against the release build with state on disk.
#   bench/dynamodb.sh                          # 10 s per operation, 32 connections
#   DURATION=30s CONNECTIONS=64 bench/dynamodb.sh
#   LARGE=1000000 bench/dynamodb.sh            # then load that many items and time Query again
#   PACED=0 bench/dynamodb.sh                  # skip the runs at the target rates
# Each operation runs closed-loop (as fast as the server answers: max req/s and its p99), then
# paced at the issue's target rate (PUT_RATE / GET_RATE / QUERY_RATE, spread over the same
# connections by bench/dynamodb.lua's delay()) for the p99 at that load.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
PACED="${PACED:-1}"
PUT_RATE="${PUT_RATE:-15000}"
GET_RATE="${GET_RATE:-25000}"
QUERY_RATE="${QUERY_RATE:-5000}"
# BIN=/path/to/cloudemu skips the build and measures that binary.
if [ -z "${BIN:-}" ]; then
    BIN=target/release/cloudemu
    cargo build --release --quiet
fi
if ! command -v wrk >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
"$BIN" --port "$port" --data-dir "$data" --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
until curl -sf "http://127.0.0.1:$port/_cloudemu/health" >/dev/null; do sleep 0.05; done
endpoint="http://127.0.0.1:$port"

python3 - "$endpoint" <<'PY'
import json, sys, urllib.request
endpoint = sys.argv[1]
def call(op, body):
    req = urllib.request.Request(endpoint, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810." + op,
        "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"})
    return json.loads(urllib.request.urlopen(req).read())
call("CreateTable", {"TableName": "bench", "BillingMode": "PAY_PER_REQUEST",
     "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
     "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]})
def put_batch(items):
    for i in range(0, len(items), 25):
        call("BatchWriteItem", {"RequestItems": {"bench": [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]}})
pad = "x" * 150
put_batch([{"pk": {"S": f"k{i}"}, "sk": {"N": "1"}, "data": {"S": pad}} for i in range(1000)])
put_batch([{"pk": {"S": "q"}, "sk": {"N": str(i)}, "data": {"S": pad}} for i in range(100)])
PY

# The server's CPU time (user+system, clock ticks) and context switches (all its threads).
# Per request they hardly depend on what else loads the machine, unlike req/s.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
switches() { cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n}'; }
hz=$(getconf CLK_TCK)

rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$pid/status; }

# run OP LABEL [RATE]: one wrk run, its req/s, p50/p99 and the server's CPU per request.
run() {
    local op=$1 label=$2 rate=${3:-0}
    echo
    if [ "$rate" -gt 0 ]; then
        echo "== DynamoDB $op${label:+ $label}: paced at $rate req/s over $CONNECTIONS connections, $DURATION"
    else
        echo "== DynamoDB $op${label:+ $label}: closed loop, $CONNECTIONS connections, $DURATION"
    fi
    t0=$(cpu_ticks); s0=$(switches)
    out=$(OP=$op RATE=$rate THREADS=$THREADS wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" \
        --latency -s bench/dynamodb.lua "$endpoint/")
    t1=$(cpu_ticks); s1=$(switches)
    echo "$out" | grep -E '^Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors'
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    awk -v t="$((t1 - t0))" -v s="$((s1 - s0))" -v n="$n" -v hz="$hz" 'BEGIN {
        printf "  server CPU per request: %.1f us; context switches per request: %.2f\n",
            t / hz * 1e6 / n, s / n }'
}

declare -A target=([put]=$PUT_RATE [get]=$GET_RATE [query]=$QUERY_RATE)
for op in ${OPS:-put get query}; do
    run "$op" ""
    if [ "$PACED" != 0 ]; then run "$op" "" "${target[$op]}"; fi
done
echo
echo "RSS after load: $(rss)"

if [ "${LARGE:-0}" -gt 0 ]; then
    echo
    echo "== Loading $LARGE more items (BatchWriteItem, 16 connections) into 5,000 partitions"
    start=$(date +%s.%N)
    python3 - "$endpoint" "$LARGE" <<'PY'
import http.client, json, sys, threading, urllib.parse
endpoint, large = sys.argv[1], int(sys.argv[2])
host = urllib.parse.urlparse(endpoint).netloc
headers = {"Content-Type": "application/x-amz-json-1.0",
           "X-Amz-Target": "DynamoDB_20120810.BatchWriteItem",
           "Authorization": "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"}
pad = "x" * 150
batches = iter(range(0, large, 25))
lock = threading.Lock()
def worker():
    conn = http.client.HTTPConnection(host)
    while True:
        with lock:
            start = next(batches, None)
        if start is None:
            return
        items = [{"PutRequest": {"Item": {"pk": {"S": f"big{i % 5000}"}, "sk": {"N": str(i)},
                                          "data": {"S": pad}}}}
                 for i in range(start, min(start + 25, large))]
        conn.request("POST", "/", json.dumps({"RequestItems": {"bench": items}}), headers)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200 or json.loads(body).get("UnprocessedItems"):
            sys.exit(f"load failed: {r.status} {body[:200]}")
threads = [threading.Thread(target=worker) for _ in range(16)]
for t in threads: t.start()
for t in threads: t.join()
PY
    awk -v s="$start" -v e="$(date +%s.%N)" -v n="$LARGE" 'BEGIN {
        printf "  loaded in %.1f s (%.0f items/s)\n", e - s, n / (e - s) }'
    echo "RSS after the load: $(rss)"
    run query "in a table of $LARGE more items"
    if [ "$PACED" != 0 ]; then run query "in a table of $LARGE more items" "$QUERY_RATE"; fi
    echo
    echo "RSS after the large-table queries: $(rss)"
fi
