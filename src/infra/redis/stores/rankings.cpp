#include "infra/redis/stores/rankings.hpp"

#include "app/errors.hpp"
#include "infra/redis/errors.hpp"
#include "infra/redis/stores/store_errors.hpp"

namespace tk::redisstore {

using app::Task;

namespace {
// KEYS: mark, bucket.  ARGV: event id, seats, bucket TTL ms, mark TTL ms.  -> 1 counted | 0 seen
// The mark and the increment happen together or not at all: a message redelivered after a crash
// (before the consumer registry recorded it done) finds its mark and counts nothing.
constexpr const char* kAdd = R"lua(
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[4]) then return 0 end
redis.call('ZINCRBY', KEYS[2], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
)lua";

// KEYS: union cache, buckets...  ARGV: cache TTL ms, n.  -> {member, score, ...} highest first
// One union per window and newest bucket serves every reader for the cache TTL.
constexpr const char* kTop = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 and #KEYS > 1 then
  local src = {}
  for i = 2, #KEYS do src[#src + 1] = KEYS[i] end
  if redis.call('ZUNIONSTORE', KEYS[1], #src, unpack(src)) > 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[1])
  end
end
return redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1, 'REV', 'WITHSCORES')
)lua";

// One Script object per source for the process (its id keys the clients' SHA cache).
const redis::Script& add_script() {
  static const redis::Script s(kAdd);
  return s;
}
const redis::Script& top_script() {
  static const redis::Script s(kTop);
  return s;
}
}  // namespace

Task<bool> Rankings::add(std::string message_id, std::string event_id, std::int64_t seats,
                         std::int64_t bucket, Millis bucket_ttl_ms, Millis mark_ttl_ms) {
  std::vector<std::string> keys;
  keys.push_back(mark_key(message_id));
  keys.push_back(bucket_key(bucket));
  std::vector<std::string> args;
  args.push_back(std::move(event_id));
  args.push_back(std::to_string(seats));
  args.push_back(std::to_string(bucket_ttl_ms));
  args.push_back(std::to_string(mark_ttl_ms));
  auto r = co_await c_->eval(add_script(), std::move(keys), std::move(args));
  if (!r.ok()) co_return map_error(std::move(r).error());
  co_return r->to_int().value_or(0) == 1;
}

Task<std::vector<std::pair<std::string, std::int64_t>>> Rankings::top(
    std::vector<std::int64_t> buckets, std::string cache_name, Millis cache_ms, int n) {
  std::vector<std::string> keys;
  keys.reserve(buckets.size() + 1);
  // The newest bucket is part of the cache's name: a union never outlives the window it was for.
  keys.push_back("{rank}:w:" + cache_name + ":" +
                 (buckets.empty() ? std::string("none") : std::to_string(buckets.front())));
  for (auto b : buckets) keys.push_back(bucket_key(b));
  std::vector<std::string> args;
  args.push_back(std::to_string(std::max<Millis>(cache_ms, 1)));
  args.push_back(std::to_string(n));
  auto r = co_await c_->eval(top_script(), std::move(keys), std::move(args));
  if (!r.ok()) co_return map_error(std::move(r).error());
  std::vector<std::pair<std::string, std::int64_t>> out;
  const auto& el = r->elements;
  for (std::size_t i = 0; i + 1 < el.size(); i += 2) {
    // Scores come back as decimal strings ("12" or, after ZINCRBY, possibly "12.0"-free integers).
    auto v = el[i + 1].to_int();
    if (!v) {
      try {
        v = static_cast<long long>(std::stod(el[i + 1].str));
      } catch (...) {
        v = 0;
      }
    }
    out.emplace_back(el[i].str, *v);
  }
  co_return out;
}

}  // namespace tk::redisstore
