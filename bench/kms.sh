#!/usr/bin/env bash
# KMS throughput over loopback (release build, state on disk): Encrypt and Decrypt of 1 KiB,
# GenerateDataKey, and Sign with RSA-2048 and P-256 keys. Targets: Encrypt/Decrypt >= 20,000
# req/s, GenerateDataKey >= 15,000 req/s; Sign is reported.
#   bench/kms.sh                 # about 1 minute
#   DURATION=30s CONNECTIONS=64 bench/kms.sh
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

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
data=$(mktemp -d)
"$BIN" --port "$port" --data-dir "$data" --log-level warn &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
url="http://127.0.0.1:$port/"
until curl -sf "http://127.0.0.1:$port/_cloudemu/health" >/dev/null; do sleep 0.05; done

call() { # target body -> response JSON
    curl -sf "$url" -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: TrentService.$1" \
        -H "Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host, Signature=0" \
        -d "$2"
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

sym=$(call CreateKey '{}' | field '["KeyMetadata"]["KeyId"]')
rsa=$(call CreateKey '{"KeySpec":"RSA_2048","KeyUsage":"SIGN_VERIFY"}' | field '["KeyMetadata"]["KeyId"]')
p256=$(call CreateKey '{"KeySpec":"ECC_NIST_P256","KeyUsage":"SIGN_VERIFY"}' | field '["KeyMetadata"]["KeyId"]')
kib=$(head -c 1024 /dev/urandom | base64 -w0)
blob=$(call Encrypt "{\"KeyId\":\"$sym\",\"Plaintext\":\"$kib\"}" | field '["CiphertextBlob"]')

run() { # label target body
    echo
    echo "== $1: $CONNECTIONS connections, $DURATION"
    KMS_TARGET="$2" KMS_BODY="$3" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
        -s bench/kms.lua "$url" | grep -E "Requests/sec|50%|99%|Non-2xx"
}

run "Encrypt 1 KiB (target >= 20,000 req/s)" Encrypt "{\"KeyId\":\"$sym\",\"Plaintext\":\"$kib\"}"
run "Decrypt 1 KiB (target >= 20,000 req/s)" Decrypt "{\"CiphertextBlob\":\"$blob\"}"
run "GenerateDataKey AES_256 (target >= 15,000 req/s)" GenerateDataKey "{\"KeyId\":\"$sym\",\"KeySpec\":\"AES_256\"}"
run "Sign RSA-2048 RSASSA_PSS_SHA_256" Sign "{\"KeyId\":\"$rsa\",\"Message\":\"aGVsbG8=\",\"SigningAlgorithm\":\"RSASSA_PSS_SHA_256\"}"
run "Sign P-256 ECDSA_SHA_256" Sign "{\"KeyId\":\"$p256\",\"Message\":\"aGVsbG8=\",\"SigningAlgorithm\":\"ECDSA_SHA_256\"}"
echo
echo "RSS after load: $(awk '/VmRSS/ {printf "%.1f MiB", $2/1024}' /proc/$pid/status)"
