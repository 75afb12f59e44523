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

struct ApiOptions {
  std::string admin_token;
  std::function<bool()> ready;  // PostgreSQL and Redis answer, not draining
  metrics::Registry* metrics = nullptr;
  RateLimiter* account_limiter = nullptr;  // per account, all authenticated routes
  RateLimiter* signup_limiter = nullptr;   // per client address
  RateLimiter* poll_limiter = nullptr;     // per queue ticket
  OffsetClock* test_clock = nullptr;       // test builds: POST /v1/test/clock moves time
};

void add_routes(Router& r, app::Deps deps, ApiOptions opt);

}  // namespace tk::http
