#pragma once
// Helpers for Redis integration tests: run a coroutine body on an io_context with a hard deadline,
// run fault switches off the I/O thread, poll for conditions without busy loops.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "infra/redis/client.hpp"
#include "infra/redis/subscriber.hpp"
#include "support/test_env.hpp"

namespace tk::redis::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Like ASSERT_TRUE inside a coroutine (gtest's ASSERT_* use `return`).
#define CO_ASSERT(cond)                               \
  do {                                                \
    if (!(cond)) {                                    \
      ADD_FAILURE() << "CO_ASSERT failed: " << #cond; \
      co_return;                                      \
    }                                                 \
  } while (0)

inline Endpoint endpoint() {
  auto ep = Endpoint::parse(tk::test::env("TICKETING_REDIS_URL"));
  if (!ep) throw std::runtime_error("bad TICKETING_REDIS_URL");
  return *ep;
}

inline Options fast_options() {
  Options o;
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  return o;
}

inline bool redis_up() {
  std::string cmd = "redis-cli -p " + tk::test::env("TK_REDIS_PORT") + " ping >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Leaves the shared Redis running, unpaused and empty whatever a test did to it.
inline void reset_redis() {
  if (!redis_up()) tk::test::servers("redis-start");
  std::string cmd = "redis-cli -p " + tk::test::env("TK_REDIS_PORT") +
                    " client unpause >/dev/null 2>&1; redis-cli -p " +
                    tk::test::env("TK_REDIS_PORT") + " flushall >/dev/null 2>&1";
  (void)std::system(cmd.c_str());
}

class RedisTest : public ::testing::Test {
 protected:
  void SetUp() override { reset_redis(); }
  void TearDown() override { reset_redis(); }
};

// Runs `body()` (returning asio::awaitable<void>) on a fresh io_context. Fails if it does not
// finish within `limit`, and if work is still left afterwards (a client not shut down cleanly).
template <class Body>
void run(Body body, std::chrono::milliseconds limit = 10s) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr error;
  asio::co_spawn(io, body(), [&](std::exception_ptr e) {
    done = true;
    error = e;
  });
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done && !io.stopped() && std::chrono::steady_clock::now() < deadline) {
    io.run_one_until(deadline);
  }
  ASSERT_TRUE(done) << "test body did not finish within " << limit.count() << " ms";
  if (error) std::rethrow_exception(error);
  io.run_for(3s);
  EXPECT_TRUE(io.stopped()) << "work left after the body: a client did not shut down";
}

// Runs `f` (blocking: a fixture switch) on a thread of its own while the I/O thread keeps
// running; resumes with its result, or rethrows what it threw.
template <typename T, typename F>
asio::awaitable<T> off_io_thread(F f) {
  T out{};
  std::exception_ptr err;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      // Captures only references: GCC 12 destroys non-trivial captures of an initiation lambda
      // twice inside use_awaitable's coroutine.
      [&err, &f, &out](auto handler) {
        std::thread([h = std::move(handler), &f, &err, &out]() mutable {
          auto ex = asio::get_associated_executor(h);
          auto work = asio::prefer(ex, asio::execution::outstanding_work.tracked);
          try {
            out = f();
          } catch (...) {
            err = std::current_exception();
          }
          asio::post(work, std::move(h));
        }).detach();
      },
      asio::use_awaitable);
  if (err) std::rethrow_exception(err);
  co_return out;
}

// Runs tests/support/servers.sh CMD on another thread so the I/O thread keeps running.
inline asio::awaitable<void> servers(std::string cmd) {
  auto run = [&cmd] {  // a named local: no temporaries inside co_await (GCC 12)
    tk::test::servers(cmd);
    return true;
  };
  co_await off_io_thread<bool>(run);
}

inline asio::awaitable<void> sleep(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);
}

// Polls `pred` every 5 ms until true or `limit`; returns the final value.
inline asio::awaitable<bool> wait_until(std::function<bool()> pred,
                                        std::chrono::milliseconds limit = 5s) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= end) co_return false;
    co_await sleep(5ms);
  }
  co_return true;
}

// Stops the client when the test body leaves, even through a failed CO_ASSERT.
template <class T>
struct StopOnExit {
  std::shared_ptr<T> p;
  ~StopOnExit() { p->stop(); }
};

// Creates and starts a client on the current coroutine's executor and waits until connected.
inline asio::awaitable<std::shared_ptr<Client>> connected_client(Options o = fast_options(),
                                                                 Endpoint ep = endpoint()) {
  auto c = Client::create(co_await asio::this_coro::executor, std::move(ep), o);
  c->start();
  co_await wait_until([&] { return c->connected(); }, 3s);
  co_return c;
}

inline std::string error_text(const tk::Error& e) {
  auto it = e.details.find("redis");
  return it != e.details.end() && it->value().is_string() ? std::string(it->value().as_string())
                                                          : std::string();
}

}  // namespace tk::redis::testing
