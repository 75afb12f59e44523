#pragma once
// Shared helpers of the PostgreSQL client's integration tests: a fixture that owns an io_context
// and runs coroutines on it with a deadline, so a hang becomes a test failure instead.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "common/deadline.hpp"
#include "infra/postgres/postgres.hpp"
#include "support/test_env.hpp"

namespace tk::pg::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class PgTest : public ::testing::Test {
 protected:
  // Runs f() (a callable returning asio::awaitable<T>) on io_ until it finishes; throws (failing
  // the test) when it takes longer than LIMIT.
  template <class F>
  auto run(F f, std::chrono::milliseconds limit = 30s) {
    // Under a request deadline when a test set one (common/deadline.hpp), as the server runs
    // a handler.
    asio::any_io_executor ex = io_.get_executor();
    if (request_deadline_ != tk::no_deadline) ex = tk::with_deadline(ex, request_deadline_);
    using T = typename std::invoke_result_t<F&>::value_type;
    bool done = false;
    std::exception_ptr error;
    if constexpr (std::is_void_v<T>) {
      asio::co_spawn(
          ex,
          [&]() -> asio::awaitable<void> {
            try {
              co_await f();
            } catch (...) {
              error = std::current_exception();
            }
            done = true;
          },
          asio::detached);
      drive(done, limit);
      if (error) std::rethrow_exception(error);
      return;
    } else {
      std::optional<T> out;
      asio::co_spawn(
          ex,
          [&]() -> asio::awaitable<void> {
            try {
              out.emplace(co_await f());
            } catch (...) {
              error = std::current_exception();
            }
            done = true;
          },
          asio::detached);
      drive(done, limit);
      if (error) std::rethrow_exception(error);
      return std::move(*out);
    }
  }

  std::shared_ptr<Pool> make_pool(PoolOptions o = {}) {
    if (o.conninfo.empty()) o.conninfo = url_;
    return Pool::create(io_.get_executor(), std::move(o));
  }

  // Runs a SQL script on a short-lived connection; fails the test on error.
  void script(const std::string& sql) {
    auto pool = make_pool({.size = 1});
    auto st = run([&]() -> asio::awaitable<tk::Status> {
      auto lease = co_await pool->acquire();
      if (!lease.ok()) co_return std::move(lease).error();
      co_return co_await lease.value()->exec_script(sql);
    });
    ASSERT_TRUE(st.ok()) << describe(st);
  }

  // One query on a short-lived pool.
  Rows query(const std::string& sql, std::vector<Param> params = {}) {
    auto pool = make_pool({.size = 1});
    auto r = run([&]() -> asio::awaitable<tk::Result<Rows>> {
      co_return co_await pool->query(sql, params);
    });
    if (!r.ok()) throw std::runtime_error("query failed: " + describe(r));
    return std::move(r).value();
  }

  template <class R>
  static std::string describe(const R& r) {
    if (r.ok()) return "ok";
    return r.error().code.message() + " " + boost::json::serialize(r.error().details);
  }

  asio::io_context io_;
  tk::SteadyTime request_deadline_ = tk::no_deadline;  // for coroutines started by run()
  std::string url_ = tk::test::env("TICKETING_PG_URL");

 private:
  void drive(bool& done, std::chrono::milliseconds limit) {
    io_.restart();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      io_.run_one_until(deadline);
      if (io_.stopped() && !done) io_.restart();
    }
    if (!done) throw std::runtime_error("coroutine did not finish within the deadline");
  }
};

}  // namespace tk::pg::testing
