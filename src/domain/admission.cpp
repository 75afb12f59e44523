#include "domain/admission.hpp"

#include <algorithm>
#include <cmath>

namespace tk::domain {

std::int64_t estimated_wait_seconds(std::int64_t ahead, double measured_rate_per_s,
                                    double configured_rate_per_s) {
  if (ahead <= 0) return 0;
  double rate = measured_rate_per_s > 0 ? measured_rate_per_s : configured_rate_per_s;
  if (rate <= 0) return 24 * 3600;
  return static_cast<std::int64_t>(std::ceil(static_cast<double>(ahead) / rate));
}

int retry_after_seconds(std::int64_t ahead, std::int64_t estimated_wait_s,
                        std::int64_t access_ttl_s, bool rate_known) {
  if (ahead <= 0) return 1;
  std::int64_t cap = rate_known ? std::clamp<std::int64_t>(access_ttl_s / 4, 1, 120) : 30;
  // Poll about four times over the expected wait, so a place is noticed soon after it comes up.
  return static_cast<int>(std::clamp<std::int64_t>(estimated_wait_s / 4, 1, cap));
}

std::int64_t presence_mark(Millis now) {
  const std::int64_t second = std::max<Millis>(0, now) / 1000;
  return second % 65535 + 1;
}

std::int64_t presence_window_seconds(int presence_timeout_s) { return presence_timeout_s + 2; }

std::int64_t idle_window_seconds(int idle_timeout_s) {
  return presence_window_seconds(idle_timeout_s);
}

bool keeps_marks(const QueueSettings& q) {
  return q.presence_timeout_seconds > 0 || q.idle_timeout_seconds > 0;
}

int presence_retry_cap(int presence_timeout_s) { return std::max(1, presence_timeout_s / 3); }

Millis presence_poll_window_ms(int presence_timeout_s) {
  return std::clamp<Millis>(Millis{presence_timeout_s} * 1000 / 6, 1000, 10000);
}

}  // namespace tk::domain
