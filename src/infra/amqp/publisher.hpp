#pragma once
// Publisher with publisher confirms on its own thread and connection (rabbitmq-c is blocking).
//
// publish() completes only once the broker has confirmed the message (basic.ack): it is then
// stored (persistent, on a durable queue) or, for a mandatory message that matched no queue,
// reported as Errc::unroutable (basic.return). Messages that were sent but not confirmed when
// the connection dropped are sent again after the reconnect, so delivery is at least once:
// consumers deduplicate by message id. A message not confirmed within confirm_timeout fails with
// Errc::timeout (it may still arrive). The queue of messages not yet confirmed is bounded
// (max_pending): past it publish() fails at once with Errc::overloaded.
//
// Threading: publish() may be called from any thread and any executor; its completion runs on
// the completion token's executor (the awaiting coroutine's). start()/stop() from any thread but
// the publisher's own; stop() joins the thread (at most about connect_timeout/rpc_timeout while a
// connect is in progress). Destroying the Publisher stops it.
#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/result.hpp"
#include "infra/amqp/endpoint.hpp"
#include "infra/amqp/errors.hpp"
#include "infra/amqp/handoff.hpp"
#include "infra/amqp/topology.hpp"

namespace tk::amqp {

namespace asio = boost::asio;

namespace detail {
class Connection;
class BrokerThread;
}  // namespace detail

struct Message {
  std::string exchange;
  std::string routing_key;
  std::string body;
  std::string message_id;  // e.g. the outbox id; empty: the publisher numbers messages itself
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  bool mandatory = true;   // unroutable -> Errc::unroutable instead of silently dropped
  bool persistent = true;  // delivery mode 2: survives a broker restart on a durable queue
};

struct PublisherOptions : Options {
  std::size_t max_pending = 10000;  // messages queued or awaiting their confirm
  std::chrono::milliseconds confirm_timeout{30000};
  Topology topology;  // declared after every connect, before anything is published
};

class Publisher {
 public:
  // Completions fall back to `ex` when the token has no executor of its own.
  static std::shared_ptr<Publisher> create(asio::any_io_executor ex, Endpoint ep,
                                           PublisherOptions opt = {});
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Starts the thread: connects, declares the topology, reconnects with backoff after drops.
  void start();
  // Fails everything not yet confirmed, and later publishes until start(), with Errc::stopped;
  // joins the thread. Publishes before the first start() wait for it.
  void stop();

  // Completion signature void(tk::Status). With the default token:
  //   tk::Status st = co_await publisher->publish(msg);
  template <class Token = asio::use_awaitable_t<>>
  auto publish(const Message& m, Token&& token = {}) {
    return asio::async_initiate<Token, void(tk::Status)>(
        [this](auto handler, const Message& msg) { submit(msg, Handler(std::move(handler))); },
        token, m);
  }

  bool connected() const;
  std::size_t pending() const { return pending_.load(std::memory_order_relaxed); }
  // Counters: confirmed (acked and routed), nacked, returned (unroutable), refused because the
  // queue was full, sent again after a reconnect, successful reconnects.
  std::uint64_t confirmed() const { return confirmed_.load(std::memory_order_relaxed); }
  std::uint64_t nacked() const { return nacked_.load(std::memory_order_relaxed); }
  std::uint64_t returned() const { return returned_.load(std::memory_order_relaxed); }
  std::uint64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  std::uint64_t republished() const { return republished_.load(std::memory_order_relaxed); }
  std::uint64_t reconnects() const;
  // Exceptions that escaped the broker thread's loop; each is logged, the connection is dropped,
  // unconfirmed messages are kept, and the loop starts again after reconnect_max.
  std::uint64_t failures() const;
  std::string last_error() const;

#ifdef TK_TEST_HOOKS
  // Test builds only: the broker thread throws after its next send, as an unexpected bug would.
  void fail_next_round_for_test() { fail_next_round_ = true; }
#endif

 private:
  using Handler = asio::any_completion_handler<void(tk::Status)>;
  struct Request {
    Message msg;
    detail::Waiter<tk::Status> waiter;
    std::chrono::steady_clock::time_point deadline;
    bool returned = false;
  };

  Publisher(asio::any_io_executor ex, Endpoint ep, PublisherOptions opt);
  void submit(const Message& m, Handler h);
  // `later`: called on a caller's thread (stop()), not the broker thread.
  void finish(Request& r, tk::Status st, bool later = false);
  tk::Status setup(detail::Connection& c);
  void serve(detail::Connection& c);
  void requeue_inflight();
  void fail_queued(std::chrono::steady_clock::time_point now, bool all, Errc why,
                   bool later = false);

  asio::any_io_executor ex_;
  Endpoint ep_;
  PublisherOptions opt_;
  std::unique_ptr<detail::BrokerThread> bt_;  // connection lifecycle, reconnects, supervision

  std::mutex mu_;
  std::deque<Request> queue_;                  // not yet sent (or to be sent again), oldest first
  std::map<std::uint64_t, Request> inflight_;  // broker thread only: sent, by delivery tag
  std::uint64_t next_id_ = 0;

  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> confirmed_{0}, nacked_{0}, returned_{0}, rejected_{0},
      republished_{0};
#ifdef TK_TEST_HOOKS
  std::atomic<bool> fail_next_round_{false};
#endif
};

}  // namespace tk::amqp
