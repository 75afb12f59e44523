-- Shared by the wrk scripts of bench/run.sh (loaded with dofile). Settings come from the
-- environment because wrk passes script arguments only to init():
--   TK_OUT       file that done() writes one JSON line of results to
--   TK_DELAY_MS  optional pause before each request of a connection (rate-limited runs)
local M = {}

function M.lines(path)
  local t = {}
  local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in f:lines() do
    if line ~= "" then t[#t + 1] = line end
  end
  f:close()
  return t
end

-- The thread number (0-based) and count, set on each thread's Lua state by setup().
local counter = 0
function M.setup(thread)
  thread:set("tk_id", counter)
  counter = counter + 1
end
function M.nthreads() return counter end

local delay_ms = tonumber(os.getenv("TK_DELAY_MS") or "")
function M.delay() return delay_ms end

function M.done(summary, latency, requests)
  local out = os.getenv("TK_OUT")
  local secs = summary.duration / 1e6
  local e = summary.errors
  local line = string.format(
    '{"requests":%d,"seconds":%.3f,"rps":%.1f,"non2xx":%d,"socket_errors":%d,' ..
    '"lat_mean_ms":%.4f,"lat_p50_ms":%.4f,"lat_p90_ms":%.4f,"lat_p99_ms":%.4f,"lat_max_ms":%.4f}',
    summary.requests, secs, summary.requests / secs, e.status,
    e.connect + e.read + e.write + e.timeout,
    latency.mean / 1000, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000)
  if out and out ~= "" then
    local f = assert(io.open(out, "a"))
    f:write(line, "\n")
    f:close()
  end
  io.write(line, "\n")
end

return M
