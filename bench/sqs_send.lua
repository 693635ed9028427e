-- wrk script: SQS SendMessage over the JSON protocol (as current SDKs send it).
-- QUEUE_URL names the queue; BATCH=1 sends SendMessageBatch with 10 entries instead.
local url = os.getenv("QUEUE_URL")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"
local body = string.rep("x", 200)
if os.getenv("BATCH") == "1" then
    wrk.headers["X-Amz-Target"] = "AmazonSQS.SendMessageBatch"
    local entries = {}
    for i = 1, 10 do
        entries[i] = string.format('{"Id":"m%d","MessageBody":"%s"}', i, body)
    end
    wrk.body = '{"QueueUrl":"' .. url .. '","Entries":[' .. table.concat(entries, ",") .. ']}'
else
    wrk.headers["X-Amz-Target"] = "AmazonSQS.SendMessage"
    wrk.body = '{"QueueUrl":"' .. url .. '","MessageBody":"' .. body .. '"}'
end

-- RATE=<requests/s> paces the run (bench/pace.lua); unset, wrk runs closed-loop.
package.path = "bench/?.lua;" .. package.path
delay = require("pace").delay
