#include "infra/redis/stores/rate_limit.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "app/errors.hpp"

namespace tk::redisstore {

// Fractional milliseconds are kept (tonumber/tostring of a Lua number) so a rate that does not
// divide 1000 does not drift.
const char* const kGcra = R"LUA(
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if tat - now > tolerance then
  return {0, math.ceil(tat - now - tolerance)}
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.ceil(tat - now) + 1000)
return {1, 0}
)LUA";

namespace {
const redis::Script& gcra() {
  static const redis::Script s(kGcra);
  return s;
}
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}
}  // namespace

SharedRateLimiter::SharedRateLimiter(std::shared_ptr<redis::Client> c, std::string prefix,
                                     double rate, double burst)
    : c_(std::move(c)),
      prefix_(std::move(prefix)),
      interval_ms_(1000.0 / std::max(rate, 1e-6)),
      tolerance_ms_(interval_ms_ * std::max(burst - 1.0, 0.0)) {}

app::Task<RateDecision> SharedRateLimiter::check(std::string_view subject, Millis now_ms) {
  auto keys = redis::arglist(prefix_ + std::string(subject));
  auto args = redis::arglist(std::to_string(now_ms), num(interval_ms_), num(tolerance_ms_));
  auto r = co_await c_->eval(gcra(), std::move(keys), std::move(args));
  // Redis errors never reach a client as text: a limiter that cannot decide is unavailable.
  if (!r) co_return Error{app::Errc::unavailable};
  if (!r->is_array() || r->elements.size() != 2) co_return Error{app::Errc::internal};
  RateDecision d;
  d.allowed = r->elements[0].integer == 1;
  d.retry_after_ms = r->elements[1].integer;
  co_return d;
}

app::Task<bool> SharedRateLimiter::exhausted(std::string_view subject, Millis now_ms) {
  auto r = co_await c_->exec("GET", prefix_ + std::string(subject));
  if (!r) co_return Error{app::Errc::unavailable};
  if (r->is_nil()) co_return false;
  // The script's test, without moving TAT: refused while TAT - now exceeds the tolerance.
  double tat = std::strtod(r->str.c_str(), nullptr);
  co_return tat - static_cast<double>(now_ms) > tolerance_ms_;
}

}  // namespace tk::redisstore
