-- wrk script: S3 GetObject of one 1 KiB object, signed like an SDK call.
wrk.method = "GET"
wrk.path = "/bench/one-kib"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
wrk.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
