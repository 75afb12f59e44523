#include "http/door.hpp"

#include <algorithm>
#include <cmath>

namespace tk::http {

using std::chrono::microseconds;

Door::Door(DoorOptions opt, std::uint32_t seed)
    : opt_(opt), limit_(std::max(opt.max_limit, 1)), rng_(seed == 0 ? 1 : seed) {
  opt_.max_retry_after_s = std::max(opt_.max_retry_after_s, 1);
  opt_.min_limit = std::clamp(opt_.min_limit, 1, std::max(opt_.max_limit, 1));
  opt_.backoff = std::clamp(opt_.backoff, 0.1, 0.95);
  if (opt_.interval.count() <= 0) opt_.interval = microseconds(100000);
}

microseconds Door::floor() const {
  if (fastest_count_ == 0) return microseconds(0);
  return *std::min_element(fastest_of_.begin(), fastest_of_.begin() + fastest_count_);
}

bool Door::enter(Clock::time_point now) {
  if (!enabled()) return true;
  roll(now);
  if (opt_.sheds && in_flight_ >= static_cast<int>(limit_)) {
    ++refused_now_;
    ++refused_total_;
    return false;
  }
  ++in_flight_;
  peak_ = std::max(peak_, in_flight_);
  return true;
}

void Door::leave(Clock::time_point now, microseconds latency, bool unavailable) {
  if (!enabled()) return;
  if (in_flight_ > 0) --in_flight_;
  fastest_ = std::min(fastest_, latency);
  ++done_;
  if (unavailable) ++unavailable_now_;
  roll(now);
}

void Door::turned_away(Clock::time_point now) {
  if (!enabled()) return;
  roll(now);
  ++unavailable_now_;
}

void Door::yield(Clock::time_point now) {
  if (!enabled()) return;
  roll(now);
  yielded_ = true;
}

bool Door::queueing(Clock::time_point now) {
  if (!enabled()) return false;
  roll(now);
  return queued_;
}

void Door::roll(Clock::time_point now) {
  if (!started_) {
    started_ = true;
    start_ = now;
    inside_at_start_ = in_flight_;
    return;
  }
  if (now - start_ < opt_.interval) return;

  const auto min = static_cast<double>(opt_.min_limit);
  const auto max = static_cast<double>(opt_.max_limit);
  bool queued = false;
  if (done_ > 0) {
    // Judged against the floor of the intervals before this one: a queue that builds up slowly
    // must not become its own baseline. A request that was alone inside the whole interval
    // waited behind nothing of the class: a slow moment of the machine, not a crowd to shed.
    queued = fastest_count_ > 0 && peak_ >= 2 && fastest_ > floor() + opt_.target;
    fastest_of_[fastest_next_] = fastest_;
    fastest_next_ = (fastest_next_ + 1) % kFloorIntervals;
    fastest_count_ = std::min(fastest_count_ + 1, kFloorIntervals);
  } else {
    // Nothing finished for a whole interval although requests were inside from its start: they
    // have all waited at least that long (a stalled Redis or database).
    queued = inside_at_start_ > 0 && opt_.interval > opt_.target;
  }
  queued_ = queued;
  if (queued || yielded_) {
    // A class yielded to queued: this one is cut as if it had, and past min_limit to none at
    // all. Its own requests may be fast, so only a cap of zero binds them; what counts is the
    // time they take from the class yielded to.
    const double lowest = yielded_ ? 0.0 : min;
    limit_ =
        std::max(lowest, std::min(limit_, static_cast<double>(std::max(peak_, 1))) * opt_.backoff);
  } else if (peak_ >= static_cast<int>(limit_) || refused_now_ > 0) {
    limit_ = std::min(max, limit_ + std::max(1.0, std::sqrt(limit_)));
  }
  const int turned_away = refused_now_ + unavailable_now_;
  if (2 * turned_away > done_) {
    retry_after_s_ = std::min(static_cast<double>(opt_.max_retry_after_s), retry_after_s_ * 1.25);
  } else if (4 * turned_away < done_) {
    retry_after_s_ = std::max(1.0, retry_after_s_ * 0.8);
  }

  start_ = now;
  fastest_ = microseconds::max();
  done_ = 0;
  peak_ = in_flight_;
  inside_at_start_ = in_flight_;
  refused_now_ = 0;
  unavailable_now_ = 0;
  yielded_ = false;
}

int Door::retry_after() {
  // xorshift32: cheap, and only spreads the returns.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 17;
  rng_ ^= rng_ << 5;
  double u = static_cast<double>(rng_) / 4294967296.0;
  return std::max(1, static_cast<int>(std::lround(retry_after_s_ * (0.5 + u))));
}

}  // namespace tk::http
