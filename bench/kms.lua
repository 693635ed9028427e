-- wrk script: one KMS JSON 1.1 call, named by KMS_TARGET with body KMS_BODY (bench/kms.sh).
wrk.method = "POST"
wrk.body = os.getenv("KMS_BODY")
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "TrentService." .. os.getenv("KMS_TARGET")
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
