#pragma once
// The public contract's routes (docs/API.md), one thin handler each: parse -> one use case ->
// serialize. One Api per io_context, bound to that context's ports.
#include <functional>
#include <memory>

#include "app/deps.hpp"
#include "common/metrics.hpp"
#include "http/handlers/support.hpp"
#include "http/router.hpp"

namespace tk::http {

// Limits keyed by an address use the client address the server found (client_address.hpp).
struct ApiOptions {
  std::string admin_token;
  std::function<bool()> ready;                   // PostgreSQL and Redis answer, not draining
  RateLimiter* account_limiter = nullptr;        // per account, all authenticated routes
  RateLimiter* address_limiter = nullptr;        // per client address, unauthenticated routes
  RateLimiter* signup_limiter = nullptr;         // sign-ups and log-ins per client address
  RateLimiter* admin_failure_limiter = nullptr;  // wrong admin tokens per client address
  RateLimiter* poll_limiter = nullptr;           // per queue ticket
  OffsetClock* test_clock = nullptr;             // test builds: POST /v1/test/clock moves time
  std::string role = "all";                      // reported by /readyz
  // The join route's door class (door.hpp), also the measure of the classes it yields to
  // (poll, hold, order, payment); target 0: no door.
  DoorOptions door{.target = std::chrono::microseconds(0)};
  // The PostgreSQL pool would shed a new request now: orders and payments are refused at the
  // door (sale_doors.hpp). Empty: never.
  std::function<bool()> database_full;
};

// The public listener's routes (with /healthz and /readyz for load balancers, never /metrics).
void add_routes(Router& r, app::Deps deps, ApiOptions opt);

// /healthz and /readyz (200 or 503 with Retry-After by `ready`); /readyz answers
// {"status": "ready"|"not_ready", "role"} so an operator sees which process answered.
void add_health_routes(Router& r, std::function<bool()> ready, std::string role = "all");
// The operations listener's routes: health plus /metrics (Prometheus text).
void add_ops_routes(Router& r, std::function<bool()> ready, metrics::Registry* metrics,
                    std::string role = "all");

}  // namespace tk::http
