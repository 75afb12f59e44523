#include "app/single_flight.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <vector>

namespace tk::app {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// A piece of work that takes a while (a timer), counting how often it really ran.
struct SlowWork {
  int runs = 0;
  Task<int> operator()(int value, Result<int> (*finish)(int)) {
    ++runs;
    asio::steady_timer t(co_await asio::this_coro::executor, 20ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return finish(value);
  }
};

Result<int> ok(int v) { return v; }
Result<int> fail(int) { return Errc::unavailable; }

// Starts `n` callers of flights.run(key, ...) at once; returns their results in finishing order.
std::vector<Result<int>> crowd(SingleFlight<int>& flights, SlowWork& work, int n,
                               const std::vector<std::string>& keys, Result<int> (*finish)(int)) {
  asio::io_context io;
  std::vector<Result<int>> out;
  for (int i = 0; i < n; ++i) {
    const std::string& key = keys[static_cast<std::size_t>(i) % keys.size()];
    asio::co_spawn(
        io,
        [&, key, i]() -> asio::awaitable<void> {
          auto job = [&work, i, finish] { return work(i, finish); };  // named: GCC 12
          auto r = co_await flights.run(key, job);
          out.push_back(std::move(r));
        },
        asio::detached);
  }
  io.run();
  return out;
}

TEST(SingleFlight, ConcurrentCallersForOneKeyShareOneRunAndItsResult) {
  SingleFlight<int> flights;
  SlowWork work;
  auto out = crowd(flights, work, 40, {"prf_a"}, ok);
  EXPECT_EQ(work.runs, 1);
  ASSERT_EQ(out.size(), 40U);
  for (const auto& r : out) {
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.value(), 0);  // the leader's (first caller's) value, given to everyone
  }
  EXPECT_FALSE(flights.in_flight("prf_a"));
}

TEST(SingleFlight, DifferentKeysRunSeparately) {
  SingleFlight<int> flights;
  SlowWork work;
  auto out = crowd(flights, work, 30, {"prf_a", "prf_b", "prf_c"}, ok);
  EXPECT_EQ(work.runs, 3);
  EXPECT_EQ(out.size(), 30U);
}

TEST(SingleFlight, AnErrorReachesEveryWaiterAndTheNextCallRunsAgain) {
  SingleFlight<int> flights;
  SlowWork work;
  auto failed = crowd(flights, work, 10, {"prf_a"}, fail);
  EXPECT_EQ(work.runs, 1);
  for (const auto& r : failed) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, make_error_code(Errc::unavailable));
  }
  // Nothing is cached: once the flight has landed, a later call does the work again.
  auto again = crowd(flights, work, 1, {"prf_a"}, ok);
  EXPECT_EQ(work.runs, 2);
  ASSERT_TRUE(again.at(0).ok());
}

TEST(SingleFlight, ALeaderSuspendedAtShutdownMayOutliveItsOwner) {
  // A service stops by destroying its io_context, after the objects that own SingleFlights:
  // the suspended leader's frame is destroyed last and must not touch the owner (ASan build).
  SlowWork work;
  bool finished = false;
  {
    asio::io_context io;
    auto flights = std::make_unique<SingleFlight<int>>();
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          auto job = [&work] { return work(1, ok); };
          auto r = co_await flights->run("prf_a", job);
          finished = r.ok();
        },
        asio::detached);
    io.run_for(std::chrono::milliseconds(5));
    EXPECT_TRUE(flights->in_flight("prf_a"));
    flights.reset();
  }
  EXPECT_EQ(work.runs, 1);
  EXPECT_FALSE(finished);
}

}  // namespace
}  // namespace tk::app
