#pragma once
// Timer heap: one Asio timer for many sleeping buyers. A million waiting buyers cost 16 bytes
// each here instead of a steady_timer apiece.
#include <boost/asio.hpp>
#include <cstdint>
#include <functional>
#include <limits>
#include <queue>
#include <vector>

#include "clock.hpp"

namespace loadgen {

class Scheduler {
 public:
  Scheduler(boost::asio::io_context& io, std::function<void(std::uint32_t)> fire)
      : timer_(io), fire_(std::move(fire)) {}

  void at(std::int64_t ns, std::uint32_t id) {
    heap_.push(Entry{ns, id});
    arm();
  }
  std::size_t size() const { return heap_.size(); }
  void clear() {
    heap_ = {};
    armed_ = kNever;
    timer_.cancel();
  }

 private:
  struct Entry {
    std::int64_t ns;
    std::uint32_t id;
    bool operator>(const Entry& o) const { return ns > o.ns; }
  };
  static constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

  void arm() {
    if (heap_.empty()) return;
    std::int64_t t = heap_.top().ns;
    if (t >= armed_) return;  // the pending wait fires earlier and re-arms
    armed_ = t;
    timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(t)));
    timer_.async_wait([this](boost::system::error_code ec) {
      if (ec == boost::asio::error::operation_aborted) return;  // superseded by an earlier one
      armed_ = kNever;
      std::int64_t now = now_ns();
      while (!heap_.empty() && heap_.top().ns <= now) {
        auto id = heap_.top().id;
        heap_.pop();
        fire_(id);
      }
      arm();
    });
  }

  boost::asio::steady_timer timer_;
  std::function<void(std::uint32_t)> fire_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> heap_;
  std::int64_t armed_ = kNever;
};

}  // namespace loadgen
