#pragma once
// Setup-time calls made once per run (blocking, on their own connection): the performance's
// settings, the admin stats, and the queue settings PATCH of the hold/order scenarios.
#include <cstdint>
#include <optional>
#include <string>

#include "http_pool.hpp"
#include "options.hpp"

namespace loadgen {

struct PerfInfo {
  std::string status;
  int max_seats_per_order = 4;
  int hold_ttl_seconds = 300;
  bool prequeue = false;       // a queue_opens_at: joins before the opening wait unordered
  int presence_timeout_s = 0;  // queue.presence_timeout_seconds (0: off)
  // Queue settings and capacity need the admin token.
  std::optional<int> admit_per_interval, interval_ms, max_active, access_ttl_seconds;
  std::optional<std::int64_t> capacity, sold;
};

// One request on a fresh connection; status 0 on a transport error.
Reply blocking_request(const Options& o, const std::string& raw);

// GET /v1/performances/{pid}, then (admin token) the admin view and stats.
PerfInfo fetch_perf(const Options& o);
// PATCH the queue to admit `admit` every `interval_ms` with `max_active` (admin token needed).
bool patch_queue(const Options& o, int admit, int interval_ms, int max_active);

}  // namespace loadgen
