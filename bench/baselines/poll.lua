-- Queue-status poll: GET PATH with a `Queue-Ticket` header, cycling through the signed tickets
-- of TK_TICKETS (one per line), so no ticket goes over the service's per-ticket rate limit.
-- The same script drives the nginx baseline (which ignores the header), so both get identical
-- requests. TK_PATH is the request path. Optional TK_DELAY_MS: fixed pause per connection.
local c = dofile(os.getenv("TK_LUA_DIR") .. "/wrk_common.lua")
local reqs, n, i = {}, 0, 0

setup = c.setup
done = c.done

function init(args)
  local tickets = c.lines(os.getenv("TK_TICKETS"))
  local path = os.getenv("TK_PATH")
  -- Each thread starts at another offset of the list.
  for k = 1, #tickets do
    reqs[k] = wrk.format("GET", path, { ["Queue-Ticket"] = tickets[k] })
  end
  n = #reqs
  local nth = tonumber(os.getenv("TK_THREADS") or "1")
  i = math.floor((tk_id or 0) * n / nth)
end

function request()
  i = i % n + 1
  return reqs[i]
end

if c.delay() then
  function delay() return c.delay() end
end
