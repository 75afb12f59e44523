#pragma once
// The Lua scripts of the waiting room and seat holds. Every key of one performance carries the
// hash tag {p:ID}, so a performance lives in one Redis Cluster slot and each script is atomic.
// Expiry is decided by the `now` argument (the service clock), never by Redis TTLs, which only
// collect garbage.

namespace tk::redisstore::lua {

// KEYS: q, account bucket.  ARGV: field, now.
// -> {1, pos, issued} new | {0, pos, issued} existing | {-1} not loaded | {-2, hwm} reserve more
// A bucket entry packs position and issue time (s since the queue epoch) into one integer so a
// waiting buyer costs a few bytes in a listpack-encoded hash.
inline constexpr const char* kJoin = R"lua(
local q, b = KEYS[1], KEYS[2]
local st = redis.call('HMGET', q, 'epoch', 'tail', 'hwm')
if not st[1] then return {-1} end
local epoch = tonumber(st[1])
local v = redis.call('HGET', b, ARGV[1])
if v then
  v = tonumber(v)
  local rel = v % 4194304
  return {0, (v - rel) / 4194304, epoch + rel * 1000}
end
local tail = tonumber(st[2]) + 1
local hwm = tonumber(st[3])
if tail > hwm then return {-2, hwm} end
local rel = math.floor((tonumber(ARGV[2]) - epoch) / 1000)
if rel < 0 then rel = 0 end
if rel > 4194303 then rel = 4194303 end
redis.call('HSET', q, 'tail', tail)
redis.call('HSET', b, ARGV[1], string.format('%d', tail * 4194304 + rel))
return {1, tail, epoch + rel * 1000}
)lua";

// KEYS: q.  ARGV: hwm.  Raises the reserved bound, never lowers it.
inline constexpr const char* kRaiseHwm = R"lua(
local cur = tonumber(redis.call('HGET', KEYS[1], 'hwm') or '0')
if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'hwm', ARGV[1]) end
return 1
)lua";

// KEYS: q, ticks.  ARGV: tail_reserved, serving, seq, epoch, expired_upto, then triples
// (seq, from, to, admitted_at) of recent ticks. Only fills an empty queue (another process may
// have restored it first). Resumes the tail above every position ever handed out.
inline constexpr const char* kRestore = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'tail', ARGV[1], 'hwm', ARGV[1], 'serving', ARGV[2], 'seq', ARGV[3],
  'epoch', ARGV[4], 'expired_upto', ARGV[5], 'last_tick', 0)
redis.call('DEL', KEYS[2])
for i = 6, #ARGV, 4 do
  redis.call('ZADD', KEYS[2], ARGV[i + 3], ARGV[i] .. ':' .. ARGV[i + 1] .. ':' .. ARGV[i + 2])
end
return 1
)lua";

// KEYS: q, ticks, fin, hold expiries, stats.
// ARGV: now, interval_ms, admit, max_active, access_ttl_ms, paused, channel, perf, expected_seq
// -> {-1} not loaded | {0, seq, serving, tail} skipped | {1, seq, from, to, tail, active, expired}
// Compare-and-set on (sequence, last tick time): a second process ticking within the interval,
// or with a stale sequence, admits nobody.
inline constexpr const char* kTick = R"lua(
local q, ticks, fin, hx, stats = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = tonumber(ARGV[1])
local st = redis.call('HMGET', q, 'epoch', 'tail', 'serving', 'seq', 'last_tick', 'expired_upto')
if not st[1] then return {-1} end
local tail, serving, seq = tonumber(st[2]), tonumber(st[3]), tonumber(st[4])
local last, upto = tonumber(st[5] or '0'), tonumber(st[6] or '0')
if (ARGV[9] ~= '' and tonumber(ARGV[9]) ~= seq) or now - last < tonumber(ARGV[2]) then
  return {0, seq, serving, tail}
end
local expired = redis.call('ZCOUNT', hx, '-inf', now)
if expired > 0 then
  redis.call('ZREMRANGEBYSCORE', hx, '-inf', now)
  redis.call('HINCRBY', stats, 'holds_expired', expired)
end
local wstart = now - tonumber(ARGV[5])
local old = redis.call('ZRANGEBYSCORE', ticks, '-inf', wstart)
for _, m in ipairs(old) do
  local to = tonumber(string.match(m, ':(%d+)$'))
  if to > upto then upto = to end
end
if #old > 0 then
  redis.call('ZREMRANGEBYSCORE', ticks, '-inf', wstart)
  redis.call('ZREMRANGEBYSCORE', fin, '-inf', upto)
end
local finished = redis.call('ZCOUNT', fin, '(' .. upto, '+inf')
local active = serving - upto - finished
local k = 0
if ARGV[6] == '0' then k = math.min(tonumber(ARGV[3]), tonumber(ARGV[4]) - active) end
if k < 0 then k = 0 end
local new = math.min(tail, serving + k)
if new < serving then new = serving end
redis.call('HSET', q, 'last_tick', now, 'expired_upto', upto)
if new > serving then
  seq = seq + 1
  redis.call('ZADD', ticks, now, string.format('%d:%d:%d', seq, serving, new))
  redis.call('HSET', q, 'serving', new, 'seq', seq)
  redis.call('PUBLISH', ARGV[7], string.format('%s|%d|%d|%d|%d|%d', ARGV[8], seq, serving, new, now, tail))
end
return {1, seq, serving, new, tail, active + (new - serving), expired}
)lua";

// KEYS: seat, sold, hold expiries, account holds, hold, loaded, version, bought
// ARGV: now, expires_at, hold_id, account, max_per_account, seat_count, gc_ttl_ms, position,
//       seat ids...
// -> {'ok', version} | {'unavailable', seats...} | {'limit'} | {'sold_out'} | {'not_loaded'}
inline constexpr const char* kHold = R"lua(
local seat, sold, hx, ah, hk, ld, ver, bought = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
if redis.call('EXISTS', ld) == 0 then return {'not_loaded'} end
local now = tonumber(ARGV[1])
local first = 9
local n = #ARGV - first + 1
if redis.call('SCARD', sold) >= tonumber(ARGV[6]) then return {'sold_out'} end
local held = 0
local mine = redis.call('HGETALL', ah)
for i = 1, #mine, 2 do
  local cnt, e = string.match(mine[i + 1], '^(%d+):(%d+)$')
  if tonumber(e) > now then held = held + tonumber(cnt) else redis.call('HDEL', ah, mine[i]) end
end
local b = tonumber(redis.call('HGET', bought, ARGV[4]) or '0')
if held + b + n > tonumber(ARGV[5]) then return {'limit'} end
local bad = {}
for i = first, #ARGV do
  local s = ARGV[i]
  if redis.call('SISMEMBER', sold, s) == 1 then
    bad[#bad + 1] = s
  else
    local h = redis.call('HGET', seat, s)
    if h and tonumber(string.match(h, ':(%d+)$')) > now then bad[#bad + 1] = s end
  end
end
if #bad > 0 then
  table.insert(bad, 1, 'unavailable')
  return bad
end
local v = ARGV[3] .. ':' .. ARGV[2]
local list = {}
for i = first, #ARGV do
  redis.call('HSET', seat, ARGV[i], v)
  list[#list + 1] = ARGV[i]
end
redis.call('HSET', hk, 'account', ARGV[4], 'expires_at', ARGV[2], 'seats', table.concat(list, ','), 'pos', ARGV[8])
redis.call('PEXPIRE', hk, ARGV[7])
redis.call('ZADD', hx, ARGV[2], ARGV[3])
redis.call('HSET', ah, ARGV[3], n .. ':' .. ARGV[2])
redis.call('PEXPIRE', ah, ARGV[7])
return {'ok', tostring(redis.call('INCR', ver))}
)lua";

// KEYS: seat, hold expiries, account holds, hold, version, fin.  ARGV: hold_id, account
// Compare-and-delete: a seat is freed only while it is still held under this hold id.
inline constexpr const char* kRelease = R"lua(
local h = redis.call('HMGET', KEYS[4], 'account', 'seats', 'pos')
if not h[1] or h[1] ~= ARGV[2] then return 0 end
local prefix = ARGV[1] .. ':'
for s in string.gmatch(h[2], '[^,]+') do
  local cur = redis.call('HGET', KEYS[1], s)
  if cur and string.sub(cur, 1, #prefix) == prefix then redis.call('HDEL', KEYS[1], s) end
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4])
if h[3] and tonumber(h[3]) and tonumber(h[3]) > 0 then redis.call('ZADD', KEYS[6], h[3], h[3]) end
redis.call('INCR', KEYS[5])
return 1
)lua";

// KEYS: seat, sold, hold expiries, account holds, hold, version, bought, fin
// ARGV: hold_id, account, seat ids...   After a committed sale: permanent sold markers.
inline constexpr const char* kSell = R"lua(
local prefix = ARGV[1] .. ':'
for i = 3, #ARGV do
  redis.call('SADD', KEYS[2], ARGV[i])
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if cur and string.sub(cur, 1, #prefix) == prefix then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
local pos = redis.call('HGET', KEYS[5], 'pos')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('DEL', KEYS[5]) == 1 then
  redis.call('HINCRBY', KEYS[7], ARGV[2], #ARGV - 2)
  if pos and tonumber(pos) and tonumber(pos) > 0 then redis.call('ZADD', KEYS[8], pos, pos) end
end
redis.call('INCR', KEYS[6])
return 1
)lua";

}  // namespace tk::redisstore::lua
