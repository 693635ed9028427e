#!/bin/bash
# A provided.al2023 bootstrap that echoes each event, speaking the Runtime API with bash's
# /dev/tcp only (no curl needed), for bench/lambda.py's cold-start figures.
HOST="${AWS_LAMBDA_RUNTIME_API%:*}"; PORT="${AWS_LAMBDA_RUNTIME_API##*:}"
while true; do
  exec 3<>"/dev/tcp/$HOST/$PORT"
  printf 'GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$AWS_LAMBDA_RUNTIME_API" >&3
  ID=""; LEN=0
  while IFS= read -r line <&3; do
    line="${line%$'\r'}"
    [ -z "$line" ] && break
    case "${line,,}" in
      lambda-runtime-aws-request-id:*) ID="${line#*: }";;
      content-length:*) LEN="${line#*: }";;
    esac
  done
  BODY=""
  if [ "$LEN" -gt 0 ]; then read -r -N "$LEN" BODY <&3; fi
  exec 3<&-
  exec 3<>"/dev/tcp/$HOST/$PORT"
  printf 'POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "$ID" "$AWS_LAMBDA_RUNTIME_API" "${#BODY}" "$BODY" >&3
  cat <&3 >/dev/null
  exec 3<&-
done
