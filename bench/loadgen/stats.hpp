#pragma once
// Per-step request statistics: counts, latency histogram, errors by "status code".
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "histogram.hpp"

namespace loadgen {

enum class Step : int { join, poll, seats, hold, order, pay, release, sections, count };
inline constexpr std::array<const char*, static_cast<int>(Step::count)> kStepNames = {
    "join", "poll", "seats", "hold", "order", "pay", "release", "sections"};

struct StepStats {
  std::uint64_t requests = 0;
  std::uint64_t ok = 0;       // 2xx
  std::uint64_t refused = 0;  // 429 and 503: told to come back (Retry-After)
  Histogram latency;          // microseconds, intended send time -> response received; all
  Histogram accepted;         // the same, answers other than refusals and transport errors
  Histogram refusal;          // the same, refusals only: how fast "come back later" came
  Histogram to_success;       // the step's first try's intended send time -> its 2xx
  // The same answers split at the moment the request was handed to a connection: before it, the
  // client's own wait (a free pooled connection, a late timer); after it, the wire (the service
  // and loopback), for accepted answers and refusals apart. The client's wait split again at the
  // moment the request reached the pool: before it the client's lateness (its timers fire late
  // when its core is busy), after it the wait for a free connection.
  Histogram client_wait;
  Histogram client_late;
  Histogram pool_wait;
  Histogram accepted_wire;
  Histogram refusal_wire;
  std::map<std::string, std::uint64_t> errors;

  // status 0: transport error (detail = its message); otherwise detail = the API error code.
  // `to_success_us` < 0: not a 2xx, or not tracked. `wire_us` < 0: not split (see above).
  void record(int status, std::string_view detail, std::int64_t latency_us,
              std::int64_t to_success_us = -1, std::int64_t wire_us = -1,
              std::int64_t pool_wait_us = -1);
  void merge(const StepStats& o);
};

struct Stats {
  std::array<StepStats, static_cast<int>(Step::count)> steps;
  StepStats& operator[](Step s) { return steps[static_cast<int>(s)]; }
  const StepStats& operator[](Step s) const { return steps[static_cast<int>(s)]; }
  void merge(const Stats& o) {
    for (std::size_t i = 0; i < steps.size(); ++i) steps[i].merge(o.steps[i]);
  }
};

}  // namespace loadgen
