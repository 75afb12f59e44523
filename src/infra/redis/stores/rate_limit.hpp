#pragma once
// A rate limit shared by every process that talks to one Redis: GCRA (the generic cell rate
// algorithm) in one Lua script, so N front processes together allow the configured rate, not N
// times it. One key per limited subject holds its theoretical arrival time (TAT, ms); a request is
// allowed when TAT - now <= burst tolerance, and then moves TAT by one emission interval. Time is
// the caller's clock (`now_ms`), so tests move it; the key's TTL only collects garbage.
#include <memory>
#include <string>

#include "app/async.hpp"
#include "common/clock.hpp"
#include "infra/redis/client.hpp"

namespace tk::redisstore {

// The script: KEYS[1] = the subject's key; ARGV = now_ms, emission interval (ms, 1000 / rate),
// tolerance (ms, interval * (burst - 1)). Returns {allowed 0|1, retry_after_ms}.
extern const char* const kGcra;

struct RateDecision {
  bool allowed = false;
  Millis retry_after_ms = 0;  // when refused: how long until one more request fits
};

class SharedRateLimiter {
 public:
  // `rate` requests per second with bursts of up to `burst` requests; keys are prefix + subject.
  SharedRateLimiter(std::shared_ptr<redis::Client> c, std::string prefix, double rate,
                    double burst);
  app::Task<RateDecision> check(std::string_view subject, Millis now_ms);
  // True when `subject` has no request left at `now_ms`; consumes nothing (for limits charged
  // only on failures, such as wrong admin tokens: peeked first, charged by check() on a failure).
  app::Task<bool> exhausted(std::string_view subject, Millis now_ms);

 private:
  std::shared_ptr<redis::Client> c_;
  std::string prefix_;
  double interval_ms_, tolerance_ms_;
};

}  // namespace tk::redisstore
