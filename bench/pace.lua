-- Pacing for wrk scripts: with RATE set (requests/s over the whole run), each wrk thread
-- sends on a fixed schedule of RATE / THREADS requests/s spread over its connections, so
-- latency is measured at a given offered load instead of at saturation. Without RATE,
-- `delay` is nil and wrk runs closed-loop (as fast as the server answers).
-- wrk's Lua has no wall clock finer than a second; LuaJIT's FFI reads CLOCK_MONOTONIC.
local pace = {}
local rate = tonumber(os.getenv("RATE") or "")
if rate and rate > 0 then
    local ffi = require("ffi")
    ffi.cdef [[
        typedef struct { long tv_sec; long tv_nsec; } pace_timespec;
        int clock_gettime(int clk_id, pace_timespec *tp);
    ]]
    local ts = ffi.new("pace_timespec")
    local function now_ms()
        ffi.C.clock_gettime(1, ts)
        return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
    end
    local threads = tonumber(os.getenv("THREADS") or "2")
    local interval = 1000 * threads / rate
    local next_at = nil
    pace.delay = function()
        local now = now_ms()
        if next_at == nil or next_at < now - 1000 then
            -- First request, or more than a second behind: start the schedule over rather
            -- than send a burst to catch up.
            next_at = now
        end
        local wait = next_at - now
        next_at = next_at + interval
        if wait < 0 then
            return 0
        end
        return math.floor(wait)
    end
end
return pace
