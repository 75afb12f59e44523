#pragma once
// The Lua scripts of the waiting room and seat holds. Every key of one performance carries the
// hash tag {p:ID}, so a performance lives in one Redis Cluster slot and each script is atomic.
// Expiry is decided by the `now` argument (the service clock), never by Redis TTLs, which only
// collect garbage.

namespace tk::redisstore::lua {

// The queue of a performance is checked against PostgreSQL by the Redis process that serves it
// (its run id is kept in the queue, field `run`): a restarted or failed-over Redis may have come
// back from an AOF without its last writes, so the first join or tick it sees repairs the queue
// from PostgreSQL first (kRestore) instead of handing out positions again. The run id is read
// once per connection in the client's handshake (INFO server) and passed by the client as the
// last argument of kJoin, kTick and kRestore (ARGV[#ARGV], "run" below): a connection never
// outlives its server, so it is the run id of the process running the script.

// KEYS: q, account bucket, seen, gone.  ARGV: field, now, tail floor, presence mark ('' =
// presence off), run.
// -> {1, pos, issued} new | {0, pos, issued} existing | {-1} not loaded or not checked by this
// Redis process | {-2, hwm} reserve more (past the tail floor too)
// With presence on, the place is marked seen now (`seen`: 16 bits per position, see kTick). An
// entry whose place was given up (`gone`) is no place: the account joins again at the back.
// The tail floor: positions a drawn pre-queue holds (its size); a new place comes after them,
// whatever this Redis remembers.
// A bucket entry packs position and issue time (s since the queue epoch) into one integer so a
// waiting buyer costs a few bytes in a listpack-encoded hash.
inline constexpr const char* kJoin = R"lua(
local q, b = KEYS[1], KEYS[2]
local st = redis.call('HMGET', q, 'epoch', 'tail', 'hwm', 'run')
if not st[1] or st[4] ~= ARGV[#ARGV] then return {-1} end
local epoch = tonumber(st[1])
local v = redis.call('HGET', b, ARGV[1])
local mark = ARGV[4]
if v then
  v = tonumber(v)
  local rel = v % 4194304
  local pos = (v - rel) / 4194304
  if not redis.call('ZSCORE', KEYS[4], pos) then
    if mark ~= '' then redis.call('BITFIELD', KEYS[3], 'SET', 'u16', '#' .. pos, mark) end
    return {0, pos, epoch + rel * 1000}
  end
end
local tail = math.max(tonumber(st[2]), tonumber(ARGV[3])) + 1
local hwm = tonumber(st[3])
if tail > hwm then return {-2, math.max(hwm, tail - 1)} end
local rel = math.floor((tonumber(ARGV[2]) - epoch) / 1000)
if rel < 0 then rel = 0 end
if rel > 4194303 then rel = 4194303 end
redis.call('HSET', q, 'tail', tail)
redis.call('HSET', b, ARGV[1], string.format('%d', tail * 4194304 + rel))
if mark ~= '' then redis.call('BITFIELD', KEYS[3], 'SET', 'u16', '#' .. tail, mark) end
return {1, tail, epoch + rel * 1000}
)lua";

// KEYS: q.  ARGV: hwm.  Raises the reserved bound, never lowers it.
inline constexpr const char* kRaiseHwm = R"lua(
local cur = tonumber(redis.call('HGET', KEYS[1], 'hwm') or '0')
if tonumber(ARGV[1]) > cur then redis.call('HSET', KEYS[1], 'hwm', ARGV[1]) end
return 1
)lua";

// KEYS: q, account bucket, claimed, late.  ARGV: field (empty: no account), position, issued_at.
// -> -1 not loaded | 1 a gap position claimed (now or before) | 2 a gap position the ticks passed
// over before its holder showed up: it waits in `late` for a tick | 0 otherwise
// A ticket's holder showed up. Inside the gap the position becomes claimed (it takes an admission
// slot from now on); the account's entry is put back if Redis lost it, so a later join without
// the ticket returns this place instead of a second one. A position already passed over is not
// admitted at once: that would let in every late holder of the gap outside any batch, over the
// admission rate. The next ticks admit the late ones first, lowest position first, within their
// count, with the access window of the tick that passed over them.
inline constexpr const char* kClaim = R"lua(
local st = redis.call('HMGET', KEYS[1], 'epoch', 'gap_from', 'gap_to', 'expired_upto', 'serving')
if not st[1] then return -1 end
local pos = tonumber(ARGV[2])
if ARGV[1] ~= '' then
  local rel = math.floor((tonumber(ARGV[3]) - tonumber(st[1])) / 1000)
  if rel < 0 then rel = 0 end
  if rel > 4194303 then rel = 4194303 end
  redis.call('HSETNX', KEYS[2], ARGV[1], string.format('%d', pos * 4194304 + rel))
end
if pos > tonumber(st[2] or '0') and pos <= tonumber(st[3] or '0') and
   pos > tonumber(st[4] or '0') then
  if redis.call('ZSCORE', KEYS[3], pos) then return 1 end
  if pos <= tonumber(st[5] or '0') then
    redis.call('ZADD', KEYS[4], pos, pos)
    return 2
  end
  redis.call('ZADD', KEYS[3], pos, pos)
  return 1
end
return 0
)lua";

// KEYS: q, gone, fin, claimed, late.  ARGV: position, channel, perf.
// -> -1 not loaded | 0 nothing to give up (the place's access window is over) | 1 given up
// A holder gives the place up: it goes to `gone`, so the tick passes it over (or, admitted
// already, its capacity returns at once through `fin`); a later join of the account skips an
// entry that points to a place gone, so it is a new place at the back. A gap position that held no
// slot (unclaimed, late, or claimed but not admitted yet) leaves the claimed set and the late lane
// and takes none. The place given up is published ("perf|left|position"), so every process's
// view answers its polls abandoned at once.
inline constexpr const char* kLeave = R"lua(
local st = redis.call('HMGET', KEYS[1], 'epoch', 'serving', 'expired_upto', 'gap_from', 'gap_to')
if not st[1] then return -1 end
local pos = tonumber(ARGV[1])
if pos <= tonumber(st[3] or '0') then return 0 end
redis.call('ZADD', KEYS[2], pos, pos)
local in_gap = pos > tonumber(st[4] or '0') and pos <= tonumber(st[5] or '0')
local claimed = in_gap and redis.call('ZSCORE', KEYS[4], pos)
if pos <= tonumber(st[2]) and (claimed or not in_gap) then
  redis.call('ZADD', KEYS[3], pos, pos)
elseif in_gap then
  redis.call('ZREM', KEYS[4], pos)
  redis.call('ZREM', KEYS[5], pos)
end
redis.call('PUBLISH', ARGV[2], ARGV[3] .. '|left|' .. pos)
return 1
)lua";

// KEYS: q, ticks, claimed, late, late admissions.  ARGV: tail_reserved, recorded tail, serving,
// seq, epoch, expired_upto, n, then n septuples (seq, from, to, admitted_at, expires_at, gap_from,
// gap_to) of the ticks from the first one still within its access window, then triples
// (position, admitted_at, late 0|1) of the gap positions recorded as admitted, then run.
// -> 1 restored | 0 this Redis process had checked the queue already (another caller restored it
// first) and knows everything PostgreSQL recorded.
// Fills an emptied queue, or repairs one rolled back (a Redis that lost its last writes but kept
// the rest): PostgreSQL's recorded sequence, serving, tail or reserved bound ahead of Redis, or a
// queue last checked by another Redis process. The latter is a replica promoted by a failover or
// a restart from an AOF: it may have lost joins made after the last recorded tick, which no
// PostgreSQL figure shows, so its tail is not trusted either. The tail resumes above every
// position ever reserved; positions above what is known to be handed out become the gap, which
// costs nothing until a holder shows up with its ticket.
// An earlier loss's gap may still be open, in Redis (a process paused between reserving in
// PostgreSQL and raising the bound here looks like a lost reservation) or only in PostgreSQL's
// record of the ticks (Redis emptied again): the gap becomes the union, and which of its places
// were admitted is rebuilt, so that the places a tick passed over stay passed over. Those were
// in the gap of the tick that passed them, and are not among the gap admissions PostgreSQL
// recorded with the ticks (claimed places of a tick's range, late holders let in); every other
// place up to serving was admitted and is claimed. Late admissions keep their tick's time. Holders
// waiting in the late lane or with a claim not admitted yet claim again at their next poll.
// Forgetting a passed-over place instead would admit its holder at once, over the rate.
inline constexpr const char* kRestore = R"lua(
local q, ticks, cl, late, la = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local reserved, from = tonumber(ARGV[1]), tonumber(ARGV[2])
local serving, seq, upto = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[6])
local epoch = ARGV[5]
local run = ARGV[#ARGV]
local n = tonumber(ARGV[7])
local rec = {}
for i = 0, n - 1 do
  local b = 8 + i * 7
  rec[#rec + 1] = {seq = ARGV[b], from = tonumber(ARGV[b + 1]), to = tonumber(ARGV[b + 2]),
    at = ARGV[b + 3], ex = ARGV[b + 4], gf = tonumber(ARGV[b + 5]), gt = tonumber(ARGV[b + 6])}
end
local st = redis.call('HMGET', q, 'epoch', 'tail', 'hwm', 'seq', 'serving', 'expired_upto',
  'last_tick', 'run', 'gap_from', 'gap_to')
local last = 0
local ogf, ogt = 0, 0
if st[1] then
  ogf, ogt = tonumber(st[9] or '0'), tonumber(st[10] or '0')
  local tail, hwm, cur, srv = tonumber(st[2]), tonumber(st[3] or '0'), tonumber(st[4]), tonumber(st[5])
  if st[8] == run and cur >= seq and srv >= serving and tail >= from and hwm >= reserved then
    return 0
  end
  if tail > from then from = tail end
  if hwm > reserved then reserved = hwm end
  if srv > serving then serving = srv end
  if cur > seq then seq = cur end
  if tonumber(st[6] or '0') > upto then upto = tonumber(st[6]) end
  epoch = st[1]
  last = st[7] or 0
else
  redis.call('DEL', ticks, cl, la, late)
end
if reserved < from then reserved = from end
-- The gap: the union of Redis's own open one, the recorded ones still open and the new one.
local gf, gt = 0, 0
local function widen(a, b)
  if b <= a or b <= upto then return end
  if gt == 0 then gf, gt = a, b else gf, gt = math.min(gf, a), math.max(gt, b) end
end
local kept = ogt > ogf and ogt > upto
if kept then widen(ogf, ogt) end
for _, t in ipairs(rec) do widen(t.gf, t.gt) end
if reserved > from and reserved > serving then widen(math.max(from, serving), reserved) end
if not kept then redis.call('DEL', late) end
-- Places of the gap up to serving that were admitted outside a gap: claimed. Inside Redis's own
-- gap its claims decide; inside a recorded tick's gap, the recorded admissions below.
local batch = {}
local function claim(pos)
  batch[#batch + 1] = pos
  batch[#batch + 1] = pos
  if #batch >= 1000 then
    redis.call('ZADD', cl, unpack(batch))
    batch = {}
  end
end
local ti = 1
for pos = math.max(gf, upto) + 1, math.min(gt, serving) do
  while ti <= #rec and rec[ti].to < pos do ti = ti + 1 end
  local t = rec[ti]
  local in_tick_gap = t and t.from < pos and pos > t.gf and pos <= t.gt
  if not (kept and pos > ogf and pos <= ogt) and not in_tick_gap then claim(pos) end
end
for i = 8 + n * 7, #ARGV - 1, 3 do
  local pos = tonumber(ARGV[i])
  if pos > gf and pos <= gt and pos > upto then
    claim(pos)
    if ARGV[i + 2] == '1' then redis.call('ZADD', la, pos, pos .. ':' .. ARGV[i + 1]) end
  end
end
if #batch > 0 then redis.call('ZADD', cl, unpack(batch)) end
redis.call('ZREMRANGEBYSCORE', cl, '-inf', gf)
-- The next tick keeps its interval after the last recorded one: a loss never doubles the rate.
for _, t in ipairs(rec) do
  if tonumber(t.at) > tonumber(last) then last = t.at end
end
redis.call('HSET', q, 'tail', reserved, 'hwm', reserved, 'serving', serving, 'seq', seq,
  'epoch', epoch, 'expired_upto', upto, 'last_tick', last, 'gap_from', gf, 'gap_to', gt,
  'run', run, 'noshow_upto', serving, 'noshow_at', last)
-- A sequence number this Redis holds already keeps its own tick: PostgreSQL recorded another
-- tick of that number when a Redis process that lost its writes (a primary paused through a
-- failover and resumed before its demotion) ticked first, and two ticks of one number would
-- admit the same positions twice.
local have = {}
for _, m in ipairs(redis.call('ZRANGE', ticks, 0, -1)) do
  have[string.match(m, '^(%d+):')] = true
end
for _, t in ipairs(rec) do
  if not have[t.seq] then
    redis.call('ZADD', ticks, t.at, t.seq .. ':' .. t.from .. ':' .. t.to .. ':' .. t.ex)
  end
end
return 1
)lua";

// KEYS: q, ticks, fin, hold expiries, stats, claimed, late, late admissions, sold, gone, seen,
// seen_at.
// ARGV: now, interval_ms, admit, max_active, access_ttl_ms, paused, channel, perf, expected_seq,
// seats, sold_floor, inventory_percent, tail floor, presence window (s, 0 = off), presence mark
// now, idle window (s, 0 = off), run
// -> {-1} not loaded or not checked by this Redis process | {0, seq, serving, tail, hwm, due}
//  skipped | {1, seq, from, to, tail, active, expired, hwm, expires_at, skipped, gap_from, gap_to,
//     inventory_room, abandoned, {late holders admitted}, {claimed gap positions admitted},
//     {released}, due}
// `due`: the earliest time the next tick can admit (the last tick plus one interval), so tickers
// come back then instead of at a polling period that would stretch every interval.
// The admission rule, in one place. Compare-and-set on (sequence, last tick time): a process
// whose view of the sequence is stale, or that comes within one interval of the last tick,
// admits nobody. Then k = min(admit, max_active - active, inventory_room) (never below 0, also
// when the cap was lowered below the active count; 0 while paused) holders are admitted in
// position order, never past the tail; late holders of gap positions already passed over
// (kClaim) come first, recorded in `late admissions` (member "position:admitted_at", scored by
// position) so that every admission belongs to one tick's count. Active = admitted positions
// whose access window is still open, minus finished ones, minus unclaimed gap positions.
// Inventory: the active buyers (holders among them: their held seats are among the unsold ones)
// never outnumber the unsold seats divided by the seats per order sold so far (1 before the
// first sale), times inventory_percent / 100 (0: no bound). Unsold = seats - max(sold markers,
// sold_floor): PostgreSQL's count covers markers a Redis loss took away. inventory_room: that
// bound minus active before the tick (-1: no bound). `skipped`: the positions of (from, to]
// that took no slot because nobody holds them (unclaimed gap positions), for the admission log.
// The gap goes with the tick (answer and message): a process must never learn of a batch that
// passed over a gap without the gap, or it would admit the gap's unclaimed holders for free.
// Ticks are members "seq:from:to:expires_at:abandoned" scored by admission time; the access window
// of a tick is fixed when it admits (expires_at). A tick leaves the window only after every earlier
// one did, so `expired_upto` stays a prefix of positions. The tail floor (a drawn pre-queue's
// size) raises the tail: those positions are held even before anyone joined behind them.
// Leaving and presence: a position in `gone` (its holder left) takes no slot when its turn
// comes; with a presence window, neither does one whose holder was last seen longer ago than the
// window (`seen`: per position the second it was last seen, mod 65535, plus 1; 0 = never
// marked, which counts as present: a Redis that lost the marks abandons nobody). Both are passed
// over, put in `gone` (their polls answer abandoned) and in `fin` (they hold no capacity), and
// counted in `abandoned` (also in `skipped`, for the admission log's rate check). A tick looks at
// no more than 10000 such positions; the next tick goes on from there. Presence is judged only
// while the marks are fresh (`seen_at`: the last write of marks by any process, within 5 s): after
// an outage of Redis nobody is taken for gone before the polls' marks arrive again. `seen_at` is
// "since:last": since when marks have been arriving without a gap of over 5 s (kPresenceFresh);
// presence is judged only once that run lasts a whole window, so marks a loss or rollback of
// Redis took away (or made old) are written again by every polling ticket before anyone is judged.
// No-shows: with a presence window, an admitted buyer who has not used the access token (a use
// marks `seen` like a poll) within the window after the admission gives the capacity back: the
// place goes to `gone` and `fin`, is published as left (one "perf|left|pos,pos,..." per tick:
// polls answer abandoned, holds are refused) and returned in `released`. Each admitted place is
// judged once, in position order (`noshow_upto`); places admitted while presence was off or before
// a repair (whose marks Redis may have lost) are never judged, and neither are gap places.
// Idle buyers: with an idle window, an admitted buyer who has not used the access token for the
// window, counted from the later of the admission and the last use, gives the capacity back like
// a no-show (`gone`, `fin`, published as left, in `released`). Judged while the marks are fresh
// and their run lasts a whole idle window (as for presence: marks Redis lost or made old are
// written again by every buyer still shopping before anyone is judged). A tick looks at no more
// than 1000 admitted places, from where the last one stopped (`idle_upto`, with `idle_at`, the
// admission time of the tick holding it), and starts again from the oldest open window once it
// reached `serving`: each place is looked at again within a few ticks. Gap places are never judged
// (their admission time is not their tick's); finished and given-up ones release nothing.
inline constexpr const char* kTick = R"lua(
local q, ticks, fin, hx, stats, cl = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local late, la, sold, gone, seen = KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local now, ttl = tonumber(ARGV[1]), tonumber(ARGV[5])
local st = redis.call('HMGET', q, 'epoch', 'tail', 'serving', 'seq', 'last_tick', 'expired_upto',
  'hwm', 'gap_from', 'gap_to', 'run')
if not st[1] or st[10] ~= ARGV[#ARGV] then return {-1} end
local tail, serving, seq = tonumber(st[2]), tonumber(st[3]), tonumber(st[4])
local last, upto = tonumber(st[5] or '0'), tonumber(st[6] or '0')
local hwm, gf, gt = tonumber(st[7] or '0'), tonumber(st[8] or '0'), tonumber(st[9] or '0')
if (ARGV[9] ~= '' and tonumber(ARGV[9]) ~= seq) or now - last < tonumber(ARGV[2]) then
  return {0, seq, serving, tail, hwm, last + tonumber(ARGV[2])}
end
if tonumber(ARGV[13]) > tail then
  tail = tonumber(ARGV[13])
  redis.call('HSET', q, 'tail', tail)
end
local expired = redis.call('ZCOUNT', hx, '-inf', now)
if expired > 0 then
  redis.call('ZREMRANGEBYSCORE', hx, '-inf', now)
  redis.call('HINCRBY', stats, 'holds_expired', expired)
end
local popped = false
while true do
  local f = redis.call('ZRANGE', ticks, 0, 0, 'WITHSCORES')
  if #f == 0 then break end
  local _, _, to, ex = string.match(f[1], '^(%d+):(%d+):(%d+):?(%d*):?%d*$')
  local ends = tonumber(f[2]) + ttl
  if ex and ex ~= '' then ends = tonumber(ex) end
  if not to or ends > now then break end
  if tonumber(to) > upto then upto = tonumber(to) end
  redis.call('ZREM', ticks, f[1])
  popped = true
end
if popped then
  redis.call('ZREMRANGEBYSCORE', fin, '-inf', upto)
  redis.call('ZREMRANGEBYSCORE', cl, '-inf', upto)
  redis.call('ZREMRANGEBYSCORE', late, '-inf', upto)
  redis.call('ZREMRANGEBYSCORE', la, '-inf', upto)
  redis.call('ZREMRANGEBYSCORE', gone, '-inf', upto)
end
if gt > 0 and upto >= gt then
  redis.call('HSET', q, 'gap_from', 0, 'gap_to', 0)
  redis.call('DEL', cl, late)
  gf, gt = 0, 0
end
-- Marks judge only while fresh (written within 5 s) and arriving without a gap for a whole
-- window of `w` seconds (see above); otherwise the judging waits (0).
local seen_run = nil
local function judged(w)
  if w <= 0 then return 0 end
  if seen_run == nil then
    local since, at = string.match(redis.call('GET', KEYS[12]) or '', '^(%d+):(%d+)$')
    seen_run = {tonumber(since or '0'), tonumber(at or '-1')}
  end
  if seen_run[2] < 0 or now - seen_run[2] > 5000 or now - seen_run[1] < w * 1000 then return 0 end
  return w
end
local window, mark = tonumber(ARGV[14]), tonumber(ARGV[15])
local presence = window > 0
window = judged(window)
-- No-shows (see above): admitted places past (ns, ...] judged once their admission is `window`
-- seconds old; the marks must be fresh, else the judging waits.
local released = {}
local nsv = redis.call('HMGET', q, 'noshow_upto', 'noshow_at')
local ns, nsat = tonumber(nsv[1] or '-1'), nsv[2] or '-inf'
if not presence or ns < 0 then
  if ns ~= serving then redis.call('HSET', q, 'noshow_upto', serving, 'noshow_at', now) end
elseif window > 0 then
  if ns < upto then ns = upto end
  -- From the tick holding the cursor on (ticks are scored by admission time, in position order).
  local due = redis.call('ZRANGEBYSCORE', ticks, nsat, now - window * 1000, 'WITHSCORES',
    'LIMIT', 0, 1000)
  local scanned = 0
  for i = 1, #due, 2 do
    local _, from, to = string.match(due[i], '^(%d+):(%d+):(%d+)')
    from, to = tonumber(from or '0'), tonumber(to or '0')
    local at = tonumber(due[i + 1])
    local amark = math.floor(at / 1000) % 65535 + 1
    local elapsed = math.floor((now - at) / 1000)
    if to > ns then
      for pos = math.max(ns, from) + 1, to do
        if scanned >= 10000 then break end
        scanned = scanned + 1
        -- Gap places are let in late by other ticks: their admission time is not this tick's.
        if not (pos > gf and pos <= gt) and not redis.call('ZSCORE', gone, pos) and
           not redis.call('ZSCORE', fin, pos) then
          local v = redis.call('BITFIELD', seen, 'GET', 'u16', '#' .. pos)[1]
          if v == 0 or (v - amark) % 65535 > elapsed + 1 then
            redis.call('ZADD', gone, pos, pos)
            redis.call('ZADD', fin, pos, pos)
            released[#released + 1] = pos
          end
        end
        ns, nsat = pos, at
      end
    end
    if scanned >= 10000 then break end
  end
  redis.call('HSET', q, 'noshow_upto', ns, 'noshow_at', nsat)
end
local iw = judged(tonumber(ARGV[16]))
if iw > 0 then
  local iv = redis.call('HMGET', q, 'idle_upto', 'idle_at')
  local ip, iat = tonumber(iv[1] or '0'), iv[2] or '-inf'
  if ip < upto or ip >= serving then ip, iat = upto, '-inf' end
  local f = redis.call('ZRANGEBYSCORE', ticks, iat, '+inf', 'WITHSCORES', 'LIMIT', 0, 200)
  local places, since_admitted, get = {}, {}, {}
  local scanned = 0
  for i = 1, #f, 2 do
    local _, from, to = string.match(f[i], '^(%d+):(%d+):(%d+)')
    from, to = tonumber(from or '0'), math.min(tonumber(to or '0'), serving)
    local at = tonumber(f[i + 1])
    for pos = math.max(ip, from) + 1, to do
      if scanned >= 1000 then break end
      scanned = scanned + 1
      if not (pos > gf and pos <= gt) then
        places[#places + 1] = pos
        since_admitted[#since_admitted + 1] = math.floor((now - at) / 1000)
        get[#get + 1] = 'GET'
        get[#get + 1] = 'u16'
        get[#get + 1] = '#' .. pos
      end
      ip, iat = pos, at
    end
    if scanned >= 1000 then break end
  end
  if #places > 0 then
    local marks = redis.call('BITFIELD', seen, unpack(get))
    for j = 1, #places do
      local quiet = since_admitted[j]
      if marks[j] ~= 0 then quiet = math.min(quiet, (mark - marks[j]) % 65535) end
      local pos = places[j]
      if quiet > iw and not redis.call('ZSCORE', gone, pos) and
         not redis.call('ZSCORE', fin, pos) then
        redis.call('ZADD', gone, pos, pos)
        redis.call('ZADD', fin, pos, pos)
        released[#released + 1] = pos
      end
    end
  end
  redis.call('HSET', q, 'idle_upto', ip, 'idle_at', iat)
end
if #released > 0 then
  table.sort(released)
  redis.call('PUBLISH', ARGV[7], ARGV[8] .. '|left|' .. table.concat(released, ','))
end
-- Unclaimed gap positions in (a, b]: admitted or not, nobody holds them.
local function free(a, b)
  local lo, hi = math.max(a, gf), math.min(b, gt)
  if hi <= lo then return 0 end
  return (hi - lo) - redis.call('ZCOUNT', cl, '(' .. lo, hi)
end
local finished = redis.call('ZCOUNT', fin, '(' .. upto, '+inf')
local active = serving - upto - free(upto, serving) - finished
local k = 0
if ARGV[6] == '0' then k = math.min(tonumber(ARGV[3]), tonumber(ARGV[4]) - active) end
local seats, pct = tonumber(ARGV[10]), tonumber(ARGV[12])
local room = -1
if seats > 0 and pct > 0 then
  local unsold = seats - math.max(redis.call('SCARD', sold), tonumber(ARGV[11]))
  local m = redis.call('HMGET', stats, 'sold_orders', 'sold_seats')
  local orders, per = tonumber(m[1] or '0'), 1
  if orders > 0 then per = math.max(1, tonumber(m[2] or '0') / orders) end
  room = math.floor(math.max(0, unsold) * pct / 100 / per) - active
  if room < 0 then room = 0 end
  if room < k then k = room end
end
if k < 0 then k = 0 end
-- Gap positions this tick gives a slot (late holders; claimed ones of its range): recorded with
-- the tick, so a Redis emptied again still knows which gap places were passed over.
local adm_late, adm = {}, {}
if k > 0 then
  local l = redis.call('ZPOPMIN', late, k)
  for i = 1, #l, 2 do
    redis.call('ZADD', cl, l[i], l[i])
    redis.call('ZADD', la, l[i], l[i] .. ':' .. ARGV[1])
    adm_late[#adm_late + 1] = tonumber(l[i])
  end
  k = k - #l / 2
end
local check = window > 0 or redis.call('ZCARD', gone) > 0
local abandoned, finned = 0, 0
-- Walks (pos, lim]: each position takes one of `need` slots unless it is gone (see above).
-- Returns where it stopped, the slots left and whether it stopped at the scan bound.
local function walk(pos, need, lim)
  if not check then
    local n = math.min(need, lim - pos)
    return pos + n, need - n, false
  end
  local scanned = 0
  while need > 0 and pos < lim do
    if scanned >= 10000 then return pos, need, true end
    scanned = scanned + 1
    pos = pos + 1
    local skip = redis.call('ZSCORE', gone, pos)
    if not skip and window > 0 then
      local v = redis.call('BITFIELD', seen, 'GET', 'u16', '#' .. pos)[1]
      if v ~= 0 and (mark - v) % 65535 > window then
        redis.call('ZADD', gone, pos, pos)
        skip = true
      end
    end
    if skip then
      abandoned = abandoned + 1
      finned = finned + redis.call('ZADD', fin, pos, pos)
    else
      need = need - 1
    end
  end
  return pos, need, false
end
local new = serving
if k > 0 then
  -- Outside the gap every position still held takes a slot; inside it only claimed ones do, and
  -- the unclaimed ones up to the next claimed position are passed over for free.
  local need, stop = k, false
  if new < gf then new, need, stop = walk(new, need, gf) end
  -- Also with no slot left: the unclaimed places up to the next claimed one cost nothing.
  if not stop and new >= gf and new < gt then
    local c = redis.call('ZRANGEBYSCORE', cl, '(' .. new, gt, 'LIMIT', 0, need + 1)
    for i = 1, math.min(#c, need) do adm[#adm + 1] = tonumber(c[i]) end
    if #c <= need then
      new, need = gt, need - #c
    else
      new, need = tonumber(c[need + 1]) - 1, 0
    end
  end
  if not stop and need > 0 then new, need, stop = walk(new, need, tail) end
  if new < serving then new = serving end
end
finished = finished + finned
local ends = now + ttl
redis.call('HSET', q, 'last_tick', now, 'expired_upto', upto, 'seats', seats)
if new > serving then
  seq = seq + 1
  redis.call('ZADD', ticks, now, string.format('%d:%d:%d:%d:%d', seq, serving, new, ends, abandoned))
  redis.call('HSET', q, 'serving', new, 'seq', seq)
  redis.call('PUBLISH', ARGV[7], string.format('%s|%d|%d|%d|%d|%d|%d|%d|%d|%d', ARGV[8], seq,
    serving, new, now, tail, ends, gf, gt, abandoned))
end
return {1, seq, serving, new, tail, new - upto - free(upto, new) - finished, expired, hwm, ends,
  free(serving, new) + abandoned, gf, gt, room, abandoned, adm_late, adm, released,
  now + tonumber(ARGV[2])}
)lua";

// KEYS: seen_at.  ARGV: now.  The marks were just written: `seen_at` becomes "since:now", where
// since stays while the last write is at most 5 s old and restarts at now otherwise (see kTick).
inline constexpr const char* kPresenceFresh = R"lua(
local now = tonumber(ARGV[1])
local since, at = string.match(redis.call('GET', KEYS[1]) or '', '^(%d+):(%d+)$')
if not at or now - tonumber(at) > 5000 then since = now end
redis.call('SET', KEYS[1], since .. ':' .. now, 'PX', 3600000)
return tonumber(since)
)lua";

// KEYS: seat, sold, hold expiries, account holds, hold, loaded, version, bought, gone
// ARGV: now, expires_at, hold_id, account, max_per_account, seat_count, gc_ttl_ms, position,
//       seat ids... [ '|', seat ids of an alternative ]...
// -> {'ok', version, group} | {'unavailable', seats of the first group...} | {'limit'}
//  | {'sold_out'} | {'not_loaded'} | {'left'} (the buyer gave the place up: its access is over)
// Alternatives (best available): groups of the same size, best first; the first one wholly free
// is held (`group`, from 1), so buyers asking at once with the same candidates get different ones.
inline constexpr const char* kHold = R"lua(
local seat, sold, hx, ah, hk, ld, ver, bought = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
if redis.call('EXISTS', ld) == 0 then return {'not_loaded'} end
if tonumber(ARGV[8]) > 0 and redis.call('ZSCORE', KEYS[9], ARGV[8]) then return {'left'} end
local now = tonumber(ARGV[1])
local groups, cur = {}, {}
for i = 9, #ARGV do
  if ARGV[i] == '|' then
    groups[#groups + 1] = cur
    cur = {}
  else
    cur[#cur + 1] = ARGV[i]
  end
end
groups[#groups + 1] = cur
local n = #groups[1]
if redis.call('SCARD', sold) >= tonumber(ARGV[6]) then return {'sold_out'} end
local held = 0
local mine = redis.call('HGETALL', ah)
for i = 1, #mine, 2 do
  local cnt, e = string.match(mine[i + 1], '^(%d+):(%d+)$')
  if tonumber(e) > now then held = held + tonumber(cnt) else redis.call('HDEL', ah, mine[i]) end
end
local b = tonumber(redis.call('HGET', bought, ARGV[4]) or '0')
if held + b + n > tonumber(ARGV[5]) then return {'limit'} end
local first_bad, pick
for g = 1, #groups do
  local bad = {}
  for _, s in ipairs(groups[g]) do
    if redis.call('SISMEMBER', sold, s) == 1 then
      bad[#bad + 1] = s
    else
      local h = redis.call('HGET', seat, s)
      if h and tonumber(string.match(h, ':(%d+)$')) > now then bad[#bad + 1] = s end
    end
  end
  if #bad == 0 then
    pick = g
    break
  end
  if g == 1 then first_bad = bad end
end
if not pick then
  table.insert(first_bad, 1, 'unavailable')
  return first_bad
end
local v = ARGV[3] .. ':' .. ARGV[2]
local list = groups[pick]
for _, s in ipairs(list) do redis.call('HSET', seat, s, v) end
redis.call('HSET', hk, 'account', ARGV[4], 'expires_at', ARGV[2], 'seats', table.concat(list, ','), 'pos', ARGV[8])
redis.call('PEXPIRE', hk, ARGV[7])
redis.call('ZADD', hx, ARGV[2], ARGV[3])
redis.call('HSET', ah, ARGV[3], n .. ':' .. ARGV[2])
redis.call('PEXPIRE', ah, ARGV[7])
return {'ok', tostring(redis.call('INCR', ver)), pick}
)lua";

// KEYS: seat, hold expiries, account holds, hold, version.  ARGV: hold_id, account
// Compare-and-delete: a seat is freed only while it is still held under this hold id. The
// buyer's admission slot stays taken: their access token is still valid and may hold again.
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
redis.call('INCR', KEYS[5])
return 1
)lua";

// The sold markers are kept twice: the set of seat ids (`sold`), which the hold script checks,
// and a bitmap over the venue's layout order (`sold bits`: bit i is the seat at index i, the
// order of the venue's seats, which never changes), which seat maps read: 100,000 seats are
// 12.5 KB to copy instead of a set to walk, which blocked Redis for tens of milliseconds once
// most seats were sold. A bit is set only with its seat in the set and cleared whenever the seat
// leaves it, so the bitmap is exact when its count equals the set's; a caller that did not know
// a seat's index (-1) leaves its bit unset, readers fall back to the set, and the refresher
// rebuilds the bitmap from the set (kSoldBits).

// KEYS: seat, sold, hold expiries, account holds, hold, version, bought, fin, q, stats, sold bits
// ARGV: hold_id, account, channel, perf, n, n seat ids, their n layout indexes (-1: unknown).
// After a committed sale: permanent sold markers, and the seats per order that the tick's
// inventory bound divides by. The sale that takes the last seat (the seat count as the tick last
// wrote it) publishes "perf|sold_out" on the tick channel, so every process's view turns its
// waiting tickets sold_out at once.
inline constexpr const char* kSell = R"lua(
local prefix = ARGV[1] .. ':'
local n = tonumber(ARGV[5])
local first = 6
local added = 0
for i = first, first + n - 1 do
  added = added + redis.call('SADD', KEYS[2], ARGV[i])
  local ix = tonumber(ARGV[i + n])
  if ix and ix >= 0 then redis.call('SETBIT', KEYS[11], ix, 1) end
  local cur = redis.call('HGET', KEYS[1], ARGV[i])
  if cur and string.sub(cur, 1, #prefix) == prefix then redis.call('HDEL', KEYS[1], ARGV[i]) end
end
local pos = redis.call('HGET', KEYS[5], 'pos')
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
if redis.call('DEL', KEYS[5]) == 1 then
  redis.call('HINCRBY', KEYS[7], ARGV[2], n)
  if pos and tonumber(pos) and tonumber(pos) > 0 then redis.call('ZADD', KEYS[8], pos, pos) end
  redis.call('HINCRBY', KEYS[10], 'sold_orders', 1)
  redis.call('HINCRBY', KEYS[10], 'sold_seats', n)
end
redis.call('INCR', KEYS[6])
local cap = tonumber(redis.call('HGET', KEYS[9], 'seats') or '0')
if added > 0 and cap and cap > 0 and redis.call('SCARD', KEYS[2]) >= cap then
  redis.call('PUBLISH', ARGV[3], ARGV[4] .. '|sold_out')
end
return 1
)lua";

// KEYS: sold, version, bought, sold bits.  ARGV: account, n, n seat ids, their n layout indexes
// (-1: unknown).  After a committed refund: the seats' sold markers go, the account's bought
// count drops by the markers actually removed (a repeated call removes none and changes nothing
// but the version).
inline constexpr const char* kUnsell = R"lua(
local removed = 0
local n = tonumber(ARGV[2])
for i = 3, 2 + n do
  removed = removed + redis.call('SREM', KEYS[1], ARGV[i])
  local ix = tonumber(ARGV[i + n])
  if ix and ix >= 0 then redis.call('SETBIT', KEYS[4], ix, 0) end
end
if removed > 0 then
  local left = redis.call('HINCRBY', KEYS[3], ARGV[1], -removed)
  if left <= 0 then redis.call('HDEL', KEYS[3], ARGV[1]) end
end
redis.call('INCR', KEYS[2])
return removed
)lua";

// KEYS: sold, sold bits.  ARGV: reset (1: clear the bitmap first), then pairs of seat id and
// layout index.  Sets the bit of each seat still in the set: a bit is never set for a seat that
// left it meanwhile (a refund between the caller's read and this call), so the bitmap stays a
// subset of the set and the count comparison stays exact. For the reload and the repair.
inline constexpr const char* kSoldBits = R"lua(
if ARGV[1] == '1' then redis.call('DEL', KEYS[2]) end
for i = 2, #ARGV - 1, 2 do
  local ix = tonumber(ARGV[i + 1])
  if ix and ix >= 0 and redis.call('SISMEMBER', KEYS[1], ARGV[i]) == 1 then
    redis.call('SETBIT', KEYS[2], ix, 1)
  end
end
return 1
)lua";

// KEYS: sold, sold bits.  Returns {bitmap, SCARD, BITCOUNT} read in one step, so a sale or a
// refund landing between separate reads cannot make the counts differ and send a seat-map build
// to SMEMBERS, or the refresher to rebuild a bitmap that was exact. The bitmap is exact when the
// two counts are equal.
inline constexpr const char* kSoldMarks = R"lua(
local bits = redis.call('GET', KEYS[2]) or ''
return {bits, redis.call('SCARD', KEYS[1]), redis.call('BITCOUNT', KEYS[2])}
)lua";

// The scripts that take the run id of the Redis process as their last argument.
inline bool takes_run_id(const char* script) {
  return script == kJoin || script == kTick || script == kRestore;
}

}  // namespace tk::redisstore::lua
