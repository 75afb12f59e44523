#pragma once
// Pub/sub on a dedicated connection, re-subscribing after every reconnect.
//
// Threading: lives on one executor (one io_context thread). All public functions may be called
// from any thread (they are dispatched to the executor); handlers run on the executor and must
// not block.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "infra/redis/endpoint.hpp"
#include "infra/redis/protocol.hpp"

namespace tk::redis {

namespace asio = boost::asio;

class Subscriber : public std::enable_shared_from_this<Subscriber> {
 public:
  // `channel` is the channel a message was published to (also for pattern subscriptions).
  using Handler = std::function<void(std::string_view channel, std::string_view message)>;

  static std::shared_ptr<Subscriber> create(asio::any_io_executor ex, Endpoint ep,
                                            Options opt = {});
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Remembered and re-subscribed after each reconnect; sent at once when connected.
  void subscribe(std::string channel);
  void psubscribe(std::string pattern);
  void on_message(Handler h);
  // Called after each (re)connect once every subscription is confirmed, so owners can resync
  // state they may have missed while disconnected.
  void on_connect(std::function<void()> h);

  void start();
  void stop();
  // True once subscriptions are confirmed, until the connection drops.
  bool connected() const { return connected_.load(std::memory_order_relaxed); }
  std::uint64_t reconnects() const { return reconnects_.load(std::memory_order_relaxed); }

 private:
  Subscriber(asio::any_io_executor ex, Endpoint ep, Options opt);

  asio::awaitable<void> run();
  asio::awaitable<void> flush(std::uint64_t gen);
  asio::awaitable<void> watchdog(std::uint64_t gen);
  void send(std::string_view cmd, const std::string& arg);
  void handle(Reply& r);
  void announce();
  void drop(std::uint64_t gen);
  void do_stop();

  asio::any_io_executor ex_;
  Endpoint ep_;
  Options opt_;
  asio::ip::tcp::socket socket_;
  detail::Parser parser_;
  asio::steady_timer backoff_timer_;
  asio::steady_timer ping_timer_;

  std::vector<std::string> channels_, patterns_;
  Handler on_message_;
  std::function<void()> on_connect_;

  std::string out_;
  bool writing_ = false;
  std::size_t confirms_pending_ = 0;  // subscribe confirmations still expected
  bool announced_ = false;            // on_connect called for the current connection
  bool ever_connected_ = false;
  std::chrono::steady_clock::time_point last_rx_{};
  std::uint64_t conn_gen_ = 0, run_gen_ = 0;
  bool running_ = false, loop_alive_ = false;

  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> reconnects_{0};
};

}  // namespace tk::redis
