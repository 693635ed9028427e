-- wrk script: DynamoDB JSON 1.0 calls as an SDK sends them. OP selects the operation:
--   put   PutItem of ~200-byte items, a new key per request (per thread counter)
--   get   GetItem of one of the KEYS preloaded items
--   query Query returning the 100 items of partition "q"
-- RATE (requests/s, all threads together; THREADS must match wrk's -t) paces the requests:
-- each thread sends on a fixed schedule of RATE/THREADS per second, so latency is measured at
-- that offered load instead of at whatever the server can absorb.
local op = os.getenv("OP") or "get"
local table_name = os.getenv("TABLE") or "bench"
local keys = tonumber(os.getenv("KEYS") or "1000")
local targets = { put = "PutItem", get = "GetItem", query = "Query" }

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810." .. targets[op]
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"

local counter = 0
local thread_id = 0
local next_thread = 0

function setup(thread)
    next_thread = next_thread + 1
    thread:set("thread_id", next_thread)
end

local payload = string.rep("x", 150)

local rate = tonumber(os.getenv("RATE") or "0")
if rate > 0 then
    local ffi = require("ffi")
    ffi.cdef [[
        typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
        int clock_gettime(int clock, bench_timespec *tp);
    ]]
    local ts = ffi.new("bench_timespec")
    local function now_ms()
        ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
        return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
    end
    local interval = 1000 * tonumber(os.getenv("THREADS") or "2") / rate
    local next_slot = 0
    -- Called before each request of this thread's connections: the next free slot of the
    -- thread's schedule, so the thread never exceeds its share however fast replies come.
    function delay()
        local now = now_ms()
        local slot = math.max(next_slot, now)
        next_slot = slot + interval
        return math.floor(slot - now + 0.5)
    end
end

function request()
    counter = counter + 1
    local body
    if op == "put" then
        body = string.format(
            '{"TableName":"%s","Item":{"pk":{"S":"w%d-%d"},"sk":{"N":"%d"},"data":{"S":"%s"},"n":{"N":"%d"}}}',
            table_name, thread_id, counter, counter, payload, counter)
    elseif op == "get" then
        body = string.format('{"TableName":"%s","Key":{"pk":{"S":"k%d"},"sk":{"N":"1"}}}',
            table_name, counter % keys)
    else
        body = string.format(
            '{"TableName":"%s","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"q"}}}',
            table_name)
    end
    return wrk.format(nil, nil, nil, body)
end
