#pragma once
// Log-bucketed latency histogram (HDR-like): 64 linear sub-buckets per power of two, so any
// recorded value is known to within 1/64 (~1.6%) in constant memory, whatever the sample count.
#include <array>
#include <cstdint>

namespace loadgen {

class Histogram {
 public:
  void record(std::int64_t us);
  void merge(const Histogram& o);
  std::uint64_t count() const { return count_; }
  std::int64_t max() const { return max_; }
  // Upper edge of the bucket holding the q-quantile (0 < q <= 1): never under-reports.
  std::int64_t quantile(double q) const;

 private:
  static constexpr int kSubBits = 6;
  static constexpr int kSub = 1 << kSubBits;
  static constexpr int kBuckets = 2 * kSub + 40 * kSub;
  static int index(std::int64_t v);
  static std::int64_t upper(int idx);
  std::array<std::uint64_t, kBuckets> b_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace loadgen
