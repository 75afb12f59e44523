#pragma once
// Best-selling events per time window: derived data in Redis (sorted sets per time bucket), fed by
// a consumer of order.paid. Losing it degrades the rankings, never a sale.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "app/async.hpp"
#include "common/clock.hpp"

namespace tk::app {

class RankingStore {
 public:
  virtual ~RankingStore() = default;
  // Adds `seats` (negative: subtracts) to the event in `bucket`, once per `message_id`: the
  // idempotency mark and the increment are one atomic step. False when the message was already
  // counted. `bucket_ttl_ms` collects old buckets; `mark_ttl_ms` bounds the idempotency marks.
  virtual Task<bool> add(std::string message_id, std::string event_id, std::int64_t seats,
                         std::int64_t bucket, Millis bucket_ttl_ms, Millis mark_ttl_ms) = 0;
  // The top `n` events over the union of `buckets`, highest first (ties by event id), from a
  // union kept for `cache_ms` under `cache_name`.
  virtual Task<std::vector<std::pair<std::string, std::int64_t>>> top(
      std::vector<std::int64_t> buckets, std::string cache_name, Millis cache_ms, int n) = 0;
};

}  // namespace tk::app
