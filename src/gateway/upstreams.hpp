#pragma once
// The API processes behind a gateway and their health, process-wide. Every event loop reads
// `healthy()` (an atomic); one loop runs the /readyz checks (check_loop) and owns the state
// machines; any loop may report a failed forward, which takes the upstream out at once.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/metrics.hpp"
#include "common/supervisor.hpp"
#include "gateway/policy.hpp"

namespace tk::gateway {

// "127.0.0.1:8081,127.0.0.1:8082" (IP addresses: the gateway never resolves names on the request
// path); nullopt when an entry is malformed or the list is empty.
std::optional<std::vector<boost::asio::ip::tcp::endpoint>> parse_upstreams(std::string_view list);

struct HealthOptions {
  std::chrono::milliseconds interval{500};  // between checks of one upstream
  std::chrono::milliseconds timeout{1000};  // a check not answered 200 in time failed
  int rise = 2;                             // good checks in a row to come back
  int fall = 2;                             // failed checks in a row to go out
};

class Upstreams {
 public:
  Upstreams(std::vector<boost::asio::ip::tcp::endpoint> eps, HealthOptions o,
            metrics::Registry* metrics = nullptr);
  std::size_t size() const { return entries_.size(); }
  const boost::asio::ip::tcp::endpoint& endpoint(std::size_t i) const { return entries_[i]->ep; }
  bool healthy(std::size_t i) const { return entries_[i]->healthy.load(std::memory_order_relaxed); }
  std::size_t healthy_count() const;
  // Any thread: a connection to it was refused or cut. Out until `rise` checks pass.
  void report_failure(std::size_t i);
  // The /readyz checks, until the supervisor stops (run under Supervisor::spawn_loop).
  boost::asio::awaitable<void> check_loop(Supervisor& sup);

 private:
  struct Entry {
    boost::asio::ip::tcp::endpoint ep;
    std::atomic<bool> healthy{true};
    std::atomic<bool> failed{false};  // a forward failed since the last check
    HealthState state;
    Entry(boost::asio::ip::tcp::endpoint e, const HealthOptions& o)
        : ep(std::move(e)), state(o.rise, o.fall) {}
  };
  boost::asio::awaitable<bool> check_one(const boost::asio::ip::tcp::endpoint& ep);
  void apply(Entry& e, bool ok);

  HealthOptions opt_;
  metrics::Registry* metrics_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace tk::gateway
