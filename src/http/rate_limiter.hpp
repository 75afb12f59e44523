#pragma once
// In-process token buckets keyed by an account, an address or a queue ticket: polls and
// per-account limits never need a Redis round trip.
//
// Built for the waiting room's poll path, where a million distinct tickets may poll within a few
// seconds: keys are reduced to a 64-bit SipHash under a per-process random key (no string is
// stored, and nobody can aim collisions at another client's bucket), buckets live in 64 shards
// with their own locks (threads rarely meet), and idle buckets are swept when a shard doubles,
// so the cost per call stays O(1) amortised whatever the crowd.
// Thread-safe.
#include <sodium.h>

#include <array>
#include <boost/unordered/unordered_flat_map.hpp>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "common/clock.hpp"

namespace tk::http {

class RateLimiter {
 public:
  // min_sweep: buckets a shard holds before its first sweep (small in tests).
  RateLimiter(double per_second, double burst, std::size_t min_sweep = 4096);
  bool allow(std::string_view key, Millis now);
  // True when `key` has no token left at `now`; consumes nothing (for limits counted only on
  // failures, such as wrong admin tokens: checked first, charged by allow() when one fails).
  bool exhausted(std::string_view key, Millis now) const;
  // Buckets currently remembered (tests and metrics).
  std::size_t size() const;

 private:
  static constexpr std::size_t kShards = 64;
  struct Bucket {
    float tokens;
    Millis last;
  };
  struct alignas(64) Shard {
    mutable std::mutex mu;
    // Open addressing (Boost 1.81): a lookup is usually one cache miss, where a node-based map
    // costs two or more; this was ~5% of a poll's CPU with 20k live tickets.
    boost::unordered_flat_map<std::uint64_t, Bucket> buckets;
    std::size_t sweep_at = 0;
  };
  void sweep(Shard& s, Millis now);
  std::uint64_t hash(std::string_view key) const;

  double rate_, burst_;
  std::size_t min_sweep_;
  std::array<unsigned char, crypto_shorthash_KEYBYTES> key_{};
  std::array<Shard, kShards> shards_;
};

}  // namespace tk::http
