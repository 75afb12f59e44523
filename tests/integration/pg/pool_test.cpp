// Pool bounds, concurrency, leases returned mid-transaction, transaction().
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/deadline.hpp"
#include "pg_test.hpp"

namespace tk::pg::testing {
namespace {

// Suite names start with "pg" so that `ctest -R pg` selects them.
class pgPool : public PgTest {
 protected:
  // Sets the pool's recent lease time: one lease held for `held`.
  void teach_lease(Pool& pool, std::chrono::milliseconds held) {
    auto taught = run([&]() -> asio::awaitable<tk::Status> {
      auto lease = co_await pool.acquire();
      if (!lease.ok()) co_return std::move(lease).error();
      asio::steady_timer t(io_, held);
      co_await t.async_wait(asio::use_awaitable);
      co_return tk::Status{};
    });
    ASSERT_TRUE(taught.ok()) << describe(taught);
  }
  // Returns `lease` to its pool `after` from now, from a coroutine of its own.
  void give_back_after(Pool::Lease& lease, std::chrono::milliseconds after) {
    asio::co_spawn(
        io_,
        [this, &lease, after]() -> asio::awaitable<void> {
          asio::steady_timer t(io_, after);
          co_await t.async_wait(asio::use_awaitable);
          lease.reset();
        },
        asio::detached);
  }
  // Two new acquires queue behind the pool's only connection, which is given back after 100 ms.
  struct InLine {
    std::optional<tk::Result<Pool::Lease>> first, second;
    std::chrono::steady_clock::duration second_took{};
  };
  InLine two_in_line(Pool& pool) {
    InLine out;
    auto held = run([&] { return pool.acquire(); });  // the only connection, busy
    EXPECT_TRUE(held.ok()) << describe(held);
    if (!held.ok()) return out;
    asio::co_spawn(
        io_, [&]() -> asio::awaitable<void> { out.first = co_await pool.acquire(); },
        asio::detached);
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          auto t0 = std::chrono::steady_clock::now();
          out.second = co_await pool.acquire();
          out.second_took = std::chrono::steady_clock::now() - t0;
        },
        asio::detached);
    give_back_after(held.value(), 100ms);
    io_.restart();
    io_.run_for(3s);
    return out;
  }
};

TEST_F(pgPool, AcquireIsBoundedByAcquireTimeout) {
  auto pool = make_pool({.size = 2, .acquire_timeout = 300ms});
  auto first = run([&] { return pool->acquire(); });
  auto second = run([&] { return pool->acquire(); });
  ASSERT_TRUE(first.ok()) << describe(first);
  ASSERT_TRUE(second.ok()) << describe(second);
  EXPECT_NE(first.value().get(), second.value().get());

  const auto t0 = std::chrono::steady_clock::now();
  auto third = run([&] { return pool->acquire(); });
  const auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(third.code(), Errc::pool_timeout) << describe(third);
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 1500ms);
  auto s = pool->stats();
  EXPECT_EQ(s.open, 2);
  EXPECT_EQ(s.in_use, 2);
  EXPECT_EQ(s.timeouts, 1u);
  EXPECT_EQ(s.waiting, 0);

  // Returning a lease makes the next acquire succeed at once, with the same connection.
  Connection* c = first.value().get();
  first.value().reset();
  auto fourth = run([&] { return pool->acquire(); });
  ASSERT_TRUE(fourth.ok()) << describe(fourth);
  EXPECT_EQ(fourth.value().get(), c);
}

TEST_F(pgPool, WaiterGetsTheConnectionReturnedWhileItWaits) {
  auto pool = make_pool({.size = 1, .acquire_timeout = 2000ms});
  auto r = run([&]() -> asio::awaitable<tk::Result<Rows>> {
    auto held = co_await pool->acquire();
    if (!held.ok()) co_return std::move(held).error();
    // Give the lease back 100 ms from now, from another coroutine.
    asio::co_spawn(
        io_,
        [&, lease = std::move(held).value()]() mutable -> asio::awaitable<void> {
          asio::steady_timer t(io_, 100ms);
          co_await t.async_wait(asio::use_awaitable);
          lease.reset();
        },
        asio::detached);
    const auto t0 = std::chrono::steady_clock::now();
    auto q = co_await pool->query("SELECT 1");
    if (std::chrono::steady_clock::now() - t0 > 1500ms) co_return Errc::pool_timeout;
    co_return q;
  });
  EXPECT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(pool->stats().waits, 1u);
  EXPECT_EQ(pool->stats().timeouts, 0u);
}

TEST_F(pgPool, TwoHundredConcurrentQueriesThroughAPoolOfFour) {
  auto pool = make_pool({.size = 4, .acquire_timeout = 5000ms});
  int ok = 0, failed = 0, max_open = 0;
  std::string first_error;
  for (int i = 0; i < 200; ++i) {
    asio::co_spawn(
        io_,
        [&, i]() -> asio::awaitable<void> {
          auto r = co_await pool->query("SELECT $1::bigint + 1, pg_sleep(0.002)", args(i));
          if (r.ok() && r.value().int64(0, 0) == i + 1) {
            ++ok;
          } else {
            if (failed++ == 0) first_error = describe(r);
          }
          max_open = std::max(max_open, pool->stats().open);
        },
        asio::detached);
  }
  io_.restart();
  io_.run_for(60s);
  EXPECT_EQ(ok, 200) << first_error;
  EXPECT_EQ(failed, 0) << first_error;
  EXPECT_LE(max_open, 4);
  auto s = pool->stats();
  EXPECT_EQ(s.open, 4);
  EXPECT_EQ(s.in_use, 0);
  EXPECT_EQ(s.idle, 4);
  EXPECT_GT(s.waits, 0u);
  EXPECT_EQ(s.timeouts, 0u);
  EXPECT_EQ(s.connects, 4u);
}

TEST_F(pgPool, AnAcquireThatCannotBeServedInTimeIsRefusedAtOnce) {
  auto pool = make_pool({.size = 1, .acquire_timeout = 400ms});
  teach_lease(*pool, 300ms);
  EXPECT_GE(pool->stats().lease_avg, 250ms);

  // First in line is ~300 ms away: it waits. Second is ~600 ms away, past the 400 ms timeout:
  // refused now rather than after holding its caller for 400 ms.
  auto [first, second, second_took] = two_in_line(*pool);
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->ok()) << describe(*first);
  EXPECT_EQ(second->code(), Errc::pool_timeout) << describe(*second);
  EXPECT_LT(second_took, 200ms);
  auto s = pool->stats();
  EXPECT_EQ(s.shed, 1u);
  EXPECT_EQ(s.timeouts, 0u);
  EXPECT_EQ(s.waits, 1u);
}

TEST_F(pgPool, AWaitTargetShedsWhatTheAcquireTimeoutWouldStillQueue) {
  auto pool = make_pool({.size = 1, .acquire_timeout = 2000ms, .wait_target = 250ms});
  teach_lease(*pool, 150ms);

  // First in line is ~150 ms away, within the target: it waits. Second is ~300 ms away, well
  // within the 2 s timeout but past the target: refused now.
  auto [first, second, second_took] = two_in_line(*pool);
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->ok()) << describe(*first);
  EXPECT_EQ(second->code(), Errc::pool_timeout) << describe(*second);
  EXPECT_LT(second_took, 50ms);
  auto s = pool->stats();
  EXPECT_EQ(s.shed, 1u);
  EXPECT_EQ(s.waits, 1u);
}

TEST_F(pgPool, WouldShedTellsWhatANewRequestsAcquireWouldGetWithoutQueuingIt) {
  auto pool = make_pool({.size = 1, .acquire_timeout = 2000ms, .wait_target = 250ms});
  EXPECT_FALSE(pool->would_shed());  // a slot free
  teach_lease(*pool, 150ms);
  EXPECT_FALSE(pool->would_shed());  // an idle connection
  auto held = run([&] { return pool->acquire(); });
  ASSERT_TRUE(held.ok()) << describe(held);
  EXPECT_FALSE(pool->would_shed());  // first in line: ~150 ms, within the target
  std::optional<tk::Result<Pool::Lease>> queued;
  asio::co_spawn(
      io_, [&]() -> asio::awaitable<void> { queued = co_await pool->acquire(); }, asio::detached);
  io_.restart();
  while (pool->stats().waiting == 0 && io_.run_one_for(1s) > 0) {
  }
  ASSERT_EQ(pool->stats().waiting, 1);
  EXPECT_TRUE(pool->would_shed());  // second in line: ~300 ms
  EXPECT_EQ(pool->stats().shed, 0u);
  EXPECT_EQ(pool->stats().waiting, 1);  // asking queued nothing
  held.value().reset();
  while (!queued && io_.run_one_for(1s) > 0) {
  }
  ASSERT_TRUE(queued && queued->ok());
}

TEST_F(pgPool, ARequestThatHadAConnectionWaitsAheadOfNewOnesAndIsNeverShed) {
  auto pool = make_pool({.size = 1, .acquire_timeout = 400ms});
  teach_lease(*pool, 300ms);

  // A request (its executor carries its deadline, as the server runs a handler) runs its first
  // statement.
  const auto request =
      tk::with_deadline(io_.get_executor(), std::chrono::steady_clock::now() + 10s);
  std::optional<tk::Result<Rows>> first_statement;
  asio::co_spawn(
      request,
      [&]() -> asio::awaitable<void> { first_statement = co_await pool->query("SELECT 1"); },
      asio::detached);
  io_.restart();
  while (!first_statement && io_.run_one_for(5s) > 0) {
  }
  ASSERT_TRUE(first_statement && first_statement->ok());

  auto held = run([&] { return pool->acquire(); });  // the only connection, busy
  ASSERT_TRUE(held.ok()) << describe(held);
  std::vector<std::string> order;  // who got the connection, in turn
  std::optional<tk::Result<Pool::Lease>> newcomer, request_again, late_newcomer;
  auto take = [&](std::optional<tk::Result<Pool::Lease>>& out,
                  std::string name) -> asio::awaitable<void> {
    out = co_await pool->acquire();
    if (!out->ok()) co_return;
    order.push_back(name);
    asio::steady_timer t(io_, 50ms);  // uses it a while, then gives it back
    co_await t.async_wait(asio::use_awaitable);
    out->value().reset();
  };
  // A new request queues first (~300 ms away: within its 400 ms). The request's next statement
  // would be ~600 ms away, past the timeout, and a new request arriving then would be refused:
  // the request's is queued ahead of the new one instead, and the later new one is refused.
  asio::co_spawn(io_, take(newcomer, "newcomer"), asio::detached);
  asio::co_spawn(request, take(request_again, "request"), asio::detached);
  asio::co_spawn(io_, take(late_newcomer, "late newcomer"), asio::detached);
  give_back_after(held.value(), 100ms);
  io_.restart();
  io_.run_for(3s);
  ASSERT_TRUE(newcomer && request_again && late_newcomer);
  EXPECT_TRUE(request_again->ok()) << describe(*request_again);
  EXPECT_TRUE(newcomer->ok()) << describe(*newcomer);
  EXPECT_EQ(late_newcomer->code(), Errc::pool_timeout) << describe(*late_newcomer);
  EXPECT_EQ(order, (std::vector<std::string>{"request", "newcomer"}));
  auto s = pool->stats();
  EXPECT_EQ(s.shed, 1u);
  EXPECT_EQ(s.resumed, 1u);
  EXPECT_EQ(s.timeouts, 0u);
}

TEST_F(pgPool, LeaseReturnedInsideATransactionIsRolledBack) {
  script("DROP TABLE IF EXISTS it_pg_leak; CREATE TABLE it_pg_leak (id int)");
  auto pool = make_pool({.size = 1, .acquire_timeout = 2000ms});
  Connection* first = nullptr;
  auto st = run([&]() -> asio::awaitable<tk::Status> {
    auto lease = co_await pool->acquire();
    if (!lease.ok()) co_return std::move(lease).error();
    first = lease.value().get();
    if (auto s = co_await lease.value()->exec_script("BEGIN"); !s.ok()) co_return s;
    auto ins = co_await lease.value()->query("INSERT INTO it_pg_leak VALUES ($1)", args(1));
    if (!ins.ok()) co_return std::move(ins).error();
    co_return tk::Status{};  // lease dropped with the transaction open
  });
  ASSERT_TRUE(st.ok()) << describe(st);
  auto again = run([&] { return pool->acquire(); });
  ASSERT_TRUE(again.ok()) << describe(again);
  EXPECT_EQ(again.value().get(), first);  // rolled back and reused, not discarded
  EXPECT_EQ(again.value()->tx_status(), Connection::TxStatus::idle);
  again.value().reset();
  EXPECT_EQ(query("SELECT count(*) FROM it_pg_leak").int64(0, 0), 0);
}

class pgTransaction : public PgTest {
 protected:
  void SetUp() override {
    script("DROP TABLE IF EXISTS it_pg_tx; CREATE TABLE it_pg_tx (id int PRIMARY KEY)");
  }
  std::int64_t count() { return query("SELECT count(*) FROM it_pg_tx").int64(0, 0); }
};

TEST_F(pgTransaction, CommitsWhenTheBodySucceeds) {
  auto pool = make_pool({.size = 1});
  auto r = run([&]() -> asio::awaitable<tk::Result<std::int64_t>> {
    co_return co_await transaction(
        *pool, [](Connection& c) -> asio::awaitable<tk::Result<std::int64_t>> {
          auto a = co_await c.query("INSERT INTO it_pg_tx VALUES ($1)", args(1));
          if (!a.ok()) co_return std::move(a).error();
          auto b = co_await c.query("INSERT INTO it_pg_tx VALUES ($1)", args(2));
          if (!b.ok()) co_return std::move(b).error();
          co_return std::int64_t{42};
        });
  });
  ASSERT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(count(), 2);
}

TEST_F(pgTransaction, RollsBackWhenTheBodyFails) {
  auto pool = make_pool({.size = 1});
  auto r = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      auto a = co_await c.query("INSERT INTO it_pg_tx VALUES ($1)", args(1));
      if (!a.ok()) co_return std::move(a).error();
      auto dup = co_await c.query("INSERT INTO it_pg_tx VALUES ($1)", args(1));
      if (!dup.ok()) co_return std::move(dup).error();
      co_return tk::Status{};
    });
  });
  EXPECT_EQ(r.code(), Errc::unique_violation) << describe(r);
  EXPECT_EQ(count(), 0);  // the first insert is not visible

  // A business-rule failure (no SQL error) rolls back too.
  auto biz = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      auto a = co_await c.query("INSERT INTO it_pg_tx VALUES ($1)", args(7));
      if (!a.ok()) co_return std::move(a).error();
      co_return std::make_error_code(std::errc::operation_canceled);
    });
  });
  EXPECT_EQ(biz.code(), std::errc::operation_canceled);
  EXPECT_EQ(count(), 0);
  EXPECT_EQ(pool->stats().discarded, 0u);
}

// The BEGIN travels with the body's first statement, whatever sends it: a pipeline or a script
// first is inside the transaction too, and a body that sends nothing leaves nothing open.
TEST_F(pgTransaction, TheBeginGoesWithTheFirstStatementHoweverItIsSent) {
  auto pool = make_pool({.size = 1});
  auto piped = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      std::vector<Statement> batch;
      batch.push_back({"INSERT INTO it_pg_tx VALUES ($1)", args(1)});
      batch.push_back({"SELECT count(*) FROM it_pg_tx", {}});
      auto r = co_await c.pipeline(std::move(batch));
      if (!r.ok()) co_return std::move(r).error();
      // The BEGIN's own result is not among the batch's.
      EXPECT_EQ(r.value().size(), 2u);
      if (r.value().size() == 2) {
        EXPECT_EQ(r.value()[1].int64(0, 0), 1);
      }
      EXPECT_EQ(c.tx_status(), Connection::TxStatus::in_transaction);
      co_return std::make_error_code(std::errc::operation_canceled);
    });
  });
  EXPECT_EQ(piped.code(), std::errc::operation_canceled);
  EXPECT_EQ(count(), 0);

  auto scripted = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      if (auto s = co_await c.exec_script("INSERT INTO it_pg_tx VALUES (2)"); !s.ok()) co_return s;
      EXPECT_EQ(c.tx_status(), Connection::TxStatus::in_transaction);
      co_return std::make_error_code(std::errc::operation_canceled);
    });
  });
  EXPECT_EQ(scripted.code(), std::errc::operation_canceled);
  EXPECT_EQ(count(), 0);

  auto empty = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      EXPECT_TRUE(c.begin_pending());
      co_return tk::Status{};
    });
  });
  EXPECT_TRUE(empty.ok()) << describe(empty);
  EXPECT_EQ(pool->stats().discarded, 0u);
  // Nothing was left pending on the connection: the next statement outside a transaction
  // commits on its own.
  auto lone = run([&]() -> asio::awaitable<tk::Status> {
    auto lease = co_await pool->acquire();
    if (!lease.ok()) co_return std::move(lease).error();
    EXPECT_FALSE(lease.value()->begin_pending());
    auto ins = co_await lease.value()->query("INSERT INTO it_pg_tx VALUES ($1)", args(3));
    if (!ins.ok()) co_return std::move(ins).error();
    EXPECT_EQ(lease.value()->tx_status(), Connection::TxStatus::idle);
    co_return tk::Status{};
  });
  ASSERT_TRUE(lone.ok()) << describe(lone);
  EXPECT_EQ(count(), 1);
}

// The body's last batch may carry the COMMIT: the transaction then sends none of its own (one
// more COMMIT, outside any transaction, would come back with a WARNING, which the transaction
// reports as a commit the standby did not confirm). A failing statement of that batch skips
// the COMMIT: the whole transaction rolls back and the connection is clean for the next.
TEST_F(pgTransaction, TheLastBatchCanCarryTheCommit) {
  auto pool = make_pool({.size = 1});
  auto two = [](int first, int second) {
    return [first, second](Connection& c) -> asio::awaitable<tk::Status> {
      std::vector<Statement> head;
      head.push_back({"INSERT INTO it_pg_tx VALUES ($1)", args(first)});
      auto a = co_await c.pipeline(std::move(head));
      if (!a.ok()) co_return std::move(a).error();
      std::vector<Statement> last;
      last.push_back({"INSERT INTO it_pg_tx VALUES ($1)", args(second)});
      last.push_back({"SELECT count(*) FROM it_pg_tx", {}});
      auto r = co_await c.pipeline(std::move(last), Connection::Then::commit);
      if (!r.ok()) co_return std::move(r).error();
      EXPECT_EQ(r.value().size(), 2u);  // the COMMIT's result is not among the batch's
      EXPECT_EQ(c.tx_status(), Connection::TxStatus::idle);
      co_return tk::Status{};
    };
  };
  auto ok = run(
      [&]() -> asio::awaitable<tk::Status> { co_return co_await transaction(*pool, two(1, 2)); });
  ASSERT_TRUE(ok.ok()) << describe(ok);
  EXPECT_EQ(count(), 2);

  auto dup = run(
      [&]() -> asio::awaitable<tk::Status> { co_return co_await transaction(*pool, two(3, 1)); });
  EXPECT_EQ(dup.code(), Errc::unique_violation) << describe(dup);
  EXPECT_EQ(count(), 2);  // 3, sent in the first batch, rolled back with the rest

  // A transaction of one batch: the BEGIN leads it, the COMMIT ends it.
  auto single = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      std::vector<Statement> only;
      only.push_back({"INSERT INTO it_pg_tx VALUES ($1)", args(5)});
      auto r = co_await c.pipeline(std::move(only), Connection::Then::commit);
      if (!r.ok()) co_return std::move(r).error();
      co_return tk::Status{};
    });
  });
  ASSERT_TRUE(single.ok()) << describe(single);
  EXPECT_EQ(count(), 3);
  EXPECT_EQ(pool->stats().discarded, 0u);

  // A batch's COMMIT sent outside pg::transaction is judged by nobody: the lease coming back
  // forgets it, so the next transaction still sends its own COMMIT.
  auto outside = run([&]() -> asio::awaitable<tk::Status> {
    auto lease = co_await pool->acquire();
    if (!lease.ok()) co_return std::move(lease).error();
    if (auto s = co_await lease.value()->exec_script("BEGIN"); !s.ok()) co_return s;
    std::vector<Statement> only;
    only.push_back({"INSERT INTO it_pg_tx VALUES ($1)", args(6)});
    auto r = co_await lease.value()->pipeline(std::move(only), Connection::Then::commit);
    if (!r.ok()) co_return std::move(r).error();
    co_return tk::Status{};
  });
  ASSERT_TRUE(outside.ok()) << describe(outside);
  auto next = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      auto r = co_await c.query("INSERT INTO it_pg_tx VALUES ($1)", args(7));
      if (!r.ok()) co_return std::move(r).error();
      co_return tk::Status{};
    });
  });
  ASSERT_TRUE(next.ok()) << describe(next);
  EXPECT_EQ(count(), 5);  // 1, 2, 5, 6 and 7
}

// A lease given back with a BEGIN still pending (its transaction abandoned before any statement)
// does not start a transaction for the next holder.
TEST_F(pgPool, ALeaseReturnedWithItsBeginPendingStartsNothingForTheNext) {
  script("DROP TABLE IF EXISTS it_pg_pending; CREATE TABLE it_pg_pending (id int)");
  auto pool = make_pool({.size = 1, .acquire_timeout = 2000ms});
  auto st = run([&]() -> asio::awaitable<tk::Status> {
    auto lease = co_await pool->acquire();
    if (!lease.ok()) co_return std::move(lease).error();
    lease.value()->defer_begin("BEGIN");
    co_return tk::Status{};
  });
  ASSERT_TRUE(st.ok()) << describe(st);
  auto ins = run([&]() -> asio::awaitable<tk::Status> {
    auto lease = co_await pool->acquire();
    if (!lease.ok()) co_return std::move(lease).error();
    auto r = co_await lease.value()->query("INSERT INTO it_pg_pending VALUES ($1)", args(1));
    if (!r.ok()) co_return std::move(r).error();
    EXPECT_EQ(lease.value()->tx_status(), Connection::TxStatus::idle);
    co_return tk::Status{};
  });
  ASSERT_TRUE(ins.ok()) << describe(ins);
  EXPECT_EQ(query("SELECT count(*) FROM it_pg_pending").int64(0, 0), 1);
}

TEST_F(pgTransaction, SwallowedSqlErrorIsNotReportedAsCommitted) {
  auto pool = make_pool({.size = 1});
  auto r = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [](Connection& c) -> asio::awaitable<tk::Status> {
      (void)co_await c.query("INSERT INTO it_pg_tx VALUES ($1)", args(1));
      (void)co_await c.query("SELEC broken");  // error ignored by the body
      co_return tk::Status{};
    });
  });
  EXPECT_EQ(r.code(), Errc::query_failed) << describe(r);
  EXPECT_EQ(count(), 0);
}

TEST_F(pgTransaction, RetriesSerializationFailures) {
  auto pool = make_pool({.size = 1});
  int calls = 0;
  auto r = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool,
                                   [&](Connection& c) -> asio::awaitable<tk::Status> {
                                     ++calls;
                                     auto a = co_await c.query("INSERT INTO it_pg_tx VALUES ($1)",
                                                               args(calls));
                                     if (!a.ok()) co_return std::move(a).error();
                                     if (calls < 3) co_return Errc::serialization_failure;
                                     co_return tk::Status{};
                                   },
                                   {.isolation = Isolation::serializable, .max_attempts = 3});
  });
  EXPECT_TRUE(r.ok()) << describe(r);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(query("SELECT string_agg(id::text, ',') FROM it_pg_tx").text(0, 0), "3");

  calls = 0;
  auto gives_up = run([&]() -> asio::awaitable<tk::Status> {
    co_return co_await transaction(*pool, [&](Connection&) -> asio::awaitable<tk::Status> {
      ++calls;
      co_return Errc::deadlock;
    });
  });
  EXPECT_EQ(gives_up.code(), Errc::deadlock);
  EXPECT_EQ(calls, 3);
}

TEST_F(pgTransaction, RealSerializationConflictIsRetriedAndSucceeds) {
  script(
      "DROP TABLE IF EXISTS it_pg_counter; CREATE TABLE it_pg_counter (id int PRIMARY KEY, n int);"
      "INSERT INTO it_pg_counter VALUES (1, 0)");
  auto pool = make_pool({.size = 2});
  // Two repeatable-read transactions read the counter, then both update it: the second writer
  // gets 40001 once the first commits, and transaction() retries it with a fresh snapshot.
  int attempts = 0;
  auto body = [&](Connection& c) -> asio::awaitable<tk::Status> {
    ++attempts;
    auto r = co_await c.query("SELECT n FROM it_pg_counter WHERE id = 1");
    if (!r.ok()) co_return std::move(r).error();
    const auto next = r.value().int64(0, 0) + 1;
    asio::steady_timer t(co_await asio::this_coro::executor, 50ms);  // make the two overlap
    co_await t.async_wait(asio::use_awaitable);
    auto w = co_await c.query("UPDATE it_pg_counter SET n = $1 WHERE id = 1", args(next));
    if (!w.ok()) co_return std::move(w).error();
    co_return tk::Status{};
  };
  tk::Status a, b;
  int done = 0;
  auto one = [&](tk::Status& out) -> asio::awaitable<void> {
    out = co_await transaction(*pool, body, {.isolation = Isolation::repeatable_read});
    ++done;
  };
  asio::co_spawn(io_, one(a), asio::detached);
  asio::co_spawn(io_, one(b), asio::detached);
  io_.restart();
  io_.run_for(20s);
  ASSERT_EQ(done, 2);
  EXPECT_TRUE(a.ok()) << describe(a);
  EXPECT_TRUE(b.ok()) << describe(b);
  EXPECT_EQ(attempts, 3);
  EXPECT_EQ(query("SELECT n FROM it_pg_counter WHERE id = 1").int64(0, 0), 2);
}

}  // namespace
}  // namespace tk::pg::testing
