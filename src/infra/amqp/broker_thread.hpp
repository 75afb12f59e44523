#pragma once
// Internal: the lifecycle the publisher and the consumer share. One thread owns one blocking
// rabbitmq-c connection at a time: connect, set up (declare, qos, confirm.select...), serve until
// the connection is lost or stop(), reconnect with doubling backoff; an exception escaping a round
// is logged, counted and the loop starts again after reconnect_max (supervision). The client's
// own protocol work lives in the hooks.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.hpp"
#include "infra/amqp/connection.hpp"
#include "infra/amqp/endpoint.hpp"

namespace tk::amqp::detail {

class BrokerThread {
 public:
  struct Hooks {
    // After the connection opened: channel setup. A failed status counts as a failed connect.
    std::function<tk::Status(Connection&)> setup;
    // Until the connection is lost or stopping(); returns the reason it was lost (empty: stop).
    std::function<void(Connection&)> serve;
    // Every wake-up (at most kTick apart) while waiting out a backoff: expire deadlines.
    std::function<void()> idle;
    // After an exception escaped a round, before the pause (e.g. keep unconfirmed messages).
    std::function<void()> after_failure;
    // After each served connection ended (e.g. drop what belonged to it).
    std::function<void()> after_serve;
  };
  static constexpr std::chrono::milliseconds kTick{200};  // bound on one wait

  // `kind` names the client in logs ("publisher", "consumer"); `label` adds e.g. the queue.
  BrokerThread(std::string kind, std::string label, Endpoint ep, Options opt, int channels,
               Hooks hooks);
  ~BrokerThread();  // stops
  BrokerThread(const BrokerThread&) = delete;
  BrokerThread& operator=(const BrokerThread&) = delete;

  void start();
  // Ends serving and joins (bounded by connect/rpc timeouts while a connect is in progress).
  void stop();
  // stop() was called (and start() not since): no new work should be accepted.
  bool stopping() const { return stopping_.load(); }
  // stop() has joined the thread: nothing will ever serve queued work until start().
  bool stopped() const { return stopped_.load(); }

  Waker& waker() { return *waker_; }
  // Waits `d` (cut short by stop()), calling the idle hook on every wake-up.
  void pause(std::chrono::milliseconds d);

  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }
  std::uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  std::string last_error() const;
  void set_last_error(std::string e);

 private:
  void thread_main();
  void run();

  std::string kind_, label_;
  Endpoint ep_;
  Options opt_;
  int channels_;
  Hooks hooks_;
  std::unique_ptr<Waker> waker_;
  std::mutex mu_;  // thread_
  std::thread thread_;
  std::atomic<bool> stopping_{false}, stopped_{false};
  bool connected_before_ = false;  // thread only: later connects count as reconnects
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> reconnects_{0}, failures_{0};
  mutable std::mutex err_mu_;
  std::string last_error_;
};

}  // namespace tk::amqp::detail
