-- wrk script: S3 PutObject of 1 KiB bodies, each request to a new key (no overwrites), signed
-- like an SDK call with an unsigned payload.
local counter = 0
local body = string.rep("x", 1024)
function setup(thread)
    counter = counter + 1
    thread:set("prefix", "t" .. counter)
end
local n = 0
function request()
    n = n + 1
    return wrk.format("PUT", "/bench/" .. prefix .. "/" .. n, {
        ["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=0",
        ["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD",
        ["Content-Type"] = "application/octet-stream",
    }, body)
end

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
