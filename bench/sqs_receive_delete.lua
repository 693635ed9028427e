-- wrk script: consumers doing ReceiveMessage (10 at a time) then DeleteMessageBatch of what
-- they got, over the JSON protocol. Receipt handles are kept per wrk thread.
local url = os.getenv("QUEUE_URL")
local handles = {}
local auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host;x-amz-date, Signature=0"

local function headers(target)
    return {
        ["Content-Type"] = "application/x-amz-json-1.0",
        ["X-Amz-Target"] = target,
        ["Authorization"] = auth,
    }
end

request = function()
    if #handles > 0 then
        local entries = {}
        for i = 1, math.min(10, #handles) do
            entries[i] = string.format('{"Id":"m%d","ReceiptHandle":"%s"}', i, table.remove(handles))
        end
        return wrk.format("POST", "/", headers("AmazonSQS.DeleteMessageBatch"),
            '{"QueueUrl":"' .. url .. '","Entries":[' .. table.concat(entries, ",") .. ']}')
    end
    return wrk.format("POST", "/", headers("AmazonSQS.ReceiveMessage"),
        '{"QueueUrl":"' .. url .. '","MaxNumberOfMessages":10,"VisibilityTimeout":600}')
end

response = function(status, hdrs, body)
    for h in string.gmatch(body, '"ReceiptHandle":"([^"]+)"') do
        handles[#handles + 1] = h
    end
end

-- RATE=<requests/s> paces the run (bench/pace.lua); unset, wrk runs closed-loop.
package.path = "bench/?.lua;" .. package.path
delay = require("pace").delay
