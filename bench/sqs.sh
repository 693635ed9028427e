#!/usr/bin/env bash
# SQS benchmark (release build, persistence on, loopback): SendMessage req/s and latency,
# ReceiveMessage + DeleteMessageBatch messages/s, 1,000 held long polls (RSS, idle CPU), and
# RSS with 1,000,000 messages in a queue.
#   bench/sqs.sh                      # about 2 minutes
#   DURATION=20s CONNECTIONS=32 bench/sqs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
FILL="${FILL:-1000000}"
BIN="${BIN:-target/release/cloudemu}"

cargo build --release --quiet
command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) >/dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
"$BIN" --port "$port" --data-dir "$data" --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
until curl -sf "http://127.0.0.1:$port/_cloudemu/health" >/dev/null; do sleep 0.05; done
endpoint="http://127.0.0.1:$port"

sqs() { # target json
    curl -sf -X POST "$endpoint/" -H 'Content-Type: application/x-amz-json-1.0' \
        -H "X-Amz-Target: AmazonSQS.$1" -d "$2"
}
create() { sqs CreateQueue "{\"QueueName\":\"$1\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["QueueUrl"])'; }
count() { # visible + in flight
    sqs GetQueueAttributes "{\"QueueUrl\":\"$1\",\"AttributeNames\":[\"All\"]}" | python3 -c '
import json,sys; a=json.load(sys.stdin)["Attributes"]
print(int(a["ApproximateNumberOfMessages"]) + int(a["ApproximateNumberOfMessagesNotVisible"]))'
}
rss() { awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$pid/status; }
seconds() { python3 -c "import sys; s=sys.argv[1]; print(float(s[:-1]) * (60 if s.endswith('m') else 1))" "$1"; }

echo "== idle RSS: $(rss)"
echo
echo "== SendMessage (JSON, 200-byte body): $CONNECTIONS connections, $DURATION"
send_q=$(create bench-send)
QUEUE_URL=$send_q wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/sqs_send.lua "$endpoint/" \
    | grep -E "Requests/sec|50%|99%|Non-2xx"
echo "messages stored: $(count "$send_q")"

echo
echo "== ReceiveMessage (10) + DeleteMessageBatch: $CONNECTIONS connections, $DURATION"
rd_q=$(create bench-consume)
QUEUE_URL=$rd_q BATCH=1 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s bench/sqs_send.lua "$endpoint/" >/dev/null
before=$(count "$rd_q")
QUEUE_URL=$rd_q wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/sqs_receive_delete.lua "$endpoint/" \
    | grep -E "Requests/sec|50%|99%|Non-2xx"
after=$(count "$rd_q")
python3 -c "import sys; b,a,d=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print(f'messages received and deleted: {b-a} of {b} in {d:.0f} s = {(b-a)/d:,.0f} messages/s')" "$before" "$after" "$(seconds "$DURATION")"

echo
echo "== 1,000 concurrent long polls on an empty queue"
lp_q=$(create bench-longpoll)
python3 bench/sqs_longpoll.py "$pid" "$port" "$lp_q" 1000

echo
echo "== RSS while $FILL messages sit in a queue"
fill_q=$(create bench-fill)
echo "RSS before filling: $(rss)"
while [ "$(count "$fill_q")" -lt "$FILL" ]; do
    QUEUE_URL=$fill_q BATCH=1 wrk -t"$THREADS" -c"$CONNECTIONS" -d10s -s bench/sqs_send.lua "$endpoint/" >/dev/null
    echo "  $(count "$fill_q") messages, RSS $(rss)"
done
echo "database: $(du -sh "$data" | cut -f1)"
t0=$(date +%s%N); count "$fill_q" >/dev/null; t1=$(date +%s%N)
echo "GetQueueAttributes All on that queue: $(( (t1 - t0) / 1000000 )) ms (includes curl and python start-up)"
