#pragma once
// Sales rankings in Redis: one sorted set per time bucket (event id -> seats sold), the
// idempotency marks of counted messages and short-lived unions per window. Every key carries the
// hash tag {rank}, so the scripts touch one Redis Cluster slot (the data is small: events x
// buckets of one day).
#include <memory>

#include "app/ports/rankings.hpp"
#include "infra/redis/client.hpp"

namespace tk::redisstore {

class Rankings final : public app::RankingStore {
 public:
  explicit Rankings(std::shared_ptr<redis::Client> c) : c_(std::move(c)) {}
  app::Task<bool> add(std::string message_id, std::string event_id, std::int64_t seats,
                      std::int64_t bucket, Millis bucket_ttl_ms, Millis mark_ttl_ms) override;
  app::Task<std::vector<std::pair<std::string, std::int64_t>>> top(
      std::vector<std::int64_t> buckets, std::string cache_name, Millis cache_ms, int n) override;

  static std::string bucket_key(std::int64_t bucket) {
    return "{rank}:b:" + std::to_string(bucket);
  }
  static std::string mark_key(const std::string& message_id) { return "{rank}:m:" + message_id; }

 private:
  std::shared_ptr<redis::Client> c_;
};

}  // namespace tk::redisstore
