#pragma once
// Helpers for the AMQP adapter's tests on the fixture's RabbitMQ: run a coroutine body with a
// hard deadline, unique queue names per test, queue depths read straight from the broker.
#include <amqp.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <string>
#include <thread>

#include "infra/amqp/connection.hpp"
#include "infra/amqp/consumer.hpp"
#include "infra/amqp/publisher.hpp"
#include "support/test_env.hpp"

namespace tk::amqp::testing {

namespace asio = boost::asio;
using namespace std::chrono_literals;

#define CO_ASSERT(cond)                               \
  do {                                                \
    if (!(cond)) {                                    \
      ADD_FAILURE() << "CO_ASSERT failed: " << #cond; \
      co_return;                                      \
    }                                                 \
  } while (0)

inline Endpoint endpoint() {
  auto ep = Endpoint::parse(tk::test::env("TICKETING_AMQP_URL"));
  if (!ep) throw std::runtime_error("bad TICKETING_AMQP_URL");
  return *ep;
}

template <class O>
O fast(O o) {
  o.reconnect_min = 50ms;
  o.reconnect_max = 500ms;
  o.connect_timeout = 2000ms;
  return o;
}

// A queue name no other test (or earlier run on the same broker) uses.
inline std::string unique_name(const std::string& base) {
  static std::atomic<int> n{0};
  return "t." + base + "." + std::to_string(::getpid()) + "." +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000) +
         "." + std::to_string(++n);
}

// Ready messages in `queue` (not counting deliveries awaiting an ack), from a passive declare.
inline std::int64_t queue_depth(const std::string& queue) {
  detail::Connection c;
  Options o;
  if (!c.open(endpoint(), o, 1)) throw std::runtime_error("queue_depth: cannot connect");
  auto* ok = amqp_queue_declare(c.get(), 1, detail::bytes(queue), 1, 0, 0, 0, amqp_empty_table);
  if (!ok) throw std::runtime_error("queue_depth: no queue " + queue);
  return ok->message_count;
}

// The queue's ready messages once they are `want`, or what it has after `limit`: the messages a
// closed connection left unacknowledged return to the queue a moment after the close, not with
// it. A count that stays off (a verdict that settled a delivery it should not have) still fails.
inline std::int64_t queue_depth_reaching(const std::string& queue, std::int64_t want,
                                         std::chrono::milliseconds limit = 5s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto n = queue_depth(queue);
    if (n == want || std::chrono::steady_clock::now() >= until) return n;
    std::this_thread::sleep_for(50ms);
  }
}

// Runs `body` on a fresh io_context; fails the test if it has not finished within `limit`.
inline void run(std::function<asio::awaitable<void>(asio::any_io_executor)> body,
                std::chrono::seconds limit = 60s) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(io, body(io.get_executor()), [&](std::exception_ptr e) {
    failure = e;
    done = true;
  });
  auto until = std::chrono::steady_clock::now() + limit;
  while (!done && std::chrono::steady_clock::now() < until) {
    io.run_for(100ms);
    if (io.stopped()) io.restart();
  }
  if (!done) ADD_FAILURE() << "test body did not finish within " << limit.count() << " s";
  if (failure) std::rethrow_exception(failure);
}

}  // namespace tk::amqp::testing
