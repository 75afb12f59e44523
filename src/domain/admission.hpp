#pragma once
// Waiting-room arithmetic. The Redis tick script performs exactly this computation atomically;
// keeping it here as pure functions lets the rules be unit-tested without a server.
#include <cstdint>

#include "common/clock.hpp"

namespace tk::domain {

struct TickInput {
  std::int64_t tail = 0;     // last position handed out
  std::int64_t serving = 0;  // every position <= serving is admitted
  std::int64_t active = 0;   // admitted within access_ttl minus finished
  std::int64_t admit_per_interval = 0;
  std::int64_t max_active = 0;
  bool paused = false;
};

// k = max(0, min(admit_per_interval, max_active - active)); serving' = min(tail, serving + k).
// Never past the tail, never over max_active (also when the cap was lowered below active).
std::int64_t next_serving(const TickInput& in);

// Whether a tick may run now: compare-and-set on (sequence, last tick time). A process whose view
// of the sequence is stale, or that comes within one interval of the last tick, must not admit.
bool tick_due(std::int64_t expected_seq, std::int64_t current_seq, Millis last_tick, Millis now,
              Millis interval_ms);

// People before `position` not yet admitted (0 once admitted).
std::int64_t ahead_of(std::int64_t position, std::int64_t serving);

// Estimated wait from the measured admission rate (people/s); falls back to the configured rate
// when nothing was measured yet (a lull, or a paused sale).
std::int64_t estimated_wait_seconds(std::int64_t ahead, double measured_rate_per_s,
                                    double configured_rate_per_s);

// Seconds until the next poll: 1 s near the front, about a quarter of the expected wait further
// back, so the back of a long queue polls rarely (a million waiting buyers polling every 30 s
// would be most of an on-sale's traffic). Capped at a quarter of the access window (an admission
// the estimate did not foresee costs a buyer at most a quarter of their window) and at 120 s; at
// 30 s while no admission rate is known (paused or not yet open: it may resume any moment).
int retry_after_seconds(std::int64_t ahead, std::int64_t estimated_wait_s,
                        std::int64_t access_ttl_s, bool rate_known);

}  // namespace tk::domain
