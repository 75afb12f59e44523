#include "histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace loadgen {

// Values below 2*kSub are exact; above, bucket = (exponent, top kSubBits+1 bits).
int Histogram::index(std::int64_t v) {
  if (v < 0) v = 0;
  if (v < 2 * kSub) return static_cast<int>(v);
  int msb = 63 - std::countl_zero(static_cast<std::uint64_t>(v));
  int shift = msb - kSubBits;
  int idx = 2 * kSub + (shift - 1) * kSub + static_cast<int>((v >> shift) - kSub);
  return std::min(idx, kBuckets - 1);
}

std::int64_t Histogram::upper(int idx) {
  if (idx < 2 * kSub) return idx;
  int shift = (idx - 2 * kSub) / kSub + 1;
  std::int64_t sub = (idx - 2 * kSub) % kSub + kSub;
  return ((sub + 1) << shift) - 1;
}

void Histogram::record(std::int64_t us) {
  ++b_[index(us)];
  ++count_;
  max_ = std::max(max_, us);
}

void Histogram::merge(const Histogram& o) {
  for (int i = 0; i < kBuckets; ++i) b_[i] += o.b_[i];
  count_ += o.count_;
  max_ = std::max(max_, o.max_);
}

std::int64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += b_[i];
    if (seen >= rank) return std::min(upper(i), max_);
  }
  return max_;
}

}  // namespace loadgen
