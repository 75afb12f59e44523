#include "domain/prequeue_shuffle.hpp"

#include <sodium.h>

#include <utility>

#include "common/crypto/encoding.hpp"

namespace tk::domain {

ShuffleStream::ShuffleStream(const ShuffleSeed& seed) {
  for (std::size_t i = 0; i < seed.size(); ++i) msg_[i] = seed[i];
}

void ShuffleStream::refill() {
  for (int b = 0; b < 8; ++b) msg_[32 + b] = static_cast<std::uint8_t>(counter_ >> (56 - 8 * b));
  ++counter_;
  crypto_hash_sha256(block_.data(), msg_.data(), msg_.size());
  pos_ = 0;
}

std::uint64_t ShuffleStream::next() {
  if (pos_ == block_.size()) refill();
  std::uint64_t x = 0;
  for (int b = 0; b < 8; ++b) x = (x << 8) | block_[pos_ + b];
  pos_ += 8;
  return x;
}

std::uint64_t ShuffleStream::below(std::uint64_t bound) {
  // 2^64 mod bound, in 64 bits; 0 when bound is a power of two (every draw is accepted).
  const std::uint64_t rem = (std::uint64_t{0} - bound) % bound;
  const std::uint64_t limit = std::uint64_t{0} - rem;  // 2^64 - rem when rem > 0
  for (;;) {
    std::uint64_t x = next();
    if (rem == 0 || x < limit) return x % bound;
  }
}

std::vector<std::uint32_t> shuffle_order(const ShuffleSeed& seed, std::uint32_t n) {
  std::vector<std::uint32_t> a(n);
  for (std::uint32_t i = 0; i < n; ++i) a[i] = i;
  ShuffleStream s(seed);
  for (std::uint32_t i = n > 0 ? n - 1 : 0; i >= 1; --i) {
    auto j = static_cast<std::uint32_t>(s.below(std::uint64_t{i} + 1));
    std::swap(a[i], a[j]);
  }
  return a;
}

std::vector<std::uint32_t> positions_by_index(const std::vector<std::uint32_t>& order) {
  std::vector<std::uint32_t> pos(order.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    pos.at(order[i]) = static_cast<std::uint32_t>(i + 1);
  return pos;
}

std::string seed_commitment_hex(const ShuffleSeed& seed) {
  return crypto::sha256_hex(
      std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()));
}

}  // namespace tk::domain
