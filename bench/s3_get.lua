-- wrk script: S3 GetObject of one 1 KiB object, signed like an SDK call.
wrk.method = "GET"
wrk.path = "/bench/one-kib"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
wrk.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"

-- Paced mode (bench/s3.sh sets WRK_DELAY_MS): each connection waits this long (on average;
-- wrk's delay is whole milliseconds) before each request, so the offered rate is fixed.
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "")
if delay_ms then
    function delay()
        local whole = math.floor(delay_ms)
        if math.random() < delay_ms - whole then
            return whole + 1
        end
        return whole
    end
end
