// Faults: Redis or PostgreSQL going away answers `unavailable` (503) and the same process
// recovers by itself; sold seats can never be held again after Redis loses data, and the
// refresher reloads sold markers only when they are really lost.
#include <cstdlib>
#include <mutex>

#include "common/log.hpp"
#include "harness.hpp"
#include "workers/background.hpp"

namespace tk::test {
namespace {

using app::Errc;

TEST(Faults, RedisDownAnswersUnavailableThenRecoversWithoutRestart) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 2}); });
  auto a = h.run([&] { return h.make_buyer(); });
  servers("redis-stop");
  auto down = h.run([&]() -> asio::awaitable<Errc> {
    app::WaitingRoom room(h.deps);
    auto r = co_await room.join(a, p.id, "");
    co_return r.ok() ? Errc::internal : code_of(r.error());
  });
  EXPECT_EQ(down, Errc::unavailable);
  servers("redis-start");
  EXPECT_TRUE(h.redis_back());
  // The session survived in Redis's AOF or not; either way a fresh log-in and join work again.
  auto b = h.run([&] { return h.make_buyer(); });
  auto ok = h.run([&]() -> asio::awaitable<bool> {
    app::WaitingRoom room(h.deps);
    co_return (co_await room.join(b, p.id, "")).ok();
  });
  EXPECT_TRUE(ok);
}

TEST(Faults, PostgresDownAnswersUnavailableThenRecoversWithoutRestart) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 2}); });
  servers("pg-stop");
  auto down = h.run([&]() -> asio::awaitable<Errc> {
    app::Catalogue cat(h.deps);
    auto r = co_await cat.performance(p.id);
    co_return r.ok() ? Errc::internal : code_of(r.error());
  });
  EXPECT_EQ(down, Errc::unavailable);
  servers("pg-start");
  auto back = h.run([&]() -> asio::awaitable<bool> {
    for (int i = 0; i < 100; ++i) {
      app::Catalogue cat(h.deps);
      if ((co_await cat.events()).ok()) co_return true;
      co_await Harness::sleep(100ms);
    }
    co_return false;
  });
  EXPECT_TRUE(back);
}

Errc try_hold(Harness& h, const domain::Performance& p, const std::string& seat) {
  auto who = h.run([&] { return h.make_buyer(); });
  auto access = h.run([&] { return h.admit(who, p); });
  return h.run([&]() -> asio::awaitable<Errc> {
    app::Seats s(h.deps);
    std::vector<std::string> want{seat};
    auto r = co_await s.hold(who, access, p.id, want);
    co_return r.ok() ? Errc::internal : code_of(r.error());
  });
}

TEST(Faults, SoldSeatsCannotBeHeldAfterRedisRestartsEmpty) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 4}); });
  auto seats = seat_ids(h, p);
  buy(h, p, {seats[0], seats[1]});
  // Its data gone (a lost disk, a replica promoted before it synced): every sold marker, hold and
  // queue key is missing, and only PostgreSQL knows what was sold.
  servers("redis-wipe");
  servers("redis-start");
  EXPECT_TRUE(h.redis_back());
  EXPECT_EQ(try_hold(h, p, seats[0]), Errc::seats_unavailable);
  EXPECT_EQ(try_hold(h, p, seats[1]), Errc::seats_unavailable);
}

TEST(Faults, LostSoldMarkersAreReloadedFromPostgres) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 4}); });
  auto seats = seat_ids(h, p);
  buy(h, p, {seats[0]});
  // Redis lost the marker but kept its `loaded` flag (e.g. the last second of AOF): the periodic
  // reconcile compares with PostgreSQL's count and reloads.
  h.run([&]() -> asio::awaitable<int> {
    auto cmd = std::vector<std::string>{"SREM", "{p:" + p.id + "}:sold", seats[0]};
    auto r = co_await h.rclient->exec(std::move(cmd));
    if (!r || r->integer != 1) throw std::runtime_error("marker not removed");
    app::Seats s(h.deps);
    auto fresh = co_await h.catalog_w->get_performance(p.id);
    // Measured against a count from before the purchase (a payment that may still be writing its
    // markers), the missing marker is no loss: nothing is reloaded.
    auto early = co_await s.reconcile_markers(p.id, (*fresh)->sold_count - 1);
    if (!early || *early == app::Seats::MarkerRepair::reloaded)
      throw std::runtime_error("reloaded for a payment still writing");
    auto rec = co_await s.reconcile_markers(p.id, (*fresh)->sold_count);
    if (!rec || *rec != app::Seats::MarkerRepair::reloaded)
      throw std::runtime_error("reconcile did not reload");
    co_return 0;
  });
  EXPECT_EQ(try_hold(h, p, seats[0]), Errc::seats_unavailable);
}

// A payment commits in PostgreSQL and writes its Redis sold markers right after; the refresher
// compares Redis with a sold count a round old, so a marker still being written is no loss (no
// reload of every sold seat), while one still missing a round later is reloaded.
TEST(Faults, RefresherReloadsOnlyMarkersStillMissingARoundLater) {
  std::mutex mu;
  int reloads = 0;
  std::string perf_id;  // other tests' performances share the database: count this one's only
  log::set_sink([&](std::string_view l) {
    if (l.find("sold markers re-loaded") == std::string_view::npos) return;
    std::lock_guard lock(mu);
    if (!perf_id.empty() && l.find(perf_id) != std::string_view::npos) ++reloads;
  });
  struct RestoreSink {
    ~RestoreSink() { log::set_sink(nullptr); }
  } restore;
  auto reloaded = [&] {
    std::lock_guard lock(mu);
    return reloads;
  };

  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 4}); });
  {
    std::lock_guard lock(mu);
    perf_id = p.id;
  }
  auto seats = seat_ids(h, p);
  buy(h, p, {seats[0]});
  // Blocking, so the marker changes exactly between two rounds.
  auto marker = [&](const char* op) {
    const std::string cmd = "redis-cli -u '" + env("TICKETING_REDIS_URL") + "' " + op +
                            " '{p:" + p.id + "}:sold' '" + seats[0] + "' >/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  };
  marker("SREM");  // the payment's marker, not written yet

  int rounds = 0;
  workers::BackgroundOptions o;
  o.run_ticker = o.run_dispatcher = o.run_reconciler = false;
  o.refresh = 20ms;
  o.on_round = [&](std::string_view loop) {
    if (loop == "refresher" && ++rounds == 2) marker("SADD");  // written before the next round
  };
  app::ConsumerRegistry consumers(*h.adapters->processed);
  workers::Background bg(h.deps, *h.adapters->outbox, consumers, o);
  bg.start(h.io.get_executor());
  for (int i = 0; i < 400 && rounds < 5; ++i) h.io.run_for(20ms);
  ASSERT_GE(rounds, 5);
  EXPECT_EQ(reloaded(), 0) << "a marker written within a round is no loss";

  marker("SREM");  // now lost for good
  const int lost_at = rounds;
  for (int i = 0; i < 400 && rounds < lost_at + 4; ++i) h.io.run_for(20ms);
  EXPECT_EQ(reloaded(), 1);
  EXPECT_EQ(try_hold(h, p, seats[0]), Errc::seats_unavailable);
  h.run([&]() -> asio::awaitable<bool> {
    co_await bg.close();
    co_return true;
  });
}

TEST(Faults, ACrowdOfHoldsAfterRedisLostItsMarkersReloadsThemOnce) {
  Harness h;
  constexpr int kBuyers = 30;
  auto p = h.run([&] { return h.make_performance({.seats = kBuyers + 1}); });
  auto seats = seat_ids(h, p);
  buy(h, p, {seats[0]});
  std::vector<std::pair<app::Principal, crypto::AccessToken>> buyers;
  for (int i = 0; i < kBuyers; ++i) {
    auto who = h.run([&] { return h.make_buyer(); });
    buyers.emplace_back(who, h.run([&] { return h.admit(who, p); }));
  }
  // Redis emptied of this performance's markers: every hold finds them missing at once.
  h.run([&]() -> asio::awaitable<int> {
    auto tag = "{p:" + p.id + "}";
    auto cmd = std::vector<std::string>{"DEL", tag + ":loaded", tag + ":sold", tag + ":bought"};
    auto r = co_await h.rclient->exec(std::move(cmd));
    if (!r || r->integer < 2) throw std::runtime_error("markers not deleted");
    co_return 0;
  });
  auto queries_before = h.pool->stats().acquires;
  int held = 0, failed = 0;
  h.run([&]() -> asio::awaitable<int> {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < kBuyers; ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> asio::awaitable<void> {
            app::Seats s(h.deps);
            std::vector<std::string> want{seats[static_cast<std::size_t>(i) + 1]};
            auto& [who, access] = buyers[static_cast<std::size_t>(i)];
            auto r = co_await s.hold(who, access, p.id, want);
            ++(r ? held : failed);
          },
          asio::detached);
    }
    for (int i = 0; i < 1000 && held + failed < kBuyers; ++i) co_await Harness::sleep(10ms);
    co_return 0;
  });
  EXPECT_EQ(held, kBuyers);
  EXPECT_EQ(failed, 0);
  // One reload (sold seats + bought counts), not one per hold (2 x 30 without the single flight).
  EXPECT_LE(h.pool->stats().acquires - queries_before, 2U);
  EXPECT_EQ(try_hold(h, p, seats[0]), Errc::seats_unavailable);  // the reload found the sale
}

}  // namespace
}  // namespace tk::test
