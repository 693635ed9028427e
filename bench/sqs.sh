#!/usr/bin/env bash
# SQS benchmark (release build, persistence on, loopback): SendMessage req/s and latency,
# ReceiveMessage + DeleteMessageBatch messages/s, 1,000 held long polls (RSS, idle CPU), and
# RSS with 1,000,000 messages in a queue. Each load runs twice: closed-loop (wrk as fast as
# the server answers: throughput, and latency at saturation) and paced at the issue's target
# rate spread over the same connections (latency at the load the target names). Server CPU
# per request (utime+stime from /proc) is printed too: on a loaded machine it is steadier
# than req/s.
#   bench/sqs.sh                      # about 3 minutes
#   DURATION=20s CONNECTIONS=32 bench/sqs.sh
#   SEND_RATE=20000 CONSUME_RATE=40000 bench/sqs.sh   # the paced targets (these defaults)
#   PACED_RUNS=5 bench/sqs.sh         # five paced receive+delete runs and their median p99
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
FILL="${FILL:-1000000}"
# BIN=path benchmarks that binary as it is; unset, the release build is brought up to date.
[ -n "${BIN:-}" ] || cargo build --release --quiet
BIN="${BIN:-target/release/cloudemu}"
SEND_RATE="${SEND_RATE:-20000}"       # SendMessage requests/s for the paced run
CONSUME_RATE="${CONSUME_RATE:-40000}" # messages/s received and deleted for the paced run
PACED_RUNS="${PACED_RUNS:-1}"         # paced receive+delete runs (the median p99 is printed)
export THREADS

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
cpu() { awk '{print $14 + $15}' /proc/$pid/stat; } # utime+stime, clock ticks
# The SQLite writer thread's share: every message write is one closure on it.
wcpu() { awk '{print $14 + $15}' "$(grep -l '^sqlite-writer$' /proc/$pid/task/*/comm | sed 's/comm$/stat/')"; }
TICK=$(getconf CLK_TCK)
# run_wrk LABEL wrk-args...: wrk's rate and latency lines, and server CPU per request.
run_wrk() {
    local label=$1 c0 c1 w0 w1 out n
    shift
    c0=$(cpu)
    w0=$(wcpu)
    out=$(wrk "$@")
    c1=$(cpu)
    w1=$(wcpu)
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    echo "-- $label"
    echo "$out" | grep -E "Requests/sec|^ +50%|^ +99%|Non-2xx|Socket errors" || true
    python3 -c "import sys; c,n,t,w=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4]); print(f'   {n} requests, server CPU {c/t:.2f} s = {c/t/max(n,1)*1e6:.0f} us per request, of which the SQLite writer {w/t/max(n,1)*1e6:.0f} us')" \
        "$((c1 - c0))" "${n:-0}" "$TICK" "$((w1 - w0))"
}
# fill_to URL N: batch-send until the queue holds at least N messages.
fill_to() {
    while [ "$(count "$1")" -lt "$2" ]; do
        QUEUE_URL=$1 BATCH=1 wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s bench/sqs_send.lua "$endpoint/" >/dev/null
    done
}
seconds() { python3 -c "import sys; s=sys.argv[1]; print(float(s[:-1]) * (60 if s.endswith('m') else 1))" "$1"; }

echo "== idle RSS: $(rss)"
echo
echo "== SendMessage (JSON, 200-byte body): $CONNECTIONS connections, $DURATION"
send_q=$(create bench-send)
QUEUE_URL=$send_q run_wrk "closed loop" -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/sqs_send.lua "$endpoint/"
QUEUE_URL=$send_q RATE=$SEND_RATE run_wrk "paced at $SEND_RATE req/s" -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/sqs_send.lua "$endpoint/"
echo "messages stored: $(count "$send_q")"

echo
echo "== ReceiveMessage (10) + DeleteMessageBatch: $CONNECTIONS connections, $DURATION"
rd_q=$(create bench-consume)
secs=$(seconds "$DURATION")
need=$(python3 -c "import sys; print(int(float(sys.argv[1]) * float(sys.argv[2]) * 1.5))" "$CONSUME_RATE" "$secs")
# The closed loop runs faster than the target: give it enough not to run dry (3x the target).
fill_to "$rd_q" "$((need * 2))"
before=$(count "$rd_q")
QUEUE_URL=$rd_q run_wrk "closed loop" -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/sqs_receive_delete.lua "$endpoint/"
after=$(count "$rd_q")
python3 -c "import sys; b,a,d=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print(f'   messages received and deleted: {b-a} of {b} in {d:.0f} s = {(b-a)/d:,.0f} messages/s')" "$before" "$after" "$secs"
[ "$after" -gt 0 ] || echo "   the queue ran dry: the rate above is only a lower bound"
# On a shared two-core machine one paced run's p99 moves by ±2 ms with what else the machine
# does; PACED_RUNS=N repeats it (each on a refilled queue) and prints the median p99 too.
p99s=""
for run in $(seq 1 "$PACED_RUNS"); do
    fill_to "$rd_q" "$need"
    before=$(count "$rd_q")
    # A receive of 10 and its delete batch move 10 messages: two requests.
    out=$(QUEUE_URL=$rd_q RATE=$((CONSUME_RATE / 5)) run_wrk "paced at $CONSUME_RATE messages/s ($((CONSUME_RATE / 5)) req/s), run $run of $PACED_RUNS" \
        -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s bench/sqs_receive_delete.lua "$endpoint/")
    echo "$out"
    p99s="$p99s $(echo "$out" | awk '/^ +99%/ {print $2}')"
    after=$(count "$rd_q")
    python3 -c "import sys; b,a,d=int(sys.argv[1]),int(sys.argv[2]),float(sys.argv[3]); print(f'   messages received and deleted: {b-a} of {b} in {d:.0f} s = {(b-a)/d:,.0f} messages/s')" "$before" "$after" "$secs"
done
if [ "$PACED_RUNS" -gt 1 ]; then
    python3 -c "
import statistics, sys
def ms(v):  # wrk prints 850.00us, 4.94ms or 1.02s
    return float(v[:-2]) / 1000 if v.endswith('us') else float(v[:-2]) if v.endswith('ms') else float(v[:-1]) * 1000
ms = [ms(v) for v in sys.argv[1:]]
print(f'   paced p99 over {len(ms)} runs: ' + ', '.join(f'{m:.2f}' for m in ms) + f' ms; median {statistics.median(ms):.2f} ms')" $p99s
fi

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
