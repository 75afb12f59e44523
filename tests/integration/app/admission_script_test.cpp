// The admission rule lives in one place, the Redis tick script; these cases run that script on
// the fixture's real Redis from a queue state written key by key.
#include <array>

#include "domain/admission.hpp"
#include "harness.hpp"
#include "infra/redis/stores/stores.hpp"

namespace tk::test {
namespace {

using Kind = app::TickOutcome::Kind;

constexpr Millis kNow = 1'000'000'000;
constexpr Millis kTtl = 600'000;
constexpr Millis kLive = kNow + 500'000;  // a window still open at kNow

struct Tick {  // an admission tick already in the queue; expires_at 0: recorded without one
  std::int64_t seq, from, to;
  Millis admitted_at, expires_at;
};

struct Case {
  const char* name;
  // The queue before the tick.
  std::int64_t tail = 0, serving = 0, seq = 0, expired_upto = 0;
  Millis last_tick = kNow - 1000;
  std::int64_t gap_from = 0, gap_to = 0;
  std::vector<std::int64_t> claimed = {}, finished = {};
  std::vector<Tick> ticks = {};
  // Places given up; presence marks (position, when it was last seen) and whether marks were
  // written lately.
  std::vector<std::int64_t> gone = {};
  std::vector<std::pair<std::int64_t, Millis>> seen = {};
  bool marks_fresh = true;
  Millis marks_for = 3'600'000;  // how long marks have been arriving without a gap
  // Inventory: seats of the performance (0: no bound), sold markers in Redis, orders they were
  // sold in (0: none recorded), PostgreSQL's sold count.
  std::int64_t seats = 0, sold = 0, orders = 0, sold_floor = 0;
  // The tick.
  int admit = 100, max_active = 1000, inventory_percent = 100;
  bool paused = false;
  std::int64_t expected_seq = -1;
  int presence_timeout = 0;  // s (0: off)
  int idle_timeout = 0;      // s (0: off)
  // What it must do.
  Kind kind = Kind::ticked;
  std::int64_t serving_after = 0, active_after = 0, abandoned_after = 0;
  std::vector<std::int64_t> released = {};  // admitted places whose capacity came back
};

// Idle timeout 30 s: a place not used for 32 s (the window) since its admission or last use is
// released.
constexpr Millis kAdmittedLongAgo = kNow - 100'000;

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {.name = "admits up to the rate", .tail = 1000, .serving_after = 100, .active_after = 100},
      {.name = "admits up to the cap",
       .tail = 1000,
       .serving = 100,
       .seq = 1,
       .ticks = {{1, 0, 100, kNow - 1000, kLive}},
       .max_active = 150,
       .serving_after = 150,
       .active_after = 150},
      {.name = "never past the tail",
       .tail = 30,
       .serving = 20,
       .seq = 1,
       .ticks = {{1, 0, 20, kNow - 1000, kLive}},
       .serving_after = 30,
       .active_after = 30},
      {.name = "a lull admits nobody",
       .tail = 30,
       .serving = 30,
       .seq = 1,
       .ticks = {{1, 0, 30, kNow - 1000, kLive}},
       .serving_after = 30,
       .active_after = 30},
      {.name = "a cap lowered below the active count admits nobody and never goes back",
       .tail = 5000,
       .serving = 1000,
       .seq = 1,
       .expired_upto = 200,
       .ticks = {{1, 200, 1000, kNow - 1000, kLive}},
       .max_active = 500,
       .serving_after = 1000,
       .active_after = 800},
      {.name = "paused admits nobody",
       .tail = 5000,
       .serving = 10,
       .seq = 1,
       .ticks = {{1, 0, 10, kNow - 1000, kLive}},
       .paused = true,
       .serving_after = 10,
       .active_after = 10},
      {.name = "a stale sequence admits nobody",
       .tail = 50,
       .serving = 10,
       .seq = 4,
       .ticks = {{4, 0, 10, kNow - 1000, kLive}},
       .expected_seq = 3,
       .kind = Kind::skipped,
       .serving_after = 10},
      {.name = "within the interval admits nobody",
       .tail = 50,
       .serving = 10,
       .seq = 4,
       .last_tick = kNow - 50,
       .ticks = {{4, 0, 10, kNow - 50, kLive}},
       .expected_seq = 4,
       .kind = Kind::skipped,
       .serving_after = 10},
      {.name = "the expected sequence after the interval admits",
       .tail = 50,
       .serving = 10,
       .seq = 4,
       .ticks = {{4, 0, 10, kNow - 1000, kLive}},
       .expected_seq = 4,
       .serving_after = 50,
       .active_after = 50},
      {.name = "finished buyers give their slots back",
       .tail = 12,
       .serving = 5,
       .seq = 1,
       .finished = {1, 2},
       .ticks = {{1, 0, 5, kNow - 1000, kLive}},
       .admit = 10,
       .max_active = 5,
       .serving_after = 7,
       .active_after = 5},
      {.name = "an access window that ran out gives its slots back",
       .tail = 12,
       .serving = 5,
       .seq = 1,
       .ticks = {{1, 0, 5, kNow - 700'000, kNow - 100'000}},
       .admit = 10,
       .max_active = 5,
       .serving_after = 10,
       .active_after = 5},
      {.name = "the access window is the one fixed at admission, not the current setting",
       .tail = 12,
       .serving = 5,
       .seq = 1,
       .ticks = {{1, 0, 5, kNow - 700'000, kNow + 100'000}},
       .admit = 10,
       .max_active = 5,
       .serving_after = 5,
       .active_after = 5},
      {.name = "a tick recorded without a window takes the current one",
       .tail = 12,
       .serving = 5,
       .seq = 1,
       .ticks = {{1, 0, 5, kNow - 700'000, 0}},
       .admit = 10,
       .max_active = 5,
       .serving_after = 10,
       .active_after = 5},
      {.name = "windows leave in admission order",
       .tail = 20,
       .serving = 8,
       .seq = 2,
       .ticks = {{1, 0, 5, kNow - 3000, kLive}, {2, 5, 8, kNow - 2000, kNow - 1000}},
       .admit = 10,
       .max_active = 8,
       .serving_after = 8,
       .active_after = 8},
      {.name = "unclaimed gap positions are passed over for free",
       .tail = 4200,
       .serving = 10,
       .seq = 1,
       .gap_from = 10,
       .gap_to = 4106,
       .ticks = {{1, 0, 10, kNow - 1000, kLive}},
       .admit = 5,
       .serving_after = 4111,
       .active_after = 15},
      {.name = "claimed gap positions take a slot each, in position order",
       .tail = 200,
       .serving = 10,
       .seq = 1,
       .gap_from = 10,
       .gap_to = 110,
       .claimed = {20, 50, 90},
       .ticks = {{1, 0, 10, kNow - 1000, kLive}},
       .admit = 2,
       .serving_after = 89,
       .active_after = 12},
      {.name = "admitted claimed gap positions count as active, unclaimed ones do not",
       .tail = 200,
       .serving = 110,
       .seq = 2,
       .gap_from = 10,
       .gap_to = 110,
       .claimed = {20, 50},
       .ticks = {{1, 0, 10, kNow - 2000, kLive}, {2, 10, 110, kNow - 1000, kLive}},
       .admit = 10,
       .max_active = 13,
       .serving_after = 111,
       .active_after = 13},
      {.name = "a full queue passes over no gap position",
       .tail = 200,
       .serving = 10,
       .seq = 1,
       .gap_from = 10,
       .gap_to = 110,
       .ticks = {{1, 0, 10, kNow - 1000, kLive}},
       .max_active = 10,
       .serving_after = 10,
       .active_after = 10},
      {.name = "no more buyers than unsold seats, one seat each before the first sale",
       .tail = 1000,
       .seats = 30,
       .serving_after = 30,
       .active_after = 30},
      {.name = "no more buyers than unsold seats divided by the seats per order sold so far",
       .tail = 1000,
       .seats = 30,
       .sold = 10,
       .orders = 5,
       .serving_after = 10,
       .active_after = 10},
      {.name = "admitted buyers still in their window count against the unsold seats",
       .tail = 1000,
       .serving = 8,
       .seq = 1,
       .ticks = {{1, 0, 8, kNow - 1000, kLive}},
       .seats = 30,
       .sold = 10,
       .orders = 5,
       .serving_after = 10,
       .active_after = 10},
      {.name = "PostgreSQL's sold count counts when Redis lost sold markers",
       .tail = 1000,
       .seats = 30,
       .sold = 4,
       .orders = 2,
       .sold_floor = 20,
       .serving_after = 5,
       .active_after = 5},
      {.name = "the inventory percent scales the bound",
       .tail = 1000,
       .seats = 30,
       .sold = 10,
       .orders = 5,
       .inventory_percent = 150,
       .serving_after = 15,
       .active_after = 15},
      {.name = "an inventory percent of 0 turns the bound off",
       .tail = 1000,
       .seats = 30,
       .sold = 10,
       .orders = 5,
       .inventory_percent = 0,
       .serving_after = 100,
       .active_after = 100},
      {.name = "every seat sold admits nobody",
       .tail = 1000,
       .serving = 40,
       .seq = 1,
       .ticks = {{1, 0, 40, kNow - 700'000, kNow - 100'000}},
       .seats = 30,
       .sold = 30,
       .orders = 15,
       .serving_after = 40,
       .active_after = 0},
      {.name = "more buyers in their window than the inventory allows admits nobody",
       .tail = 1000,
       .serving = 20,
       .seq = 1,
       .ticks = {{1, 0, 20, kNow - 1000, kLive}},
       .seats = 30,
       .sold = 24,
       .orders = 8,
       .serving_after = 20,
       .active_after = 20},
      {.name = "places given up are passed over without a slot",
       .tail = 20,
       .gone = {2, 3},
       .admit = 5,
       .serving_after = 7,
       .active_after = 5,
       .abandoned_after = 2},
      {.name = "presence: a place not seen within the timeout is passed over",
       .tail = 20,
       .seen = {{1, kNow - 1000}, {2, kNow - 1000}, {3, kNow - 60'000}, {4, kNow - 9000}},
       .admit = 3,
       .presence_timeout = 10,
       .serving_after = 4,
       .active_after = 3,
       .abandoned_after = 1},
      {.name = "presence: a place never marked counts as present",
       .tail = 20,
       .admit = 5,
       .presence_timeout = 10,
       .serving_after = 5,
       .active_after = 5},
      {.name = "presence: stale marks judge nobody",
       .tail = 20,
       .seen = {{3, kNow - 60'000}},
       .marks_fresh = false,
       .admit = 5,
       .presence_timeout = 10,
       .serving_after = 5,
       .active_after = 5},
      {.name = "presence: marks fresh again for less than a window judge nobody",
       .tail = 20,
       .seen = {{3, kNow - 60'000}},
       .marks_for = 11'000,
       .admit = 5,
       .presence_timeout = 10,
       .serving_after = 5,
       .active_after = 5},
      {.name = "presence: marks fresh for a whole window judge",
       .tail = 20,
       .seen = {{3, kNow - 60'000}},
       .marks_for = 12'000,
       .admit = 5,
       .presence_timeout = 10,
       .serving_after = 6,
       .active_after = 5,
       .abandoned_after = 1},
      {.name = "presence off: old marks are ignored",
       .tail = 20,
       .seen = {{3, kNow - 60'000}},
       .admit = 5,
       .serving_after = 5,
       .active_after = 5},
      {.name = "idle: a place not used for the window gives its capacity back",
       .tail = 20,
       .serving = 4,
       .seq = 1,
       .ticks = {{1, 0, 4, kAdmittedLongAgo, kLive}},
       // 2 stopped 40 s ago, 3 used the access 31 s ago, 4 never did.
       .seen = {{1, kNow - 1000}, {2, kNow - 40'000}, {3, kNow - 31'000}},
       .admit = 10,
       .max_active = 4,
       .idle_timeout = 30,
       .serving_after = 6,
       .active_after = 4,
       .released = {2, 4}},
      {.name = "idle: the window counts from the admission, not from a poll before it",
       .tail = 2,
       .serving = 2,
       .seq = 1,
       .ticks = {{1, 0, 2, kNow - 20'000, kLive}},
       .seen = {{1, kNow - 60'000}},
       .idle_timeout = 30,
       .serving_after = 2,
       .active_after = 2},
      {.name = "idle: finished and given-up places release nothing",
       .tail = 3,
       .serving = 3,
       .seq = 1,
       .finished = {1, 2},
       .ticks = {{1, 0, 3, kAdmittedLongAgo, kLive}},
       .gone = {2},
       .idle_timeout = 30,
       .serving_after = 3,
       .active_after = 0,
       .released = {3}},
      {.name = "idle: gap places are never judged",
       .tail = 4,
       .serving = 4,
       .seq = 1,
       .gap_from = 1,
       .gap_to = 3,
       .claimed = {3},
       .ticks = {{1, 0, 4, kAdmittedLongAgo, kLive}},
       .idle_timeout = 30,
       .serving_after = 4,
       .active_after = 1,
       .released = {1, 4}},
      {.name = "idle: stale marks release nobody",
       .tail = 2,
       .serving = 2,
       .seq = 1,
       .ticks = {{1, 0, 2, kAdmittedLongAgo, kLive}},
       .marks_fresh = false,
       .idle_timeout = 30,
       .serving_after = 2,
       .active_after = 2},
      {.name = "idle: marks fresh again for less than the window release nobody",
       .tail = 2,
       .serving = 2,
       .seq = 1,
       .ticks = {{1, 0, 2, kAdmittedLongAgo, kLive}},
       .marks_for = 31'000,
       .idle_timeout = 30,
       .serving_after = 2,
       .active_after = 2},
      {.name = "idle: marks fresh for the whole window release",
       .tail = 2,
       .serving = 2,
       .seq = 1,
       .ticks = {{1, 0, 2, kAdmittedLongAgo, kLive}},
       .marks_for = 32'000,
       .idle_timeout = 30,
       .serving_after = 2,
       .active_after = 0,
       .released = {1, 2}},
      {.name = "idle off: places never used keep their capacity",
       .tail = 2,
       .serving = 2,
       .seq = 1,
       .ticks = {{1, 0, 2, kAdmittedLongAgo, kLive}},
       .serving_after = 2,
       .active_after = 2},
      {.name = "passed-over places count in neither the active buyers nor the cap",
       .tail = 20,
       .serving = 4,
       .seq = 1,
       .ticks = {{1, 0, 4, kNow - 1000, kLive}},
       .gone = {5, 6, 7},
       .admit = 10,
       .max_active = 6,
       .serving_after = 9,
       .active_after = 6,
       .abandoned_after = 3},
  };
  return all;
}

asio::awaitable<void> exec(Harness& h, std::vector<std::string> cmd) {
  auto r = co_await h.rclient->exec(std::move(cmd));
  if (!r) throw std::runtime_error("redis: " + r.error().code.message());
}

asio::awaitable<std::string> run_id(Harness& h) {
  auto cmd = std::vector<std::string>{"INFO", "server"};
  auto r = co_await h.rclient->exec(std::move(cmd));
  if (!r) throw std::runtime_error("INFO failed");
  auto at = r->str.find("run_id:");
  if (at == std::string::npos) throw std::runtime_error("no run_id");
  co_return r->str.substr(at + 7, 40);
}

// Writes the queue of `c` under a fresh performance id; returns the id.
std::string write_case(Harness& h, const Case& c) {
  return h.run([&]() -> asio::awaitable<std::string> {
    std::string perf = "script-" + crypto::new_id("");
    redisstore::Keys k(perf);
    auto run = co_await run_id(h);
    auto n = [](std::int64_t v) { return std::to_string(v); };
    // Commands built in named locals: GCC 12 destroys braced lists of std::string inside a
    // co_await expression twice.
    std::vector<std::vector<std::string>> cmds;
    cmds.push_back({"HSET",         k.q(),
                    "epoch",        n(kNow - 3'600'000),
                    "tail",         n(c.tail),
                    "hwm",          n(c.tail + 100),
                    "serving",      n(c.serving),
                    "seq",          n(c.seq),
                    "expired_upto", n(c.expired_upto),
                    "last_tick",    n(c.last_tick),
                    "gap_from",     n(c.gap_from),
                    "gap_to",       n(c.gap_to),
                    "run",          run});
    for (auto pos : c.claimed) cmds.push_back({"ZADD", k.claimed(), n(pos), n(pos)});
    for (auto pos : c.finished) cmds.push_back({"ZADD", k.fin(), n(pos), n(pos)});
    for (auto pos : c.gone) cmds.push_back({"ZADD", k.gone(), n(pos), n(pos)});
    for (auto [pos, at] : c.seen) {
      cmds.push_back(
          {"BITFIELD", k.seen(), "SET", "u16", "#" + n(pos), n(domain::presence_mark(at))});
    }
    if (c.marks_fresh) {
      cmds.push_back({"SET", k.seen_at(), n(kNow - c.marks_for) + ":" + n(kNow - 500)});
    }
    for (std::int64_t i = 0; i < c.sold; ++i) cmds.push_back({"SADD", k.sold(), "seat-" + n(i)});
    if (c.orders > 0) {
      cmds.push_back({"HSET", k.stats(), "sold_orders", n(c.orders), "sold_seats", n(c.sold)});
    }
    for (const auto& t : c.ticks) {
      std::string member = n(t.seq) + ":" + n(t.from) + ":" + n(t.to);
      if (t.expires_at > 0) member += ":" + n(t.expires_at);
      cmds.push_back({"ZADD", k.ticks(), n(t.admitted_at), member});
    }
    for (auto& cmd : cmds) co_await exec(h, std::move(cmd));
    co_return perf;
  });
}

// One tick of `c`'s settings on `perf` at `now`.
app::TickOutcome tick_case(Harness& h, const std::string& perf, const Case& c, Millis now) {
  return h.run([&]() -> asio::awaitable<app::TickOutcome> {
    app::TickParams p;
    p.now = now;
    p.interval_ms = 100;
    p.admit_per_interval = c.admit;
    p.max_active = c.max_active;
    p.access_ttl_ms = kTtl;
    p.paused = c.paused;
    p.expected_seq = c.expected_seq;
    p.seat_count = c.seats;
    p.sold_floor = c.sold_floor;
    p.inventory_percent = c.inventory_percent;
    if (c.presence_timeout > 0) {
      p.presence_window_s = domain::presence_window_seconds(c.presence_timeout);
    }
    if (c.idle_timeout > 0) p.idle_window_s = domain::idle_window_seconds(c.idle_timeout);
    p.presence_mark = domain::presence_mark(now);
    auto out = co_await h.queue->tick(perf, p);
    if (!out) throw std::runtime_error("tick: " + out.error().code.message());
    co_return *out;
  });
}

app::TickOutcome run_case(Harness& h, const Case& c) {
  return tick_case(h, write_case(h, c), c, kNow);
}

TEST(AdmissionScript, EveryCaseOfTheRuleOnRealRedis) {
  Harness h;
  for (const auto& c : cases()) {
    auto out = run_case(h, c);
    EXPECT_EQ(out.kind, c.kind) << c.name;
    EXPECT_EQ(out.serving, c.serving_after) << c.name;
    if (c.kind == Kind::ticked) {
      EXPECT_EQ(out.active, c.active_after) << c.name;
      EXPECT_EQ(out.tick.abandoned, c.abandoned_after) << c.name;
      EXPECT_EQ(out.released, c.released) << c.name;
      if (c.seats == 0 || c.inventory_percent == 0) {
        EXPECT_EQ(out.inventory_room, -1) << c.name;
      } else {
        EXPECT_GE(out.inventory_room, 0) << c.name;
      }
    }
  }
}

// A tick looks at 1000 admitted places at most, goes on from there at the next tick (across the
// ticks that admitted them) and starts again from the oldest open window at the end.
TEST(AdmissionScript, IdlePlacesAreLookedAtAThousandPerTickInPositionOrder) {
  Harness h;
  Case c{.name = "1500 admitted, none used the access",
         .tail = 1500,
         .serving = 1500,
         .seq = 2,
         .ticks = {{1, 0, 600, kAdmittedLongAgo, kLive}, {2, 600, 1500, kNow - 50'000, kLive}},
         .max_active = 100'000,
         .idle_timeout = 30};
  auto perf = write_case(h, c);
  auto range = [](std::int64_t from, std::int64_t to) {
    std::vector<std::int64_t> v;
    for (auto i = from; i <= to; ++i) v.push_back(i);
    return v;
  };
  auto first = tick_case(h, perf, c, kNow);
  EXPECT_EQ(first.released, range(1, 1000));
  EXPECT_EQ(first.active, 500);
  auto second = tick_case(h, perf, c, kNow + 200);
  EXPECT_EQ(second.released, range(1001, 1500));
  EXPECT_EQ(second.active, 0);
  auto third = tick_case(h, perf, c, kNow + 400);
  EXPECT_TRUE(third.released.empty()) << "each place is released once";
  EXPECT_EQ(third.active, 0);
}

TEST(AdmissionScript, AQueueNotCheckedByThisRedisProcessIsNotTicked) {
  // A queue marked by another Redis process (before a restart or failover) may have lost writes:
  // the script refuses it until it has been checked against PostgreSQL.
  Harness h;
  auto out = h.run([&]() -> asio::awaitable<app::TickOutcome> {
    std::string perf = "script-" + crypto::new_id("");
    redisstore::Keys k(perf);
    std::vector<std::string> cmd = {
        "HSET", k.q(),     "epoch", "1",   "tail", "10",  "hwm",
        "10",   "serving", "0",     "seq", "0",    "run", std::string(40, '0')};
    co_await exec(h, std::move(cmd));
    app::TickParams p;
    p.now = kNow;
    auto t = co_await h.queue->tick(perf, p);
    if (!t) throw std::runtime_error("tick failed");
    co_return *t;
  });
  EXPECT_EQ(out.kind, Kind::not_loaded);
}

}  // namespace
}  // namespace tk::test
