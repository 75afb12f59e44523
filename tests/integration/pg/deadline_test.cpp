// A request's deadline (carried by the coroutine's executor) bounds the pool's queue and the
// statements, on a real server; the timeouts of the pool and the server are set far beyond it so
// that only the deadline can end each wait within the test's limit.
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pg_test.hpp"

namespace tk::pg::testing {
namespace {

using pgDeadline = PgTest;
using Clock = std::chrono::steady_clock;

TEST_F(pgDeadline, PoolWaitEndsAtTheRequestDeadline) {
  auto pool = make_pool({.size = 1, .acquire_timeout = 60s});
  auto held = run([&] { return pool->acquire(); });
  ASSERT_TRUE(held.ok()) << describe(held);

  request_deadline_ = Clock::now() + 200ms;
  auto waited = run([&] { return pool->acquire(); }, 10s);
  EXPECT_EQ(waited.code(), Errc::deadline_exceeded) << describe(waited);
  EXPECT_EQ(pool->stats().waiting, 0);

  // Past the deadline nothing waits at all.
  auto late = run([&] { return pool->acquire(); }, 10s);
  EXPECT_EQ(late.code(), Errc::deadline_exceeded) << describe(late);
}

TEST_F(pgDeadline, NothingIsSentPastTheDeadlineAndTheConnectionStaysInUse) {
  script("DROP TABLE IF EXISTS deadline_probe; CREATE TABLE deadline_probe (v int)");
  auto pool = make_pool({.size = 1});
  auto warm = run([&] { return pool->query("SELECT 1"); });
  ASSERT_TRUE(warm.ok()) << describe(warm);

  request_deadline_ = Clock::now() - 1ms;
  auto r = run([&] { return pool->query("INSERT INTO deadline_probe VALUES (1)"); });
  EXPECT_EQ(r.code(), Errc::deadline_exceeded) << describe(r);

  request_deadline_ = no_deadline;
  auto rows = run([&] { return pool->query("SELECT count(*) FROM deadline_probe"); });
  ASSERT_TRUE(rows.ok()) << describe(rows);
  EXPECT_EQ(rows.value().int64(0, 0), 0);
  EXPECT_EQ(pool->stats().discarded, 0u);  // refused before sending: nothing to throw away
}

TEST_F(pgDeadline, RunningStatementIsGivenUpAndTheServerStopsIt) {
  auto pool = make_pool({.size = 1, .statement_timeout = 120s});
  request_deadline_ = Clock::now() + 300ms;
  auto r = run([&] { return pool->query("SELECT pg_sleep(60), 'deadline-probe'"); }, 10s);
  EXPECT_EQ(r.code(), Errc::deadline_exceeded) << describe(r);
  EXPECT_EQ(pool->stats().discarded, 1u);  // its state is unknown: never reused

  // The backend notices its client is gone (client_connection_check_interval) and stops
  // instead of sleeping on with its snapshot and locks.
  request_deadline_ = no_deadline;
  auto watcher = make_pool({.size = 1});
  std::int64_t still_running = -1;
  for (int i = 0; i < 50 && still_running != 0; ++i) {
    auto rows = run([&] {
      return watcher->query(
          "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%''deadline-probe''%' "
          "AND pid <> pg_backend_pid()");
    });
    ASSERT_TRUE(rows.ok()) << describe(rows);
    still_running = rows.value().int64(0, 0);
    if (still_running != 0) {
      run([&]() -> asio::awaitable<void> {
        asio::steady_timer t(io_, 100ms);
        co_await t.async_wait(asio::use_awaitable);
      });
    }
  }
  EXPECT_EQ(still_running, 0) << "the server kept running the abandoned statement";
}

TEST_F(pgDeadline, TransactionPastItsDeadlineIsRolledBackAndTheConnectionReused) {
  script("DROP TABLE IF EXISTS deadline_tx; CREATE TABLE deadline_tx (v int)");
  auto pool = make_pool({.size = 1});
  request_deadline_ = Clock::now() + 200ms;
  auto r = run(
      [&]() {
        return transaction(*pool, [&](Connection& c) -> asio::awaitable<tk::Status> {
          auto ins = co_await c.query("INSERT INTO deadline_tx VALUES (1)");
          if (!ins.ok()) co_return std::move(ins).error();
          asio::steady_timer t(io_, 400ms);  // the handler's budget runs out here
          co_await t.async_wait(asio::use_awaitable);
          auto more = co_await c.query("INSERT INTO deadline_tx VALUES (2)");
          if (!more.ok()) co_return std::move(more).error();
          co_return tk::Status{};
        });
      },
      10s);
  EXPECT_EQ(r.code(), Errc::deadline_exceeded) << describe(r);

  request_deadline_ = no_deadline;
  auto rows = run([&] { return pool->query("SELECT count(*) FROM deadline_tx"); });
  ASSERT_TRUE(rows.ok()) << describe(rows);
  EXPECT_EQ(rows.value().int64(0, 0), 0);  // the first insert was rolled back
  EXPECT_EQ(pool->stats().discarded, 0u);  // the ROLLBACK ran although the deadline had passed
}

}  // namespace
}  // namespace tk::pg::testing
