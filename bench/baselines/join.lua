-- Waiting-room join: POST PATH with `Authorization: Bearer <session token>`, each request with
-- the next session of TK_TOKENS (the `seed` output: `<num> <account_id> <token>` per line).
-- Threads take disjoint slices. A session that joins a second time gets its first ticket back
-- (200 instead of 201), so bench/run.sh seeds enough sessions for one pass per run and checks it.
-- With TK_COLLECT=FILE, each thread appends the tickets it receives to FILE.<thread> and stops
-- once its slice is done, leaving FILE.<thread>.done (setup phase of the poll benchmark: bench/run.sh
-- then stops wrk with SIGINT; such a run is not a measurement).
local c = dofile(os.getenv("TK_LUA_DIR") .. "/wrk_common.lua")
local reqs, n, i, got = {}, 0, 0, 0
local collect = os.getenv("TK_COLLECT")
local out

setup = c.setup
done = c.done

function init(args)
  local path = os.getenv("TK_PATH")
  local nth = tonumber(os.getenv("TK_THREADS") or "1")
  local all = c.lines(os.getenv("TK_TOKENS"))
  for k = 1, #all do
    if (k - 1) % nth == (tk_id or 0) then
      local token = all[k]:match("(%S+)%s*$")
      reqs[#reqs + 1] = wrk.format("POST", path, { ["Authorization"] = "Bearer " .. token })
    end
  end
  n = #reqs
  if collect then out = assert(io.open(collect .. "." .. (tk_id or 0), "w")) end
end

function request()
  i = i % n + 1
  return reqs[i]
end

if collect then
  function response(status, headers, body)
    local t = body:match('"ticket":"([^"]+)"')
    if t then out:write(t, "\n") end
    got = got + 1
    if got == n then
      out:flush()
      local m = assert(io.open(collect .. "." .. (tk_id or 0) .. ".done", "w"))
      m:close()
      wrk.thread:stop()
    end
  end
end
