#pragma once
// The pre-queue's shuffle, sha256-ctr-fisher-yates-v1: buyers who joined before the sale opened
// get their positions in an order drawn from a 32-byte seed whose SHA-256 (the commitment) was
// published before the pre-queue opened. Once the seed is revealed, anyone recomputes the order
// from it and the published entry list (entry ids sorted ascending); tools/verify_prequeue.py does.
//
//   stream:  block k (k = 0, 1, ...) = SHA-256(seed || uint64_be(k)); draws read its bytes in
//            order, 8 at a time, as a big-endian uint64 (4 draws per block, none straddles two)
//   below(bound): draw x until x < 2^64 - (2^64 mod bound) (no modulo bias); x mod bound
//   a = [0, 1, ..., n-1]; for i = n-1 down to 1: swap(a[i], a[below(i + 1)])
//   the entry at index i of the result gets position i + 1
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tk::domain {

inline constexpr std::string_view kShuffleName = "sha256-ctr-fisher-yates-v1";

using ShuffleSeed = std::array<std::uint8_t, 32>;

// The shuffle's random draws. One SHA-256 per 4 draws, no allocation.
class ShuffleStream {
 public:
  explicit ShuffleStream(const ShuffleSeed& seed);
  // The next 8 bytes of the stream as a big-endian integer.
  std::uint64_t next();
  // Uniform in [0, bound) for bound >= 1, by rejection sampling.
  std::uint64_t below(std::uint64_t bound);

 private:
  void refill();

  std::array<std::uint8_t, 40> msg_{};  // seed || uint64_be(block number)
  std::array<std::uint8_t, 32> block_{};
  std::uint64_t counter_ = 0;
  std::size_t pos_ = 32;  // next unread byte of block_; 32 = none left
};

// The permutation for n entries: element i is the index, in the sorted entry list, of the entry
// that gets position i + 1. n = 0 or 1 draws nothing.
std::vector<std::uint32_t> shuffle_order(const ShuffleSeed& seed, std::uint32_t n);

// The inverse of an order: element k is the position (1-based) of the sorted list's entry k.
// `order` must be a permutation of 0..size-1 (std::out_of_range for an index past the end).
std::vector<std::uint32_t> positions_by_index(const std::vector<std::uint32_t>& order);

// The commitment published before the pre-queue opens: SHA-256 of the seed's 32 bytes, as 64
// lowercase hex digits.
std::string seed_commitment_hex(const ShuffleSeed& seed);

}  // namespace tk::domain
