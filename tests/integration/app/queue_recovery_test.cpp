// The waiting room after Redis loses data (emptied, or rolled back to older writes), ticks racing
// between processes, and access windows that are fixed at admission. Real PostgreSQL + Redis,
// time through the ManualClock.
#include <map>

#include "harness.hpp"

namespace tk::test {
namespace {

using app::QueueState;

app::PerformanceStats stats(Harness& h, const domain::Performance& p) {
  return h.run([&]() -> asio::awaitable<app::PerformanceStats> {
    app::Admin admin(h.deps);
    auto s = co_await admin.stats(p.id);
    if (!s) Harness::expect_ok(s.error(), "stats");
    co_return *s;
  });
}

void finish(Harness& h, const domain::Performance& p, std::int64_t position) {
  h.run([&]() -> asio::awaitable<int> {
    auto r = co_await h.queue->finish(p.id, position);
    if (!r) Harness::expect_ok(r.error(), "finish");
    co_return 0;
  });
}

// Every Redis key of a performance, serialized (DUMP), to be put back later: a Redis that lost
// the writes made since.
using Snapshot = std::map<std::string, std::string>;

std::vector<std::string> perf_keys(Harness& h, const domain::Performance& p) {
  auto r = redis_cmd(h, {"KEYS", "{p:" + p.id + "}:*"});
  std::vector<std::string> out;
  for (auto& e : r.elements) out.push_back(e.str);
  return out;
}

Snapshot dump(Harness& h, const domain::Performance& p) {
  Snapshot s;
  for (auto& k : perf_keys(h, p)) s[k] = redis_cmd(h, {"DUMP", k}).str;
  return s;
}

void roll_back(Harness& h, const domain::Performance& p, const Snapshot& s) {
  for (auto& k : perf_keys(h, p)) redis_cmd(h, {"DEL", k});
  for (auto& [k, v] : s) redis_cmd(h, {"RESTORE", k, "0", v, "REPLACE"});
}

TEST(QueueRecovery, PositionsNobodyHoldsTakeNoSlotAfterRedisIsEmptied) {
  Harness h;
  h.shared.settings.queue_reserve_block = 100;
  // 2 admitted per 100 ms, at most 5 active.
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 5, 600}}); });
  std::vector<app::Principal> b;
  for (int i = 0; i < 5; ++i) b.push_back(h.run([&] { return h.make_buyer(); }));
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 3; ++i) j.push_back(join_queue(h, b[i], p));
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);  // PostgreSQL records tail 3
  j.push_back(join_queue(h, b[3], p));             // position 4: only Redis knows it was handed out
  EXPECT_EQ(j[3].position, 4);

  redis_cmd(h, {"FLUSHALL"});
  // Restored from PostgreSQL: the tail resumes above the reserved bound (100). Positions 4..100
  // may or may not have been handed out: 4 was, 5..100 were not.
  j.push_back(join_queue(h, b[4], p));
  EXPECT_EQ(j[4].position, 101);
  auto d = queue_status(h, p, j[3].ticket);  // position 4's holder shows up
  EXPECT_EQ(d.state, QueueState::waiting);
  EXPECT_EQ(d.ahead, 1);  // position 3
  auto e = queue_status(h, p, j[4].ticket);
  EXPECT_EQ(e.ahead, 2) << "positions 3 and 4 only, not 97 positions nobody holds";
  EXPECT_EQ(stats(h, p).waiting, 3);

  // One tick admits 3 and 4 (two slots) and passes over 5..100 for free.
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 100);
  EXPECT_EQ(queue_status(h, p, j[3].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, j[4].ticket).ahead, 0);
  auto s = stats(h, p);
  EXPECT_EQ(s.active, 4);
  EXPECT_EQ(s.waiting, 1);
  // The fifth slot goes to the next real buyer.
  h.clock.advance(100);
  auto t = tick_fresh(h, ticker, p);
  EXPECT_EQ(t.serving, 101);
  EXPECT_EQ(t.active, 5);
  EXPECT_EQ(queue_status(h, p, j[4].ticket).state, QueueState::admitted);
  // The cap holds: nobody else gets in.
  auto late = join_queue(h, h.run([&] { return h.make_buyer(); }), p);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 101);
  EXPECT_EQ(queue_status(h, p, late.ticket).state, QueueState::waiting);
}

// After Redis is emptied, a tick passes over the gap's unclaimed positions for free; holders of
// such positions who show up afterwards wait for the next ticks, which admit them first within
// their count: no tick lets in more than its rate, late holders included.
TEST(QueueRecovery, LateHoldersOfPassedOverGapPlacesAreAdmittedWithinTheRate) {
  Harness h;
  h.shared.settings.queue_reserve_block = 100;
  // 2 admitted per 100 ms, at most 20 active.
  auto p = h.run([&] { return h.make_performance({.seats = 20, .queue = {2, 100, 20, 600}}); });
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 6; ++i) j.push_back(join_queue(h, h.run([&] { return h.make_buyer(); }), p));
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);  // PostgreSQL records tail 6
  std::vector<app::Principal> late;
  for (int i = 0; i < 3; ++i) {
    late.push_back(h.run([&] { return h.make_buyer(); }));
    j.push_back(join_queue(h, late.back(), p));  // positions 7..9: only Redis knows them
  }
  EXPECT_EQ(j[8].position, 9);

  redis_cmd(h, {"FLUSHALL"});
  auto next = join_queue(h, h.run([&] { return h.make_buyer(); }), p);
  EXPECT_EQ(next.position, 101);  // the gap is (6, 100]
  // Two ticks admit 3..6 and pass over 7..100, whose holders have not shown up yet.
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 4);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 100);

  // The three late holders show up: passed over, they wait rather than all get in at once.
  EXPECT_EQ(queue_status(h, p, j[6].ticket).state, QueueState::waiting);
  EXPECT_EQ(queue_status(h, p, j[7].ticket).state, QueueState::waiting);
  auto again = join_queue(h, late[2], p, j[8].ticket);
  EXPECT_EQ(again.state, QueueState::waiting);
  EXPECT_EQ(again.position, 9);
  EXPECT_EQ(queue_status(h, p, next.ticket).state, QueueState::waiting);

  // The next tick admits two of them (its whole count, lowest places first), the one after the
  // third and then the next buyer in line.
  h.clock.advance(100);
  auto t = tick_fresh(h, ticker, p);
  EXPECT_EQ(t.serving, 100);
  EXPECT_EQ(queue_status(h, p, j[6].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, j[7].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, j[8].ticket).state, QueueState::waiting);
  EXPECT_EQ(queue_status(h, p, next.ticket).state, QueueState::waiting);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 101);
  EXPECT_EQ(queue_status(h, p, j[8].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, next.ticket).state, QueueState::admitted);
  // Each late admission is recorded with the time of the tick that let it in.
  auto rec = redis_cmd(h, {"ZRANGE", "{p:" + p.id + "}:late_admitted", "0", "-1"});
  ASSERT_EQ(rec.elements.size(), 3u);
  EXPECT_EQ(rec.elements[0].str.substr(0, 2), "7:");
  EXPECT_EQ(rec.elements[2].str.substr(0, 2), "9:");
  EXPECT_EQ(rec.elements[0].str.substr(2), rec.elements[1].str.substr(2));
  EXPECT_NE(rec.elements[1].str.substr(2), rec.elements[2].str.substr(2));
  EXPECT_EQ(stats(h, p).active, 10);  // 1..6, the three late holders and 101
}

// A process paused between reserving positions in PostgreSQL and raising Redis's bound makes a
// reserved bound Redis never heard of: the ticker repairs the queue as if Redis had lost a
// reservation. Late holders of an earlier repair's gap are waiting then: the repair keeps them
// waiting, and the next ticks admit them within their count rather than all at once.
TEST(QueueRecovery, ARepairKeepsTheLateHoldersOfAnEarlierGapWaiting) {
  Harness h;
  h.shared.settings.queue_reserve_block = 100;
  // 2 admitted per 100 ms, at most 20 active.
  auto p = h.run([&] { return h.make_performance({.seats = 20, .queue = {2, 100, 20, 600}}); });
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 6; ++i) j.push_back(join_queue(h, h.run([&] { return h.make_buyer(); }), p));
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);  // PostgreSQL records tail 6
  for (int i = 0; i < 6; ++i) {                    // positions 7..12: only Redis knows them
    j.push_back(join_queue(h, h.run([&] { return h.make_buyer(); }), p));
  }
  redis_cmd(h, {"FLUSHALL"});
  auto next = join_queue(h, h.run([&] { return h.make_buyer(); }), p);
  EXPECT_EQ(next.position, 101);  // the gap is (6, 100], Redis's bound 200
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 4);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 100);  // 7..100 passed over
  for (int i = 6; i < 12; ++i) {
    EXPECT_EQ(queue_status(h, p, j[i].ticket).state, QueueState::waiting) << j[i].position;
  }

  // Another process reserves the next block in PostgreSQL and stops before telling Redis.
  h.run([&]() -> asio::awaitable<int> {
    auto r = co_await h.adapters->ledger->reserve(p.id, 200, 100);
    if (!r) Harness::expect_ok(r.error(), "reserve");
    co_return 0;
  });
  // Two ticks each admit two late holders; the second sighting of the bound repairs the queue.
  for (int i = 0; i < 2; ++i) {
    h.clock.advance(100);
    tick_fresh(h, ticker, p);
  }
  auto hwm = redis_cmd(h, {"HGET", "{p:" + p.id + "}:q", "hwm"});
  EXPECT_EQ(hwm.str, "300") << "the repair took PostgreSQL's bound";
  EXPECT_EQ(queue_status(h, p, j[10].ticket).state, QueueState::waiting)
      << "a late holder let in by the repair, outside any tick's count";
  EXPECT_EQ(queue_status(h, p, j[11].ticket).state, QueueState::waiting);
  EXPECT_EQ(queue_status(h, p, next.ticket).state, QueueState::waiting);
  h.clock.advance(100);
  tick_fresh(h, ticker, p);
  EXPECT_EQ(queue_status(h, p, j[10].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, j[11].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, next.ticket).state, QueueState::waiting);
  h.clock.advance(100);
  tick_fresh(h, ticker, p);
  EXPECT_EQ(queue_status(h, p, next.ticket).state, QueueState::admitted);
  // Every late admission belongs to a tick, two per tick at most.
  auto rec = redis_cmd(h, {"ZRANGE", "{p:" + p.id + "}:late_admitted", "0", "-1"});
  ASSERT_EQ(rec.elements.size(), 6u);
  std::map<std::string, int> per_tick;
  for (const auto& e : rec.elements) ++per_tick[e.str.substr(e.str.find(':') + 1)];
  for (const auto& [at, n] : per_tick) EXPECT_LE(n, 2) << "tick at " << at;
  EXPECT_EQ(stats(h, p).active, 13);  // 1..6, the six late holders and 101
}

// Redis is emptied twice. After the first loss the ticks pass over gap places nobody claimed and
// let some late holders in; which places they passed over is kept in PostgreSQL with the ticks,
// so after the second loss the holders of passed-over places still wait for a tick's count
// rather than all get in at once, and the late holders already let in stay admitted.
TEST(QueueRecovery, PassedOverGapPlacesStayPassedOverAcrossASecondLossOfRedis) {
  Harness h;
  h.shared.settings.queue_reserve_block = 100;
  // 2 admitted per 100 ms, at most 30 active.
  auto p = h.run([&] { return h.make_performance({.seats = 30, .queue = {2, 100, 30, 600}}); });
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 6; ++i) j.push_back(join_queue(h, h.run([&] { return h.make_buyer(); }), p));
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);  // PostgreSQL records tail 6
  for (int i = 0; i < 8; ++i) {                    // positions 7..14: only Redis knows them
    j.push_back(join_queue(h, h.run([&] { return h.make_buyer(); }), p));
  }
  redis_cmd(h, {"FLUSHALL"});
  auto next = join_queue(h, h.run([&] { return h.make_buyer(); }), p);
  EXPECT_EQ(next.position, 101);  // the gap is (6, 100]
  // Position 8's holder claims before the ticks: its tick admits it in its own range.
  EXPECT_EQ(queue_status(h, p, j[7].ticket).state, QueueState::waiting);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 4);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 7);  // 5, 6 (and 7 passed over up to 8)
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 101);  // 8 and 101; 9..100 passed over
  EXPECT_EQ(queue_status(h, p, j[7].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, next.ticket).state, QueueState::admitted);
  // Positions 7 and 9 come late: the next tick lets them in (its whole count, no new range).
  EXPECT_EQ(queue_status(h, p, j[6].ticket).state, QueueState::waiting);
  EXPECT_EQ(queue_status(h, p, j[8].ticket).state, QueueState::waiting);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 101);
  EXPECT_EQ(queue_status(h, p, j[6].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, j[8].ticket).state, QueueState::admitted);

  redis_cmd(h, {"FLUSHALL"});
  h.clock.advance(100);
  tick_fresh(h, ticker, p);  // restores from PostgreSQL
  for (int i = 9; i < 14; ++i) {
    EXPECT_EQ(queue_status(h, p, j[i].ticket).state, QueueState::waiting)
        << "position " << j[i].position << " passed over before the loss, let in at once after it";
  }
  for (int i : {6, 7, 8}) {
    EXPECT_EQ(queue_status(h, p, j[i].ticket).state, QueueState::admitted) << j[i].position;
  }
  EXPECT_EQ(queue_status(h, p, next.ticket).state, QueueState::admitted);
  // The five late holders come in two per tick, lowest place first.
  for (int round = 0; round < 3; ++round) {
    h.clock.advance(100);
    tick_fresh(h, ticker, p);
    int admitted = 0;
    for (int i = 9; i < 14; ++i) {
      admitted += queue_status(h, p, j[i].ticket).state == QueueState::admitted;
    }
    EXPECT_EQ(admitted, std::min(5, 2 * (round + 1))) << "round " << round;
  }
  auto rec = redis_cmd(h, {"ZRANGE", "{p:" + p.id + "}:late_admitted", "0", "-1"});
  std::map<std::string, int> per_tick;
  for (const auto& e : rec.elements) ++per_tick[e.str.substr(e.str.find(':') + 1)];
  EXPECT_EQ(rec.elements.size(), 7u) << "7 and 9 before the second loss, 10..14 after it";
  for (const auto& [at, n] : per_tick) EXPECT_LE(n, 2) << "tick at " << at;
}

// Three joins and a tick, then the snapshot; then two joins and a tick (recorded in PostgreSQL)
// and a last join (known to Redis only). Returns the snapshot and the six join results.
struct Rolled {
  domain::Performance p;
  Snapshot before;
  std::vector<app::Principal> buyers;
  std::vector<app::JoinResult> joins;
};

Rolled joins_then_snapshot_then_more(Harness& h, app::WaitingRoom& ticker) {
  h.shared.settings.queue_reserve_block = 100;
  Rolled r;
  r.p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 4, 600}}); });
  for (int i = 0; i < 7; ++i) r.buyers.push_back(h.run([&] { return h.make_buyer(); }));
  for (int i = 0; i < 3; ++i) r.joins.push_back(join_queue(h, r.buyers[i], r.p));
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, r.p).serving, 2);
  r.before = dump(h, r.p);
  for (int i = 3; i < 5; ++i) r.joins.push_back(join_queue(h, r.buyers[i], r.p));
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, r.p).serving, 4);  // recorded: sequence 2, tail 5, serving 4
  r.joins.push_back(join_queue(h, r.buyers[5], r.p));
  EXPECT_EQ(r.joins.back().position, 6);
  return r;
}

TEST(QueueRecovery, ARolledBackRedisIsRepairedFromPostgresAtTheNextTick) {
  Harness h;
  app::WaitingRoom ticker(h.deps);
  auto r = joins_then_snapshot_then_more(h, ticker);
  auto& p = r.p;
  roll_back(h, p, r.before);  // Redis is back at tail 3, serving 2, sequence 1
  // The next tick, by a process whose view agrees with the rolled-back Redis, finds PostgreSQL
  // ahead (tail 5, serving 4) when it records, and repairs Redis.
  Process other(h);
  app::WaitingRoom other_ticker(other.deps);
  h.clock.advance(100);
  auto t = tick_fresh(h, other_ticker, p);
  auto q = redis_cmd(h, {"HMGET", "{p:" + p.id + "}:q", "tail", "serving", "seq"});
  EXPECT_EQ(q.elements[0].str, "100");
  EXPECT_EQ(q.elements[1].str, "4");
  EXPECT_EQ(q.elements[2].str, "2");
  // This process's periodic refresh brings its view up to the repaired queue.
  h.run([&]() -> asio::awaitable<int> {
    app::WaitingRoom room(h.deps);
    auto v = co_await room.refresh(p.id);
    if (!v) Harness::expect_ok(v.error(), "refresh");
    co_return 0;
  });
  // A new buyer gets a place nobody was given before (not 4, 5 or 6 again).
  auto g = join_queue(h, r.buyers[6], p);
  EXPECT_EQ(g.position, 101);
  // Position 6's holder keeps the place and shows up; 5's holder re-joins with the ticket, then
  // without it, and keeps the one place.
  EXPECT_EQ(queue_status(h, p, r.joins[5].ticket).state, QueueState::waiting);
  EXPECT_EQ(join_queue(h, r.buyers[4], p, r.joins[4].ticket).position, 5);
  auto again = join_queue(h, r.buyers[4], p);
  EXPECT_EQ(again.position, 5);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(queue_status(h, p, g.ticket).ahead, 2) << "5 and 6, not the 94 positions nobody holds";

  // 1 and 2 finish: two slots, for 5 and 6; positions 7..100 are passed over for free.
  finish(h, p, 1);
  finish(h, p, 2);
  h.clock.advance(100);
  t = tick_fresh(h, ticker, p);
  EXPECT_EQ(t.serving, 100);
  EXPECT_EQ(t.active, 4);  // 3, 4, 5, 6
  EXPECT_EQ(queue_status(h, p, r.joins[4].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, r.joins[5].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, g.ticket).state, QueueState::waiting);
  finish(h, p, 3);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 101);
  EXPECT_EQ(queue_status(h, p, g.ticket).state, QueueState::admitted);
}

TEST(QueueRecovery, ATickerWhoseViewIsAheadOfRedisRepairsIt) {
  Harness h;
  app::WaitingRoom ticker(h.deps);
  auto r = joins_then_snapshot_then_more(h, ticker);
  roll_back(h, r.p, r.before);
  // This process saw sequence 2; Redis is at 1: the compare-and-set refuses, and the ticker
  // repairs Redis from PostgreSQL instead of waiting for a sequence that never comes.
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, r.p).kind, app::TickOutcome::Kind::skipped);
  auto q = redis_cmd(h, {"HMGET", "{p:" + r.p.id + "}:q", "tail", "serving", "seq"});
  EXPECT_EQ(q.elements[0].str, "100");
  EXPECT_EQ(q.elements[1].str, "4");
  EXPECT_EQ(q.elements[2].str, "2");
  EXPECT_EQ(join_queue(h, r.buyers[6], r.p).position, 101);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, r.p).kind, app::TickOutcome::Kind::ticked);
}

TEST(QueueRecovery, ALostReservationIsFoundWhenTheTickerSeesItMissingTwice) {
  // Redis lost only joins and the reservation they needed (no tick was recorded meanwhile):
  // PostgreSQL's reserved bound is ahead of Redis's. A reservation is written to PostgreSQL
  // just before Redis hears of it, so the ticker acts on the second sighting.
  Harness h;
  h.shared.settings.queue_reserve_block = 10;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 4, 600}}); });
  std::vector<app::Principal> b;
  for (int i = 0; i < 14; ++i) b.push_back(h.run([&] { return h.make_buyer(); }));
  for (int i = 0; i < 2; ++i) join_queue(h, b[i], p);
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);
  auto before = dump(h, p);
  for (int i = 2; i < 13; ++i) EXPECT_EQ(join_queue(h, b[i], p).position, i + 1);  // reserves to 20
  roll_back(h, p, before);  // Redis: tail 2, reserved bound 10
  h.clock.advance(100);
  tick_fresh(h, ticker, p);
  h.clock.advance(100);
  tick_fresh(h, ticker, p);
  EXPECT_EQ(join_queue(h, b[13], p).position, 21) << "3..13 were handed out before the loss";
}

TEST(QueueRecovery, ARestartedRedisThatLostItsLastWritesIsCheckedBeforeItsFirstJoin) {
  Harness h;
  app::WaitingRoom ticker(h.deps);
  auto r = joins_then_snapshot_then_more(h, ticker);
  roll_back(h, r.p, r.before);
  // Restarted on an AOF without the last writes (and without an emptied queue): no tick runs
  // before the next join.
  servers("redis-stop");
  servers("redis-start");
  ASSERT_TRUE(h.redis_back());
  auto g = join_queue(h, r.buyers[6], r.p);
  EXPECT_EQ(g.position, 101);
}

TEST(QueueRecovery, AQueueLastCheckedByAnotherRedisProcessIsNeitherJoinedNorTicked) {
  // What a restarted Redis finds in the queue it loaded from its AOF or RDB: the run id of the
  // process before it. The join and tick scripts refuse it (the client passes the run id of the
  // server it talks to) until the queue was checked against PostgreSQL again.
  Harness h;
  h.shared.settings.queue_reserve_block = 100;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 4, 600}}); });
  std::vector<app::Principal> b;
  for (int i = 0; i < 3; ++i) b.push_back(h.run([&] { return h.make_buyer(); }));
  EXPECT_EQ(join_queue(h, b[0], p).position, 1);
  const std::string q = "{p:" + p.id + "}:q";
  const std::string run = redis_cmd(h, {"HGET", q, "run"}).str;
  ASSERT_EQ(run, h.run([&]() -> asio::awaitable<std::string> { co_return h.rclient->run_id(); }));
  redis_cmd(h, {"HSET", q, "run", std::string(40, '0')});
  auto direct = h.run([&]() -> asio::awaitable<app::JoinOutcome> {
    auto r = co_await h.queue->join(p.id, b[1].account_num, h.clock.now_ms(), 0, 0);
    if (!r) Harness::expect_ok(r.error(), "join script");
    co_return *r;
  });
  EXPECT_EQ(direct.kind, app::JoinOutcome::Kind::not_loaded);
  h.clock.advance(100);
  auto t = h.run([&]() -> asio::awaitable<app::TickOutcome> {
    app::TickParams tp;
    tp.now = h.clock.now_ms();
    auto r = co_await h.queue->tick(p.id, tp);
    if (!r) Harness::expect_ok(r.error(), "tick script");
    co_return *r;
  });
  EXPECT_EQ(t.kind, app::TickOutcome::Kind::not_loaded);
  EXPECT_EQ(redis_cmd(h, {"HGET", q, "serving"}).str, "0");
  // The use case checks the queue again and goes on above the reserved bound: this Redis process
  // may have lost joins that PostgreSQL never heard of. The first buyer keeps the one place.
  EXPECT_EQ(join_queue(h, b[1], p).position, 101);
  EXPECT_EQ(redis_cmd(h, {"HGET", q, "run"}).str, run);
  auto again = join_queue(h, b[0], p);
  EXPECT_EQ(again.position, 1);
  EXPECT_FALSE(again.created);
}

TEST(QueueRecovery, JoinsLostInAFailoverAfterTheLastTickAreNeverHandedOutAgain) {
  // Sentinel promoted a replica that missed the primary's last joins, made after the last tick
  // PostgreSQL recorded: the promoted Redis has a tail that PostgreSQL cannot contradict (its
  // recorded tail is the same), but other run id. The places lost are in buyers' tickets.
  Harness h;
  h.shared.settings.queue_reserve_block = 100;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 4, 600}}); });
  std::vector<app::Principal> b;
  for (int i = 0; i < 5; ++i) b.push_back(h.run([&] { return h.make_buyer(); }));
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 3; ++i) j.push_back(join_queue(h, b[i], p));
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);  // PostgreSQL records tail 3
  auto before = dump(h, p);
  j.push_back(join_queue(h, b[3], p));
  ASSERT_EQ(j[3].position, 4);  // known to the old primary only
  roll_back(h, p, before);
  const std::string q = "{p:" + p.id + "}:q";
  redis_cmd(h, {"HSET", q, "run", std::string(40, '1')});  // checked by the old primary

  auto next = join_queue(h, b[4], p);
  EXPECT_EQ(next.position, 101) << "position 4 is in a buyer's ticket already";
  // Position 4's holder shows up with the ticket and keeps the place, ahead of 101; a join with
  // the ticket puts the account's entry back, so a later one without it finds the same place.
  EXPECT_EQ(queue_status(h, p, j[3].ticket).state, QueueState::waiting);
  EXPECT_EQ(queue_status(h, p, next.ticket).ahead, 2) << "3 and 4";
  EXPECT_EQ(join_queue(h, b[3], p, j[3].ticket).position, 4);
  auto again = join_queue(h, b[3], p);
  EXPECT_EQ(again.position, 4);
  EXPECT_FALSE(again.created);
}

TEST(QueueRecovery, ARestoreKeepsRedissOwnTickOfASequenceNumberPostgresRecordedDifferently) {
  // A primary paused through a failover ticks once more when it resumes, before its demotion,
  // and records that tick first: PostgreSQL then holds another tick under the number the
  // promoted Redis used for its own. A later restore must not add PostgreSQL's as a second
  // tick of that number (the same positions admitted by two batches).
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 4, 600}}); });
  std::vector<app::Principal> b;
  for (int i = 0; i < 4; ++i) b.push_back(h.run([&] { return h.make_buyer(); }));
  for (int i = 0; i < 3; ++i) join_queue(h, b[i], p);
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  ASSERT_EQ(tick_fresh(h, ticker, p).serving, 2);  // tick 1: (0, 2], in Redis and PostgreSQL
  const std::string ticks = "{p:" + p.id + "}:ticks";
  auto own = redis_cmd(h, {"ZRANGE", ticks, "0", "-1", "WITHSCORES"});
  ASSERT_EQ(own.elements.size(), 2u);
  // This Redis's own tick 1 admitted only position 1.
  auto fields = own.elements[0].str;
  const auto first = fields.find(':'), second = fields.find(':', first + 1);
  const auto third = fields.find(':', second + 1);
  const std::string mine = fields.substr(0, second) + ":1" + fields.substr(third);
  redis_cmd(h, {"DEL", ticks});
  redis_cmd(h, {"ZADD", ticks, own.elements[1].str, mine});
  redis_cmd(h, {"HSET", "{p:" + p.id + "}:q", "serving", "1", "run", std::string(40, '1')});

  join_queue(h, b[3], p);  // restores the queue: the run id is another Redis process's
  auto after = redis_cmd(h, {"ZRANGE", ticks, "0", "-1"});
  std::vector<std::string> members;
  for (auto& e : after.elements) members.push_back(e.str);
  ASSERT_EQ(members.size(), 1u) << "two ticks numbered 1: " << members[0] << ", " << members[1];
  EXPECT_EQ(members[0], mine);
}

TEST(QueueRecovery, TwoTickersRacingAdmitOnceAndAStaleOneAdmitsNobody) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {3, 100, 1000, 600}}); });
  for (int i = 0; i < 12; ++i) join_queue(h, h.run([&] { return h.make_buyer(); }), p);
  Process other(h);
  app::WaitingRoom a(h.deps), b(other.deps);
  h.run([&]() -> asio::awaitable<int> {
    auto va = co_await a.live(p.id);
    auto vb = co_await b.live(p.id);
    if (!va || !vb) throw std::runtime_error("views");
    co_return 0;
  });

  // Both tick at the same moment: one admits, the other is refused by the script.
  h.clock.advance(100);
  auto fresh = h.run([&]() -> asio::awaitable<domain::Performance> {
    auto f = co_await h.catalog_w->get_performance(p.id);
    co_return **f;
  });
  std::vector<app::TickOutcome> raced;
  h.run([&]() -> asio::awaitable<int> {
    auto ex = co_await asio::this_coro::executor;
    for (auto* room : {&a, &b}) {
      asio::co_spawn(
          ex,
          [&, room]() -> asio::awaitable<void> {
            auto t = co_await room->tick(fresh);
            if (!t) Harness::expect_ok(t.error(), "tick");
            raced.push_back(*t);
          },
          asio::detached);
    }
    for (int i = 0; i < 500 && raced.size() < 2; ++i) co_await Harness::sleep(10ms);
    co_return 0;
  });
  ASSERT_EQ(raced.size(), 2u);
  int admitted = 0;
  for (auto& t : raced) admitted += t.tick.to > t.tick.from ? 1 : 0;
  EXPECT_EQ(admitted, 1);
  EXPECT_EQ(std::max(raced[0].serving, raced[1].serving), 3);

  // `a` ticks again; `b` did not hear of it (no pub/sub here): its view is stale, so even after
  // a full interval its tick admits nobody. Having caught up, its next tick admits.
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, a, p).serving, 6);
  h.clock.advance(100);
  auto stale = tick_fresh(h, b, p);
  EXPECT_EQ(stale.kind, app::TickOutcome::Kind::skipped);
  EXPECT_EQ(stale.serving, 6);
  auto caught_up = tick_fresh(h, b, p);
  EXPECT_EQ(caught_up.kind, app::TickOutcome::Kind::ticked);
  EXPECT_EQ(caught_up.serving, 9);
}

TEST(QueueRecovery, ChangingTheAccessWindowLiveKeepsTheExpiriesAlreadyIssued) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {1, 100, 1, 600}}); });
  auto first = join_queue(h, h.run([&] { return h.make_buyer(); }), p);
  auto second = join_queue(h, h.run([&] { return h.make_buyer(); }), p);
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  Millis admitted_at = h.clock.now_ms();
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 1);
  auto a = queue_status(h, p, first.ticket);
  ASSERT_EQ(a.state, QueueState::admitted);
  EXPECT_EQ(a.access_expires_at, admitted_at + 600'000);

  app::PerformanceChange c;
  c.access_ttl_seconds = 60;
  change_performance(h, p, c);
  h.clock.advance(100'000);  // past the new 60 s window, well inside the 600 s one issued
  a = queue_status(h, p, first.ticket);
  EXPECT_EQ(a.state, QueueState::admitted);
  EXPECT_EQ(a.access_expires_at, admitted_at + 600'000);
  // Still active: the single slot stays taken.
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 1);
  EXPECT_EQ(queue_status(h, p, second.ticket).state, QueueState::waiting);

  // Another process after Redis was emptied answers from PostgreSQL's record: same expiry.
  redis_cmd(h, {"FLUSHALL"});
  Process other(h);
  auto seen = queue_status(h, other.deps, p, first.ticket);
  EXPECT_EQ(seen.state, QueueState::admitted);
  EXPECT_EQ(seen.access_expires_at, admitted_at + 600'000);

  // Once that window ran out, the next buyer is admitted with the new 60 s window.
  h.clock.advance(admitted_at + 600'000 - h.clock.now_ms());
  Millis second_at = h.clock.now_ms();
  // (Positions 3 and up were never handed out: after the flush they are passed over for free.)
  EXPECT_GE(tick_fresh(h, ticker, p).serving, 2);
  auto b = queue_status(h, p, second.ticket);
  EXPECT_EQ(b.state, QueueState::admitted);
  EXPECT_EQ(b.access_expires_at, second_at + 60'000);
  EXPECT_EQ(queue_status(h, p, first.ticket).state, QueueState::expired);
}

TEST(QueueRecovery, AReleasedHoldKeepsTheBuyersSlotWhileTheirAccessIsValid) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 4, .queue = {1, 100, 1, 600}}); });
  auto seats = seat_ids(h, p);
  auto a = h.run([&] { return h.make_buyer(); });
  auto access = h.run([&] { return h.admit(a, p); });
  auto next = join_queue(h, h.run([&] { return h.make_buyer(); }), p);
  h.run([&]() -> asio::awaitable<int> {
    app::Seats s(h.deps);
    std::vector<std::string> want{seats[0]};
    auto hold = co_await s.hold(a, access, p.id, want);
    if (!hold) Harness::expect_ok(hold.error(), "hold");
    auto released = co_await s.release(a, hold->id);
    if (!released.ok()) Harness::expect_ok(released.error(), "release");
    co_return 0;
  });
  app::WaitingRoom ticker(h.deps);
  for (int i = 0; i < 3; ++i) {
    h.clock.advance(100);
    EXPECT_EQ(tick_fresh(h, ticker, p).serving, 1);
  }
  EXPECT_EQ(queue_status(h, p, next.ticket).state, QueueState::waiting);
  // The buyer may still hold again with the same access token.
  auto again = h.run([&]() -> asio::awaitable<bool> {
    app::Seats s(h.deps);
    std::vector<std::string> want{seats[1]};
    co_return (co_await s.hold(a, access, p.id, want)).ok();
  });
  EXPECT_TRUE(again);
}

// Every recorded admission tick is one link of the performance's hash chain (made by PostgreSQL),
// with the places nobody held and the rate it admitted under; a tick recorded twice takes one
// link. After Redis is emptied, the next tick still waits an interval after the last recorded one.
TEST(QueueRecovery, TheAdmissionLogChainsEveryRecordedTickOnce) {
  Harness h;
  h.shared.settings.queue_reserve_block = 100;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 5, 600}}); });
  std::vector<app::Principal> b;
  for (int i = 0; i < 5; ++i) b.push_back(h.run([&] { return h.make_buyer(); }));
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 3; ++i) j.push_back(join_queue(h, b[i], p));
  app::WaitingRoom ticker(h.deps);
  EXPECT_TRUE(admission_log(h, p).empty());
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);
  j.push_back(join_queue(h, b[3], p));  // position 4: only Redis knows it was handed out

  redis_cmd(h, {"FLUSHALL"});
  EXPECT_EQ(tick_fresh(h, ticker, p).kind, app::TickOutcome::Kind::not_loaded);  // restores
  // Within an interval of the last recorded tick nobody is admitted, restored Redis or not.
  EXPECT_EQ(tick_fresh(h, ticker, p).kind, app::TickOutcome::Kind::skipped);
  EXPECT_EQ(queue_status(h, p, j[3].ticket).state, QueueState::waiting);  // claims 4
  h.clock.advance(100);
  auto t = tick_fresh(h, ticker, p);
  EXPECT_EQ(t.serving, 100);  // 3 and 4 take the two slots; 5..100 nobody holds
  // The same tick recorded again (a retry after a lost answer) changes nothing.
  h.run([&]() -> asio::awaitable<int> {
    auto r = co_await h.adapters->ledger->record_tick(p.id, t.tick, t.tail);
    if (!r) Harness::expect_ok(r.error(), "record again");
    co_return 0;
  });
  EXPECT_EQ(join_queue(h, b[4], p).position, 101);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 101);

  auto log = admission_log(h, p);
  ASSERT_EQ(log.size(), 3U);
  EXPECT_EQ(log[0].seq, 1);
  EXPECT_EQ(log[0].from, 0);
  EXPECT_EQ(log[0].to, 2);
  EXPECT_EQ(log[0].skipped, 0);
  EXPECT_EQ(log[0].prev_hash, std::string(64, '0'));
  EXPECT_EQ(log[1].seq, 2);
  EXPECT_EQ(log[1].from, 2);
  EXPECT_EQ(log[1].to, 100);
  EXPECT_EQ(log[1].skipped, 96);
  EXPECT_EQ(log[1].admit_limit, 2);
  EXPECT_EQ(log[1].interval_ms, 100);
  EXPECT_EQ(log[1].admitted_at, log[0].admitted_at + 100);
  EXPECT_EQ(log[1].prev_hash, log[0].hash);
  EXPECT_EQ(log[1].hash.size(), 64U);
  EXPECT_NE(log[1].hash, log[0].hash);
  EXPECT_EQ(log[2].seq, 3);
  EXPECT_EQ(log[2].prev_hash, log[1].hash) << "the repeated record took no link";
  auto after = admission_log(h, p, 1);
  ASSERT_EQ(after.size(), 2U);
  EXPECT_EQ(after[0].hash, log[1].hash);
}

// A process that died between Redis admitting a tick and PostgreSQL recording it leaves a hole
// below the next recorded tick: the process recording that one records the missing tick from
// Redis, so the recovery marks and the admission log cover every admitted position.
TEST(QueueRecovery, ATickNobodyRecordedIsRecordedByTheProcessThatFindsItMissing) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 10, 600}}); });
  for (int i = 0; i < 6; ++i) join_queue(h, h.run([&] { return h.make_buyer(); }), p);
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);
  h.clock.advance(100);
  auto lost = h.run([&]() -> asio::awaitable<app::TickOutcome> {
    app::TickParams tp;
    tp.now = h.clock.now_ms();
    tp.interval_ms = 100;
    tp.admit_per_interval = 2;
    tp.max_active = 10;
    auto r = co_await h.queue->tick(p.id, tp);  // Redis admits 3 and 4; nobody records it
    if (!r) Harness::expect_ok(r.error(), "tick script");
    co_return *r;
  });
  ASSERT_EQ(lost.tick.to, 4);
  for (int i = 0; i < 2; ++i) {  // the first is refused (its view is behind) and catches up
    h.clock.advance(100);
    tick_fresh(h, ticker, p);
  }
  auto log = admission_log(h, p);
  ASSERT_EQ(log.size(), 3U);
  EXPECT_EQ(log[1].from, 4);
  EXPECT_EQ(log[1].to, 6);
  EXPECT_EQ(log[2].from, 2) << "the missing tick, recorded after the one that found it";
  EXPECT_EQ(log[2].to, 4);
  EXPECT_EQ(log[2].admitted_at, lost.tick.admitted_at);
  EXPECT_EQ(log[2].prev_hash, log[1].hash);
  auto rec = h.run([&]() -> asio::awaitable<std::optional<app::AdmissionTick>> {
    auto r = co_await h.adapters->ledger->tick_for_position(p.id, 3);
    if (!r) Harness::expect_ok(r.error(), "tick for position");
    co_return *r;
  });
  ASSERT_TRUE(rec.has_value());
  EXPECT_EQ(rec->expires_at, lost.tick.expires_at);
}

// After a restore made by another process, a batch that passes over the gap reaches a process
// whose view never had the gap: the tick brings the gap with it, so the holder of an unclaimed
// gap place who polls there waits for the late lane instead of being admitted for free.
TEST(QueueRecovery, AViewLearnsTheGapWithTheBatchThatPassedOverIt) {
  Harness h;
  h.shared.settings.queue_reserve_block = 100;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 5, 600}}); });
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 3; ++i) j.push_back(join_queue(h, h.run([&] { return h.make_buyer(); }), p));
  app::WaitingRoom a(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, a, p).serving, 2);                             // PostgreSQL: tail 3
  j.push_back(join_queue(h, h.run([&] { return h.make_buyer(); }), p));  // 4: Redis alone
  Process other(h);
  app::WaitingRoom b(other.deps);
  EXPECT_EQ(queue_status(h, other.deps, p, j[0].ticket).state, QueueState::admitted);  // B's view

  redis_cmd(h, {"FLUSHALL"});
  // A restores: 4..100 may or may not have been handed out (the gap). B knows nothing of it.
  EXPECT_EQ(tick_fresh(h, a, p).kind, app::TickOutcome::Kind::not_loaded);
  h.clock.advance(100);
  auto t = tick_fresh(h, b, p);  // 3 takes a slot; the gap's unclaimed places are passed over
  EXPECT_EQ(t.serving, 100);
  ASSERT_NE(other.view.get(p.id), nullptr);
  EXPECT_EQ(other.view.get(p.id)->gap.to, 100);
  // 4's holder shows up at B: its place was passed over, so it waits for the late lane.
  EXPECT_EQ(queue_status(h, other.deps, p, j[3].ticket).state, QueueState::waiting)
      << "admitted for free by a view that did not know the gap";
  h.clock.advance(100);
  tick_fresh(h, b, p);
  EXPECT_EQ(queue_status(h, other.deps, p, j[3].ticket).state, QueueState::admitted);
}

}  // namespace
}  // namespace tk::test
