#pragma once
// Prometheus metrics registry (text exposition format 0.0.4).
//
// Updates are lock-free (relaxed atomics) so hot paths can count without contention on a mutex;
// only registration and rendering lock. A metric object lives as long as its Registry and never
// moves, so callers look it up once and keep the reference (the lookup is the expensive part).
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tk::metrics {

// Label name/value pairs; order does not matter (they are sorted by name on registration).
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  // Counters only go up: negative increments are ignored rather than corrupting rate().
  void inc(double v = 1) {
    if (v > 0) value_.fetch_add(v, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // Upper bounds in seconds, ascending; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void observe(double seconds);

  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative count of observations <= bounds()[i]; i == bounds().size() means +Inf.
  std::uint64_t cumulative(std::size_t i) const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

  // 0.5 ms .. 10 s: the poll route lives well under a millisecond, payments take seconds.
  static std::vector<double> default_buckets();

 private:
  std::vector<double> bounds_;
  // Per-bucket (not cumulative) counts so observe() touches one bucket; render() accumulates.
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Same name + labels -> the same object (stable reference for the Registry's lifetime).
  // Throws std::invalid_argument for an invalid metric/label name, std::logic_error when the name
  // is already registered with another type (programming errors, caught at start-up).
  Counter& counter(std::string name, std::string help, Labels labels = {});
  Gauge& gauge(std::string name, std::string help, Labels labels = {});
  // Empty `buckets` -> Histogram::default_buckets(). The buckets of a family are fixed by its first
  // registration.
  Histogram& histogram(std::string name, std::string help, Labels labels = {},
                       std::vector<double> buckets = {});

  // Called at the start of every render() (outside the registry's lock, so a collector may
  // register and set metrics) to refresh gauges owned by other components.
  void add_collector(std::function<void(Registry&)> f);

  std::string render();

 private:
  enum class Type { counter, gauge, histogram };
  struct Series;
  struct Family;
  Series& series(Type t, std::string name, std::string help, Labels labels,
                 std::vector<double>* buckets);

  std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
  std::mutex collectors_mu_;
  std::vector<std::function<void(Registry&)>> collectors_;
};

// Helpers exposed for tests and for components that render their own lines.
std::string escape_label_value(std::string_view v);
std::string format_value(double v);

}  // namespace tk::metrics
