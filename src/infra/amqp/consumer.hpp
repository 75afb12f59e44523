#pragma once
// Consumer with manual acks and a bounded prefetch, on its own thread and connection.
//
// The broker sends at most `prefetch` unacknowledged messages (basic.qos), so the hand-over
// queue to the Asio side never holds more than that. Each Delivery must get one verdict: ack()
// (done), requeue() (back to the queue now), or retry() (failed: wait in the retry queue, or go
// to the parking queue after max_attempts). A delivery without a verdict when the connection
// drops (consumer crash, stop(), broker restart) is redelivered by the broker with
// `redelivered` set; verdicts for a delivery from an earlier connection are ignored for the same
// reason. Handlers must therefore be idempotent by message id.
//
// Threading: next() and the verdicts may be called from any thread; next()'s completion runs on
// the token's executor. stop() sends the verdicts already given, then closes and joins.
#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
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

struct Delivery {
  std::uint64_t tag = 0;         // delivery tag on its connection
  std::uint64_t connection = 0;  // which connection delivered it (verdicts on older ones: ignored)
  bool redelivered = false;      // the broker delivered it before (to this or another consumer)
  // 1 + times the message went through the retry queue from this queue (x-death).
  int attempt = 1;
  // Quorum queues: earlier deliveries that ended without ack (x-delivery-count), 0 otherwise.
  std::int64_t delivery_count = 0;
  std::string message_id;
  std::string exchange;
  std::string routing_key;
  std::string content_type;
  std::string body;
  std::map<std::string, std::string> headers;  // string and integer headers
};

struct ConsumerOptions : Options {
  std::string queue;
  std::uint16_t prefetch = 16;
  Topology topology;  // declared after every connect, before consuming
  // retry(): below max_attempts the message is dead-lettered (to the retry queue); at it, it is
  // published to parking_exchange/parking_routing_key (confirmed) and then acked.
  int max_attempts = 5;
  std::string parking_exchange;
  std::string parking_routing_key = "parking";

  // Consumes wq.name with wq's topology, attempts and parking queue.
  static ConsumerOptions for_work_queue(const WorkQueue& wq, std::uint16_t prefetch = 16);
};

class Consumer {
 public:
  // Completions fall back to `ex` when the token has no executor of its own.
  static std::shared_ptr<Consumer> create(asio::any_io_executor ex, Endpoint ep,
                                          ConsumerOptions opt);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void start();
  // Sends the verdicts given so far, closes the connection (unacked deliveries go back to the
  // queue), fails waiting next() calls with Errc::stopped, joins the thread.
  void stop();

  // The next delivery; completion signature void(tk::Result<Delivery>). Waits while there is
  // none (also while disconnected), at most `timeout` (then Errc::timeout; checked every 200 ms
  // while the consumer runs); Errc::stopped after stop().
  template <class Token = asio::use_awaitable_t<>>
  auto next(std::chrono::milliseconds timeout = std::chrono::hours(24 * 365), Token&& token = {}) {
    return asio::async_initiate<Token, void(tk::Result<Delivery>)>(
        [this](auto handler, std::chrono::milliseconds t) {
          wait_next(Handler(std::move(handler)), t);
        },
        token, timeout);
  }

  void ack(const Delivery& d);
  void requeue(const Delivery& d);
  void retry(const Delivery& d);

  bool connected() const;
  std::uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  std::uint64_t retried() const { return retried_.load(std::memory_order_relaxed); }
  std::uint64_t parked() const { return parked_.load(std::memory_order_relaxed); }
  std::uint64_t reconnects() const;
  std::size_t buffered() const;  // deliveries handed over but not yet taken by next()
  // Exceptions that escaped the broker thread's loop; each is logged, the connection is dropped
  // (unacked deliveries return to the queue), and the loop starts again after reconnect_max.
  std::uint64_t failures() const;
  std::string last_error() const;

 private:
  using Handler = asio::any_completion_handler<void(tk::Result<Delivery>)>;
  enum class Verdict { ack, requeue, dead_letter, park };
  struct Command {
    Verdict verdict;
    Delivery d;
  };

  Consumer(asio::any_io_executor ex, Endpoint ep, ConsumerOptions opt);
  struct Waiting {
    detail::Waiter<tk::Result<Delivery>> waiter;
    std::chrono::steady_clock::time_point deadline;
  };
  void wait_next(Handler h, std::chrono::milliseconds timeout);
  void expire_waiters();
  void push(Delivery d);
  void command(Verdict v, const Delivery& d);
  tk::Status setup(detail::Connection& c);
  void serve(detail::Connection& c, std::uint64_t gen);

  asio::any_io_executor ex_;
  Endpoint ep_;
  ConsumerOptions opt_;
  std::unique_ptr<detail::BrokerThread> bt_;  // connection lifecycle, reconnects, supervision

  mutable std::mutex mu_;
  std::deque<Delivery> deliveries_;  // at most prefetch (the broker's bound)
  std::deque<Waiting> waiters_;
  std::deque<Command> commands_;
  std::atomic<std::uint64_t> gen_{0};

  std::atomic<std::uint64_t> delivered_{0}, retried_{0}, parked_{0};
};

}  // namespace tk::amqp
