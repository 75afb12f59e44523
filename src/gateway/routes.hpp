#pragma once
// The gateway's public listener: its own health routes, the queue-status poll answered from this
// process's queue view (the same registration as the API's), and everything else checked and
// forwarded: sessions and access tokens verified, the shared (Redis) rate limits applied, the
// client address and trace context passed on.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "app/deps.hpp"
#include "common/metrics.hpp"
#include "gateway/forwarder.hpp"
#include "http/door.hpp"
#include "http/rate_limiter.hpp"
#include "http/router.hpp"
#include "infra/redis/stores/rate_limit.hpp"

namespace tk::gateway {

// The limits every gateway process shares through Redis (GCRA): N gateways together allow the
// configured rate. One set per event loop, each on that loop's Redis client; any may be null
// (no limit). When Redis cannot decide, the request goes through (counted): a limiter outage
// must not take the site down.
struct SharedLimits {
  std::unique_ptr<redisstore::SharedRateLimiter> account;         // per account, signed-in routes
  std::unique_ptr<redisstore::SharedRateLimiter> address;         // per address, anonymous routes
  std::unique_ptr<redisstore::SharedRateLimiter> sign_up;         // sign-ups per address
  std::unique_ptr<redisstore::SharedRateLimiter> log_in;          // log-ins per address
  std::unique_ptr<redisstore::SharedRateLimiter> admin_failures;  // wrong admin tokens per address
};

struct RouteOptions {
  std::function<bool()> ready;
  std::string role = "gateway";
  http::RateLimiter* poll_limiter = nullptr;  // per queue ticket, in this process's memory
  SharedLimits* limits = nullptr;
  Forwarder* forwarder = nullptr;
  metrics::Registry* metrics = nullptr;
  // The sale's classes at the door (http/sale_doors.hpp); target 0: no door.
  http::DoorOptions door{.target = std::chrono::microseconds(0)};
};

void add_routes(http::Router& r, app::Deps deps, RouteOptions o);

}  // namespace tk::gateway
