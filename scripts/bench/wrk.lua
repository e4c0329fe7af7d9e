-- wrk script for scripts/bench.sh.
--
-- Environment:
--   WRK_METHOD  request method (default GET)
--   WRK_BODY    request body; when set, sent as application/json
--   WRK_DELAY_MS  mean pause of each connection before its next request (default 0): with
--                 C connections, about C / (DELAY + latency) requests/s, to measure latency
--                 at a set rate instead of flat out. Each pause is drawn at random between 0
--                 and twice the mean (whole milliseconds), so that the connections do not
--                 fall into step and send in bursts of C requests at once.
--
-- Prints one machine-readable line at the end of the run:
--   BENCH requests=N duration_us=N rps=F p50_us=N p90_us=N p99_us=N max_us=N
--         non2xx=N connect_err=N read_err=N write_err=N timeout_err=N
-- ("non2xx" is what wrk calls "Non-2xx or 3xx responses": status >= 400.)

local method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
local pause = tonumber(os.getenv("WRK_DELAY_MS") or "0")

if pause > 0 then
  function init(args)
    -- Each wrk thread has its own Lua state: seed each differently.
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000000)
  end

  function delay()
    return math.random(0, 2 * pause)
  end
end

wrk.method = method
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "non2xx=%d connect_err=%d read_err=%d write_err=%d timeout_err=%d\n",
    summary.requests, summary.duration, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
