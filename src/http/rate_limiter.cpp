#include "http/rate_limiter.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace tk::http {

RateLimiter::RateLimiter(double per_second, double burst, std::size_t min_sweep)
    : rate_(per_second), burst_(burst), min_sweep_(std::max<std::size_t>(1, min_sweep)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
  randombytes_buf(key_.data(), key_.size());
  for (auto& s : shards_) s.sweep_at = min_sweep_;
}

std::uint64_t RateLimiter::hash(std::string_view key) const {
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   key_.data());
  std::uint64_t h;
  std::memcpy(&h, out, sizeof h);
  return h;
}

bool RateLimiter::exhausted(std::string_view key, Millis now) const {
  std::uint64_t h = hash(key);
  const Shard& s = shards_[h % kShards];
  std::lock_guard lk(s.mu);
  auto it = s.buckets.find(h);
  if (it == s.buckets.end()) return false;
  double refill = static_cast<double>(std::max<Millis>(0, now - it->second.last)) * rate_ / 1000.0;
  return std::min(burst_, it->second.tokens + refill) < 1;
}

bool RateLimiter::allow(std::string_view key, Millis now) {
  std::uint64_t h = hash(key);
  Shard& s = shards_[h % kShards];
  std::lock_guard lk(s.mu);
  if (s.buckets.size() >= s.sweep_at) sweep(s, now);
  auto [it, fresh] = s.buckets.try_emplace(h, Bucket{static_cast<float>(burst_), now});
  Bucket& b = it->second;
  if (!fresh) {
    double refill = static_cast<double>(std::max<Millis>(0, now - b.last)) * rate_ / 1000.0;
    b.tokens = static_cast<float>(std::min(burst_, b.tokens + refill));
    b.last = std::max(b.last, now);
  }
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

void RateLimiter::sweep(Shard& s, Millis now) {
  // A bucket that has refilled to its burst behaves exactly like a new one: forget it.
  boost::unordered::erase_if(s.buckets, [&](const auto& kv) {
    double refill = static_cast<double>(std::max<Millis>(0, now - kv.second.last)) * rate_ / 1000.0;
    return kv.second.tokens + refill >= burst_;
  });
  // Next sweep when the shard has doubled: O(1) amortised even if nothing could be dropped.
  s.sweep_at = std::max(min_sweep_, s.buckets.size() * 2);
}

std::size_t RateLimiter::size() const {
  std::size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lk(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace tk::http
