#include "infra/redis/stores/stores.hpp"

#include <algorithm>
#include <charconv>

#include "app/errors.hpp"
#include "infra/redis/errors.hpp"
#include "infra/redis/stores/lua.hpp"
#include "infra/redis/stores/store_errors.hpp"

namespace tk::redisstore {

using app::Errc;
using app::Task;

namespace {
const redis::Script& script(const char* src) {
  // One Script object per source for the process (its id keys the clients' SHA cache).
  static std::mutex mu;
  static std::unordered_map<const char*, std::unique_ptr<redis::Script>> scripts;
  std::lock_guard lk(mu);
  auto& s = scripts[src];
  if (!s) s = std::make_unique<redis::Script>(src, lua::takes_run_id(src));
  return *s;
}

#define RD_TRY(decl, expr)                                           \
  auto TK_CONCAT(r_, __LINE__) = (expr);                             \
  if (!TK_CONCAT(r_, __LINE__).ok())                                 \
    co_return map_error(std::move(TK_CONCAT(r_, __LINE__)).error()); \
  decl = std::move(TK_CONCAT(r_, __LINE__)).value()

std::int64_t num(const redis::Reply& r) { return r.to_int().value_or(0); }

std::string s(std::int64_t v) { return std::to_string(v); }

// Builds argument lists without std::initializer_list: GCC 12 miscompiles braced lists of
// std::string inside co_await expressions ("array used as initializer").
template <class... A>
std::vector<std::string> V(A&&... a) {
  std::vector<std::string> v;
  v.reserve(sizeof...(a));
  (v.emplace_back(std::forward<A>(a)), ...);
  return v;
}
}  // namespace

// ---- Sessions: "account_id|account_num|expires_at", or "-" for a revoked one (a tombstone)

namespace {
constexpr std::string_view kRevoked = "-";
std::string session_value(const domain::Session& ses) {
  return ses.account_id + "|" + s(ses.account_num) + "|" + s(ses.expires_at);
}
}  // namespace

Task<void> Sessions::put(std::string id, domain::Session ses, Millis ttl_ms) {
  auto cmd1 = V("SET", "sess:" + id, session_value(ses), "PX", s(std::max<Millis>(1, ttl_ms)));
  RD_TRY(auto r, co_await c_->exec(std::move(cmd1)));
  (void)r;
  co_return Status{};
}

Task<void> Sessions::fill(std::string id, domain::Session ses, Millis ttl_ms) {
  auto cmd = V("SET", "sess:" + id, session_value(ses), "PX", s(std::max<Millis>(1, ttl_ms)), "NX");
  RD_TRY(auto r, co_await c_->exec(std::move(cmd)));
  (void)r;
  co_return Status{};
}

Task<app::CachedSession> Sessions::get(std::string id) {
  using State = app::CachedSession::State;
  auto cmd2 = V("GET", "sess:" + id);
  RD_TRY(auto r, co_await c_->exec(std::move(cmd2)));
  app::CachedSession out;
  if (r.is_nil()) co_return out;
  std::string_view v = r.view();
  auto a = v.find('|');
  auto b = a == std::string_view::npos ? a : v.find('|', a + 1);
  if (v == kRevoked || b == std::string_view::npos) {
    out.state = State::revoked;
    co_return out;
  }
  out.state = State::found;
  out.session.account_id = std::string(v.substr(0, a));
  std::from_chars(v.data() + a + 1, v.data() + b, out.session.account_num);
  std::from_chars(v.data() + b + 1, v.data() + v.size(), out.session.expires_at);
  co_return out;
}

Task<void> Sessions::revoke(std::string id, Millis ttl_ms) {
  auto cmd3 = V("SET", "sess:" + id, std::string(kRevoked), "PX", s(std::max<Millis>(1, ttl_ms)));
  RD_TRY(auto r, co_await c_->exec(std::move(cmd3)));
  (void)r;
  co_return Status{};
}

// ---- Waiting room

Task<app::JoinOutcome> Queue::join(std::string perf, std::int64_t account_num, Millis now,
                                   std::int64_t tail_floor, std::int64_t presence_mark) {
  Keys k(perf);
  auto cmd4 = V(k.q(), k.bucket(account_num), k.seen(), k.gone());
  std::string mark = presence_mark > 0 ? s(presence_mark) : std::string();
  auto cmd5 = V(s(account_num % 128), s(now), s(tail_floor), mark);
  RD_TRY(auto r, co_await c_->eval(script(lua::kJoin), std::move(cmd4), std::move(cmd5)));
  app::JoinOutcome out;
  auto code = num(r.elements.at(0));
  using K = app::JoinOutcome::Kind;
  if (code == -1) {
    out.kind = K::not_loaded;
  } else if (code == -2) {
    out.kind = K::need_reserve;
    out.hwm = num(r.elements.at(1));
  } else {
    out.kind = code == 1 ? K::created : K::existing;
    out.position = num(r.elements.at(1));
    out.issued_at = num(r.elements.at(2));
  }
  co_return out;
}

Task<void> Queue::raise_hwm(std::string perf, std::int64_t hwm) {
  Keys k(perf);
  auto cmd6 = V(k.q());
  auto cmd7 = V(s(hwm));
  RD_TRY(auto r, co_await c_->eval(script(lua::kRaiseHwm), std::move(cmd6), std::move(cmd7)));
  (void)r;
  co_return Status{};
}

Task<void> Queue::restore(std::string perf, const app::QueueSnapshot& snap) {
  Keys k(perf);
  std::vector<std::string> args =
      V(s(snap.tail_reserved), s(snap.tail), s(snap.serving), s(snap.seq), s(snap.epoch),
        s(snap.expired_upto), s(static_cast<std::int64_t>(snap.recent_ticks.size())));
  for (const auto& t : snap.recent_ticks) {
    for (auto v : {t.seq, t.from, t.to, t.admitted_at, t.expires_at, t.gap.from, t.gap.to}) {
      args.push_back(s(v));
    }
  }
  for (const auto& a : snap.gap_admissions) {
    args.push_back(s(a.position));
    args.push_back(s(a.admitted_at));
    args.push_back(a.late ? "1" : "0");
  }
  auto cmd8 = V(k.q(), k.ticks(), k.claimed(), k.late(), k.late_admitted());
  RD_TRY(auto r, co_await c_->eval(script(lua::kRestore), std::move(cmd8), std::move(args)));
  (void)r;
  co_return Status{};
}

Task<app::TickOutcome> Queue::tick(std::string perf, app::TickParams p) {
  Keys k(perf);
  // Arguments are built before the co_await: GCC 12 mis-destroys conditional temporaries that
  // live across a suspension point.
  std::string paused = p.paused ? "1" : "0";
  std::string expected = p.expected_seq < 0 ? std::string() : s(p.expected_seq);
  auto keys = V(k.q(), k.ticks(), k.fin(), k.hx(), k.stats(), k.claimed(), k.late(),
                k.late_admitted(), k.sold(), k.gone(), k.seen(), k.seen_at());
  auto args = V(s(p.now), s(p.interval_ms), s(p.admit_per_interval), s(p.max_active),
                s(p.access_ttl_ms), paused, kTickChannel, perf, expected, s(p.seat_count),
                s(p.sold_floor), s(p.inventory_percent), s(p.tail_floor), s(p.presence_window_s),
                s(p.presence_mark), s(p.idle_window_s));
  RD_TRY(auto r, co_await c_->eval(script(lua::kTick), std::move(keys), std::move(args)));
  app::TickOutcome out;
  auto code = num(r.elements.at(0));
  using K = app::TickOutcome::Kind;
  if (code == -1) {
    out.kind = K::not_loaded;
  } else if (code == 0) {
    out.kind = K::skipped;
    out.seq = num(r.elements.at(1));
    out.serving = num(r.elements.at(2));
    out.tail = num(r.elements.at(3));
    out.hwm = num(r.elements.at(4));
    out.next_at = num(r.elements.at(5));
  } else {
    out.kind = K::ticked;
    out.seq = num(r.elements.at(1));
    out.tick = app::AdmissionTick{out.seq, num(r.elements.at(2)), num(r.elements.at(3)), p.now,
                                  num(r.elements.at(8))};
    out.serving = out.tick.to;
    out.tail = num(r.elements.at(4));
    out.active = num(r.elements.at(5));
    out.holds_expired = num(r.elements.at(6));
    out.hwm = num(r.elements.at(7));
    out.tick.skipped = num(r.elements.at(9));
    out.gap = app::QueueGap{num(r.elements.at(10)), num(r.elements.at(11))};
    out.inventory_room = num(r.elements.at(12));
    out.tick.abandoned = num(r.elements.at(13));
    out.tick.gap = out.gap;
    for (const auto& e : r.elements.at(14).elements) out.tick.late_admitted.push_back(num(e));
    for (const auto& e : r.elements.at(15).elements) out.tick.gap_admitted.push_back(num(e));
    for (const auto& e : r.elements.at(16).elements) out.released.push_back(num(e));
    out.next_at = num(r.elements.at(17));
  }
  co_return out;
}

Task<app::QueueCounters> Queue::counters(std::string perf) {
  Keys k(perf);
  auto cmd9 =
      V("HMGET", k.q(), "epoch", "tail", "serving", "seq", "expired_upto", "gap_from", "gap_to");
  RD_TRY(auto h, co_await c_->exec(std::move(cmd9)));
  app::QueueCounters c;
  if (h.elements.empty() || h.elements[0].is_nil()) co_return c;
  c.loaded = true;
  c.tail = num(h.elements[1]);
  c.serving = num(h.elements[2]);
  c.seq = num(h.elements[3]);
  c.expired_upto = num(h.elements[4]);
  c.gap.from = num(h.elements[5]);
  c.gap.to = num(h.elements[6]);
  auto cmd10 = V("ZRANGE", k.ticks(), "0", "-1", "WITHSCORES");
  RD_TRY(auto t, co_await c_->exec(std::move(cmd10)));
  for (std::size_t i = 0; i + 1 < t.elements.size(); i += 2) {
    // "seq:from:to:expires_at:abandoned"; the last two are 0 (unknown, none) in members
    // without them.
    std::string_view m = t.elements[i].view();
    std::int64_t f[5] = {0, 0, 0, 0, 0};
    int n = 0;
    while (n < 5) {
      auto colon = m.find(':');
      std::from_chars(m.data(), m.data() + std::min(colon, m.size()), f[n++]);
      if (colon == std::string_view::npos) break;
      m.remove_prefix(colon + 1);
    }
    if (n < 3) continue;
    app::AdmissionTick tick{f[0], f[1], f[2], num(t.elements[i + 1]), f[3]};
    tick.abandoned = f[4];
    c.ticks.push_back(tick);
  }
  std::sort(c.ticks.begin(), c.ticks.end(), [](auto& x, auto& y) { return x.seq < y.seq; });
  // Places given up or released (a view keeps at most this many on each side of serving, the
  // latest admitted ones; the others answer abandoned from the tick that passed them, through
  // Redis).
  auto gone = V("ZRANGEBYSCORE", k.gone(), "(" + s(c.serving), "+inf", "LIMIT", "0", "10000");
  RD_TRY(auto g, co_await c_->exec(std::move(gone)));
  for (const auto& e : g.elements) c.left.push_back(num(e));
  auto passed =
      V("ZREVRANGEBYSCORE", k.gone(), s(c.serving), "(" + s(c.expired_upto), "LIMIT", "0", "10000");
  RD_TRY(auto pg, co_await c_->exec(std::move(passed)));
  for (const auto& e : pg.elements) c.left.push_back(num(e));
  std::sort(c.left.begin(), c.left.end());
  auto cmd11 = V("ZCOUNT", k.fin(), "(" + s(c.expired_upto), "+inf");
  RD_TRY(auto f, co_await c_->exec(std::move(cmd11)));
  c.finished_in_window = num(f);
  if (c.gap.to > c.expired_upto) {
    auto lo = std::max(c.gap.from, c.expired_upto);
    auto cmd12 = V("ZRANGEBYSCORE", k.claimed(), "(" + s(lo), s(c.gap.to));
    RD_TRY(auto cl, co_await c_->exec(std::move(cmd12)));
    for (const auto& e : cl.elements) c.claimed.push_back(num(e));
    std::sort(c.claimed.begin(), c.claimed.end());
    auto hi = std::min(c.gap.to, c.serving);
    if (hi > lo) {
      auto claimed_admitted =
          std::upper_bound(c.claimed.begin(), c.claimed.end(), hi) - c.claimed.begin();
      c.unclaimed_admitted = (hi - lo) - claimed_admitted;
    }
  }
  co_return c;
}

Task<app::ClaimOutcome> Queue::claim(std::string perf, std::int64_t account_num,
                                     std::int64_t position, Millis issued_at) {
  Keys k(perf);
  // Without an account (a status poll) only the gap is looked at; the bucket key is unused.
  std::string field = account_num < 0 ? std::string() : s(account_num % 128);
  auto keys = V(k.q(), k.bucket(account_num < 0 ? 0 : account_num), k.claimed(), k.late());
  auto args = V(field, s(position), s(issued_at));
  RD_TRY(auto r, co_await c_->eval(script(lua::kClaim), std::move(keys), std::move(args)));
  switch (num(r)) {
    case -1:  // the queue is not in Redis (lost with its data): nothing was claimed or put back
      co_return Errc::not_found;
    case 1:
      co_return app::ClaimOutcome::claimed;
    case 2:
      co_return app::ClaimOutcome::waiting;
    default:
      co_return app::ClaimOutcome::none;
  }
}

Task<void> Queue::finish(std::string perf, std::int64_t position) {
  Keys k(perf);
  auto cmd12 = V("ZADD", k.fin(), s(position), s(position));
  RD_TRY(auto r, co_await c_->exec(std::move(cmd12)));
  (void)r;
  co_return Status{};
}

Task<bool> Queue::use_challenge(std::string perf, std::string challenge_id, Millis now,
                                Millis until) {
  Keys k(perf);
  // Kept a second past the challenge's expiry: by then the challenge itself is refused.
  auto cmd =
      V("SET", k.pow(challenge_id), "1", "NX", "PX", s(std::max<Millis>(1, until - now) + 1000));
  RD_TRY(auto r, co_await c_->exec(std::move(cmd)));
  co_return !r.is_nil();
}

Task<app::LeaveOutcome> Queue::leave(std::string perf, std::int64_t position) {
  Keys k(perf);
  auto keys = V(k.q(), k.gone(), k.fin(), k.claimed(), k.late());
  auto args = V(s(position), kTickChannel, perf);
  RD_TRY(auto r, co_await c_->eval(script(lua::kLeave), std::move(keys), std::move(args)));
  switch (num(r)) {
    case -1:
      co_return Errc::not_found;
    case 1:
      co_return app::LeaveOutcome::left;
    default:
      co_return app::LeaveOutcome::over;
  }
}

Task<bool> Queue::gone(std::string perf, std::int64_t position) {
  Keys k(perf);
  auto cmd = V("ZSCORE", k.gone(), s(position));
  RD_TRY(auto r, co_await c_->exec(std::move(cmd)));
  co_return !r.is_nil();
}

Task<void> Queue::mark_seen(std::string perf, std::vector<std::int64_t> positions,
                            std::int64_t mark, Millis now) {
  // One BITFIELD per chunk: a second's polls of a performance cost a few commands, not one each.
  constexpr std::size_t kChunk = 4096;
  Keys k(perf);
  const std::string value = s(mark);
  for (std::size_t i = 0; i < positions.size(); i += kChunk) {
    std::vector<std::string> cmd;
    const auto n = std::min(kChunk, positions.size() - i);
    cmd.reserve(2 + 4 * n);
    cmd.emplace_back("BITFIELD");
    cmd.push_back(k.seen());
    for (std::size_t j = i; j < i + n; ++j) {
      cmd.emplace_back("SET");
      cmd.emplace_back("u16");
      cmd.push_back("#" + s(positions[j]));
      cmd.push_back(value);
    }
    RD_TRY(auto r, co_await c_->exec(std::move(cmd)));
    (void)r;
  }
  // Freshness for the tick (kPresenceFresh); gone an hour past the last write.
  auto keys = V(k.seen_at());
  auto args = V(s(now));
  RD_TRY(auto r, co_await c_->eval(script(lua::kPresenceFresh), std::move(keys), std::move(args)));
  (void)r;
  if (!positions.empty()) {
    auto gc = V("PEXPIRE", k.seen(), "3600000");
    RD_TRY(auto g, co_await c_->exec(std::move(gc)));
    (void)g;
  }
  co_return Status{};
}

// ---- Seat holds

Task<app::HoldOutcome> Holds::hold(std::string perf, const app::HoldRequest& q) {
  Keys k(perf);
  std::vector<std::string> args =
      V(s(q.now), s(q.expires_at), q.hold_id, q.account_id, s(q.max_per_account), s(q.seat_count),
        s(q.gc_ttl_ms), s(q.position));
  for (auto& seat : q.seat_ids) args.push_back(seat);
  for (const auto& alt : q.alternatives) {
    args.emplace_back("|");
    for (const auto& seat : alt) args.push_back(seat);
  }
  auto cmd13 = V(k.seat(), k.sold(), k.hx(), k.ah(q.account_id), k.hold(q.hold_id), k.loaded(),
                 k.ver(), k.bought(), k.gone());
  RD_TRY(auto r, co_await c_->eval(script(lua::kHold), std::move(cmd13), std::move(args)));
  app::HoldOutcome out;
  using K = app::HoldOutcome::Kind;
  std::string_view code = r.elements.at(0).view();
  if (code == "ok") {
    out.kind = K::held;
    out.version = num(r.elements.at(1));
    const auto pick = r.elements.size() > 2 ? num(r.elements[2]) : 1;
    out.group = pick > 1 ? static_cast<std::size_t>(pick - 1) : 0;
  } else if (code == "unavailable") {
    out.kind = K::unavailable;
    for (std::size_t i = 1; i < r.elements.size(); ++i)
      out.unavailable_seats.push_back(r.elements[i].str);
  } else if (code == "limit") {
    out.kind = K::limit;
  } else if (code == "sold_out") {
    out.kind = K::sold_out;
  } else if (code == "left") {
    out.kind = K::left;
  } else {
    out.kind = K::not_loaded;
  }
  co_return out;
}

Task<std::optional<domain::Hold>> Holds::get(std::string perf, std::string hold_id) {
  Keys k(perf);
  auto cmd14 = V("HMGET", k.hold(hold_id), "account", "expires_at", "seats", "pos");
  RD_TRY(auto r, co_await c_->exec(std::move(cmd14)));
  if (r.elements.size() < 4 || r.elements[0].is_nil()) co_return std::optional<domain::Hold>{};
  domain::Hold h;
  h.id = hold_id;
  h.performance_id = perf;
  h.account_id = r.elements[0].str;
  h.expires_at = num(r.elements[1]);
  std::string_view seats = r.elements[2].view();
  while (!seats.empty()) {
    auto c = seats.find(',');
    h.seat_ids.emplace_back(seats.substr(0, c));
    if (c == std::string_view::npos) break;
    seats.remove_prefix(c + 1);
  }
  h.position = num(r.elements[3]);
  co_return std::optional<domain::Hold>(std::move(h));
}

Task<bool> Holds::release(std::string perf, std::string hold_id, std::string account) {
  Keys k(perf);
  auto cmd15 = V(k.seat(), k.hx(), k.ah(account), k.hold(hold_id), k.ver());
  auto cmd16 = V(hold_id, account);
  RD_TRY(auto r, co_await c_->eval(script(lua::kRelease), std::move(cmd15), std::move(cmd16)));
  co_return num(r) == 1;
}

namespace {
// n, the n seat ids, then their n layout indexes (-1 where the caller had none).
void append_seats(std::vector<std::string>& args, std::vector<std::string> seat_ids,
                  const std::vector<std::int64_t>& indexes) {
  args.push_back(s(static_cast<std::int64_t>(seat_ids.size())));
  for (auto& seat : seat_ids) args.push_back(std::move(seat));
  for (std::size_t i = 0; i < seat_ids.size(); ++i)
    args.push_back(s(i < indexes.size() ? indexes[i] : -1));
}
}  // namespace

Task<void> Holds::mark_sold(std::string perf, std::string hold_id, std::string account,
                            std::int64_t, std::vector<std::string> seat_ids,
                            std::vector<std::int64_t> seat_indexes) {
  Keys k(perf);
  std::vector<std::string> args = V(hold_id, account, kTickChannel, perf);
  append_seats(args, std::move(seat_ids), seat_indexes);
  auto cmd17 = V(k.seat(), k.sold(), k.hx(), k.ah(account), k.hold(hold_id), k.ver(), k.bought(),
                 k.fin(), k.q(), k.stats(), k.sold_bits());
  RD_TRY(auto r, co_await c_->eval(script(lua::kSell), std::move(cmd17), std::move(args)));
  (void)r;
  co_return Status{};
}

Task<void> Holds::unmark_sold(std::string perf, std::string account,
                              std::vector<std::string> seat_ids,
                              std::vector<std::int64_t> seat_indexes) {
  Keys k(perf);
  std::vector<std::string> args = V(account);
  append_seats(args, std::move(seat_ids), seat_indexes);
  auto keys = V(k.sold(), k.ver(), k.bought(), k.sold_bits());
  RD_TRY(auto r, co_await c_->eval(script(lua::kUnsell), std::move(keys), std::move(args)));
  (void)r;
  co_return Status{};
}

Task<void> Holds::load_markers(std::string perf, const std::vector<std::string>& sold,
                               const std::vector<std::int64_t>& sold_indexes,
                               const std::vector<std::pair<std::string, int>>& bought) {
  Keys k(perf);
  // Chunked so no single command is huge; the `loaded` flag goes last, so holds wait for it.
  constexpr std::size_t kChunk = 1000;
  for (std::size_t i = 0; i < sold.size(); i += kChunk) {
    std::vector<std::string> cmd{"SADD", k.sold()};
    for (std::size_t j = i; j < std::min(sold.size(), i + kChunk); ++j) cmd.push_back(sold[j]);
    RD_TRY(auto r, co_await c_->exec(std::move(cmd)));
    (void)r;
  }
  TK_CO_CHECK(co_await set_sold_bits(perf, sold, sold_indexes, false));
  for (std::size_t i = 0; i < bought.size(); i += kChunk) {
    std::vector<std::string> cmd{"HSET", k.bought()};
    for (std::size_t j = i; j < std::min(bought.size(), i + kChunk); ++j) {
      cmd.push_back(bought[j].first);
      cmd.push_back(s(bought[j].second));
    }
    RD_TRY(auto r, co_await c_->exec(std::move(cmd)));
    (void)r;
  }
  auto cmd18 = V("SET", k.loaded(), "1");
  RD_TRY(auto r, co_await c_->exec(std::move(cmd18)));
  (void)r;
  auto cmd19 = V("INCR", k.ver());
  RD_TRY(auto v, co_await c_->exec(std::move(cmd19)));
  (void)v;
  co_return Status{};
}

Task<app::SeatStates> Holds::seat_states(std::string perf) {
  Keys k(perf);
  // The version first: what is read after it is at least as new, so a map built from it is
  // rebuilt at the next version check if a write came in between. Holds before sold markers: a
  // seat whose hold turns into a sale meanwhile shows in one of them.
  auto cmd20 = V("GET", k.ver());
  RD_TRY(auto v, co_await c_->exec(std::move(cmd20)));
  auto cmd21 = V("HGETALL", k.seat());
  RD_TRY(auto held, co_await c_->exec(std::move(cmd21)));
  TK_CO_TRY(auto marks, co_await sold_marks(perf));
  app::SeatStates st;
  st.version = num(v);
  for (std::size_t i = 0; i + 1 < held.elements.size(); i += 2) {
    std::string_view val = held.elements[i + 1].view();
    auto c = val.rfind(':');
    Millis exp = 0;
    if (c != std::string_view::npos)
      std::from_chars(val.data() + c + 1, val.data() + val.size(), exp);
    st.held.emplace(held.elements[i].str, exp);
  }
  // Exact when it has as many seats as the set (both counted in the script's one step).
  if (marks.elements[2].to_int() == marks.elements[1].to_int()) {
    st.sold_bits = std::move(marks.elements[0].str);
    st.sold_as_bits = true;
    co_return st;
  }
  // A marker whose index was unknown, or one lost from the set: the set is the truth.
  auto cmd24 = V("SMEMBERS", k.sold());
  RD_TRY(auto sold, co_await c_->exec(std::move(cmd24)));
  for (auto& e : sold.elements) st.sold.push_back(std::move(e.str));
  co_return st;
}

Task<std::int64_t> Holds::version(std::string perf) {
  Keys k(perf);
  auto cmd22 = V("GET", k.ver());
  RD_TRY(auto v, co_await c_->exec(std::move(cmd22)));
  co_return num(v);
}

Task<redis::Reply> Holds::sold_marks(const std::string& perf) {
  Keys k(perf);
  auto keys = V(k.sold(), k.sold_bits());
  std::vector<std::string> no_args;
  RD_TRY(auto marks,
         co_await c_->eval(script(lua::kSoldMarks), std::move(keys), std::move(no_args)));
  if (marks.elements.size() != 3) co_return Errc::unavailable;
  co_return std::move(marks);
}

Task<app::HoldStore::SoldCounts> Holds::sold_counts(std::string perf) {
  TK_CO_TRY(auto marks, co_await sold_marks(perf));
  co_return SoldCounts{num(marks.elements[1]), num(marks.elements[2])};
}

Task<std::vector<std::string>> Holds::sold_ids(std::string perf) {
  Keys k(perf);
  auto cmd = V("SMEMBERS", k.sold());
  RD_TRY(auto r, co_await c_->exec(std::move(cmd)));
  std::vector<std::string> out;
  out.reserve(r.elements.size());
  for (auto& e : r.elements) out.push_back(std::move(e.str));
  co_return out;
}

Task<void> Holds::set_sold_bits(std::string perf, const std::vector<std::string>& seat_ids,
                                const std::vector<std::int64_t>& seat_indexes, bool reset) {
  Keys k(perf);
  constexpr std::size_t kChunk = 1000;
  for (std::size_t i = 0; i < seat_ids.size() || (i == 0 && reset); i += kChunk) {
    std::vector<std::string> args{i == 0 && reset ? "1" : "0"};
    for (std::size_t j = i; j < std::min(seat_ids.size(), i + kChunk); ++j) {
      args.push_back(seat_ids[j]);
      args.push_back(s(j < seat_indexes.size() ? seat_indexes[j] : -1));
    }
    auto keys = V(k.sold(), k.sold_bits());
    RD_TRY(auto r, co_await c_->eval(script(lua::kSoldBits), std::move(keys), std::move(args)));
    (void)r;
  }
  co_return Status{};
}

Task<app::HoldCounters> Holds::counters(std::string perf, Millis now) {
  Keys k(perf);
  app::HoldCounters c;
  TK_CO_TRY(c.holds_active, co_await holds_active(perf, now));
  auto cmd24 = V("HGET", k.stats(), "holds_expired");
  RD_TRY(auto e, co_await c_->exec(std::move(cmd24)));
  c.holds_expired_total = num(e);
  // Values only ("hold_id:expires_at"), counted in place: no map of seat ids is built.
  auto cmd25 = V("HVALS", k.seat());
  RD_TRY(auto held, co_await c_->exec(std::move(cmd25)));
  for (const auto& el : held.elements) {
    std::string_view val = el.view();
    auto colon = val.rfind(':');
    Millis exp = 0;
    if (colon != std::string_view::npos)
      std::from_chars(val.data() + colon + 1, val.data() + val.size(), exp);
    if (exp > now) ++c.seats_held;
  }
  auto scard = V("SCARD", k.sold());
  RD_TRY(auto sold, co_await c_->exec(std::move(scard)));
  c.seats_sold = num(sold);
  co_return c;
}

Task<std::int64_t> Holds::holds_active(std::string perf, Millis now) {
  Keys k(perf);
  auto cmd23 = V("ZCOUNT", k.hx(), "(" + s(now), "+inf");
  RD_TRY(auto a, co_await c_->exec(std::move(cmd23)));
  co_return num(a);
}

}  // namespace tk::redisstore
