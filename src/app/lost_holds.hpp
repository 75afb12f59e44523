#pragma once
// Releases holds whose hold command lost its answer (timed out, or in flight when the Redis
// connection dropped). The script may have run anyway: the buyer got 503 and does not know the
// hold id, so its seats and the account's quota would stay locked for the whole hold TTL. The
// release is the compare-and-delete of an explicit release (seats held under another hold id are
// never touched), retried with backoff while Redis is still stuck, until Redis answers or the
// hold has expired by itself.
//
// Threading: one instance per io_context (in Flights), no locks; the counters may be read from
// any thread.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.hpp"

namespace tk::app {

struct Deps;

struct LostHold {
  std::string perf_id;
  std::string hold_id;
  std::string account_id;
  Millis expires_at = 0;  // after it the hold no longer binds anything: no more retries
};

struct LostHoldOptions {
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{2000};
  std::size_t max_in_flight = 4096;  // per thread; past it the hold is left to expire
};

class LostHolds {
 public:
  struct Counters {
    std::atomic<std::uint64_t> started{0};
    std::atomic<std::uint64_t> released{0};  // the hold had been written: now released
    std::atomic<std::uint64_t> absent{0};    // the script had not run (or the hold was gone)
    std::atomic<std::uint64_t> expired{0};   // Redis stuck until the hold expired by itself
    std::atomic<std::uint64_t> skipped{0};   // over max_in_flight: left to expire
    std::atomic<std::uint64_t> failed{0};    // the release task ended with an exception
    std::atomic<std::uint64_t> in_flight{0};
  };

  LostHolds() : LostHolds(LostHoldOptions{}) {}
  explicit LostHolds(LostHoldOptions o);
  // Starts the release in the background on `ex` (the caller's io_context); `d` must stay valid
  // while that io_context runs. Every outcome is logged.
  void release(const boost::asio::any_io_executor& ex, const Deps& d, const LostHold& h);
  const Counters& counters() const { return *counters_; }

 private:
  LostHoldOptions opt_;
  // Shared with the tasks: a task destroyed with its io_context may outlive this object.
  std::shared_ptr<Counters> counters_;
};

}  // namespace tk::app
