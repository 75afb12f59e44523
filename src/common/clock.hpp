#pragma once
// Time comes through an injected clock so tests can expire holds by moving time, never sleeping.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace tk {

using Millis = std::int64_t;  // milliseconds since the Unix epoch (UTC)

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  Millis now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Manual clock for tests; thread-safe so tests may advance it while the service runs.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Millis start) : now_(start) {}
  Millis now_ms() const override { return now_.load(std::memory_order_relaxed); }
  void set(Millis t) { now_.store(t, std::memory_order_relaxed); }
  void advance(Millis d) { now_.fetch_add(d, std::memory_order_relaxed); }

 private:
  std::atomic<Millis> now_;
};

// A system clock with an adjustable offset: lets black-box tests of a test build move the
// service's time forward through a test-only route, while normal builds never expose it.
class OffsetClock final : public Clock {
 public:
  Millis now_ms() const override {
    return base_.now_ms() + offset_.load(std::memory_order_relaxed);
  }
  void advance(Millis d) { offset_.fetch_add(d, std::memory_order_relaxed); }

 private:
  SystemClock base_;
  std::atomic<Millis> offset_{0};
};

}  // namespace tk
