// The server goes away and comes back: calls fail fast meanwhile, the same pool recovers.
#include <functional>
#include <thread>

#include "pg_test.hpp"

namespace tk::pg::testing {
namespace {

// Suite names start with "pg" so that `ctest -R pg` selects them.
using pgFault = PgTest;

// Restarts the fixture's PostgreSQL if a test stopped it and then failed half-way.
struct RestartGuard {
  bool stopped = false;
  void stop() {
    tk::test::servers("pg-stop");
    stopped = true;
  }
  void start() {
    tk::test::servers("pg-start");
    stopped = false;
  }
  ~RestartGuard() {
    if (stopped) tk::test::servers("pg-start");
  }
};

TEST_F(pgFault, ServerDownFailsFastThenSamePoolRecovers) {
  auto pool = make_pool({.size = 3, .acquire_timeout = 2000ms, .reconnect_backoff_max = 500ms});
  auto q = [&](std::string_view sql) {
    return run([&]() -> asio::awaitable<tk::Result<Rows>> { co_return co_await pool->query(sql); },
               10s);
  };
  // Open all three connections so idle ones die with the server.
  ASSERT_TRUE(run([&] { return pool->warm_up(); }).ok());
  ASSERT_TRUE(q("SELECT 1").ok());
  EXPECT_EQ(pool->stats().open, 3);

  RestartGuard guard;
  guard.stop();
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = q("SELECT 3");
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.code(), Errc::unavailable) << describe(r);
    EXPECT_LT(took, 500ms) << "call " << i;
  }
  EXPECT_FALSE(pool->healthy());
  EXPECT_EQ(pool->stats().in_use, 0);

  // Transactions fail the same way.
  auto tx = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      auto r = co_await c.query("SELECT 2");
      if (!r.ok()) co_return std::move(r).error();
      co_return tk::Status{};
    });
  });
  EXPECT_EQ(tx.code(), Errc::unavailable) << describe(tx);

  guard.start();
  // Same pool object: within about one backoff period it reconnects on its own. (The test
  // server runs with fsync/synchronous_commit off, so no data is assumed to survive the stop.)
  const auto t0 = std::chrono::steady_clock::now();
  tk::Result<Rows> back = Errc::unavailable;
  while (std::chrono::steady_clock::now() - t0 < 10s) {
    back = q("SELECT 1 + 1");
    if (back.ok()) break;
    asio::steady_timer t(io_, 50ms);
    run([&]() -> asio::awaitable<void> { co_await t.async_wait(asio::use_awaitable); });
  }
  ASSERT_TRUE(back.ok()) << describe(back);
  EXPECT_EQ(back.value().int64(0, 0), 2);
  EXPECT_TRUE(pool->healthy());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);

  // Every connection works again: a burst uses all of them.
  int ok = 0;
  for (int i = 0; i < 9; ++i) {
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          auto r = co_await pool->query("SELECT pg_sleep(0.05)");
          ok += r.ok() ? 1 : 0;
        },
        asio::detached);
  }
  io_.restart();
  io_.run_for(10s);
  EXPECT_EQ(ok, 9);
  EXPECT_LE(pool->stats().open, 3);
}

// A COMMIT whose wait for the synchronous standby is cancelled (here by statement_timeout) is
// answered with success and a WARNING: committed on this server only, so a failover could still
// lose it. transaction() reports it as an unknown outcome, never as a plain success.
TEST_F(pgFault, CommitNotConfirmedBySynchronousStandbyIsUnknown) {
  struct Reset {
    std::function<void()> undo;
    ~Reset() { undo(); }
  } reset{[this] {
    try {
      query("ALTER SYSTEM RESET synchronous_standby_names");
      query("SELECT pg_reload_conf()");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "could not reset synchronous_standby_names: " << e.what();
    }
  }};
  query("ALTER SYSTEM SET synchronous_standby_names = 'nobody'");
  query("SELECT pg_reload_conf()");
  for (int i = 0; i < 100 && query("SHOW synchronous_standby_names").text(0, 0) != "nobody"; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(query("SHOW synchronous_standby_names").text(0, 0), "nobody");
  query("CREATE TABLE IF NOT EXISTS sync_commit_probe (x int)");
  auto pool = make_pool({.size = 1});
  auto canceller = make_pool({.size = 1});
  // The COMMIT waits for the (absent) standby; statement_timeout does not cover that wait, a
  // cancel request does: PostgreSQL then answers COMMIT with a WARNING.
  auto commit_once = [&] {
    std::int64_t pid = 0;
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          asio::steady_timer t(io_, 500ms);
          co_await t.async_wait(asio::use_awaitable);
          if (pid != 0) (void)co_await canceller->query("SELECT pg_cancel_backend($1)", args(pid));
        },
        asio::detached);
    return run([&]() -> asio::awaitable<tk::Status> {
      co_return co_await transaction(*pool, [&](Connection& c) -> asio::awaitable<tk::Status> {
        auto p = co_await c.query("SELECT pg_backend_pid()");
        if (!p.ok()) co_return std::move(p).error();
        pid = p.value().int64(0, 0);
        // The fixture runs with synchronous_commit off; only a transaction that wrote WAL waits.
        co_return co_await c.exec_script(
            "SET LOCAL synchronous_commit = on; INSERT INTO sync_commit_probe VALUES (1)");
      });
    });
  };
  // Commits wait for a standby only once the checkpointer has applied the reload too, a moment
  // after the sessions see the setting: until then a commit succeeds without waiting.
  auto tx = commit_once();
  for (int i = 0; i < 50 && tx.ok(); ++i) {
    std::this_thread::sleep_for(100ms);
    tx = commit_once();
  }
  ASSERT_FALSE(tx.ok());
  EXPECT_EQ(tx.code(), Errc::unavailable) << describe(tx);
  const auto* commit = tx.error().details.if_contains("commit");
  ASSERT_NE(commit, nullptr) << describe(tx);
  EXPECT_EQ(commit->as_string(), "unknown");
}

TEST_F(pgFault, ConnectionLostMidQueryIsUnavailableAndDiscarded) {
  auto pool = make_pool({.size = 1});
  auto pid = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("SELECT pg_backend_pid()");
  });
  ASSERT_TRUE(pid.ok());
  const auto backend = pid.value().int64(0, 0);
  // Another session kills our backend while it sleeps.
  auto killer = make_pool({.size = 1});
  tk::Result<Rows> slow = Errc::query_failed;
  bool done = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        slow = co_await pool->query("SELECT pg_sleep(5)");
        done = true;
      },
      asio::detached);
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(io_, 200ms);
        co_await t.async_wait(asio::use_awaitable);
        (void)co_await killer->query("SELECT pg_terminate_backend($1)", args(backend));
      },
      asio::detached);
  io_.restart();
  io_.run_for(10s);
  ASSERT_TRUE(done);
  EXPECT_EQ(slow.code(), Errc::unavailable) << describe(slow);
  EXPECT_EQ(pool->stats().discarded, 1u);
  EXPECT_EQ(pool->stats().open, 0);
  // The next call reconnects.
  auto again = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    co_return co_await pool->query("SELECT pg_backend_pid()");
  });
  ASSERT_TRUE(again.ok()) << describe(again);
  EXPECT_NE(again.value().int64(0, 0), backend);
}

}  // namespace
}  // namespace tk::pg::testing
