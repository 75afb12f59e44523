#pragma once
// GET /v1/performances/{pid}/queue/status, the hottest route: registered by the API and by the
// gateway from this one definition, so both answer a poll the same way (from the process's own
// queue view, without a round trip on the hot path).
#include "app/deps.hpp"
#include "http/rate_limiter.hpp"
#include "http/router.hpp"

namespace tk::http {

// `poll_limiter` (may be null): per queue ticket, in this process's memory. `door`: the poll's
// class at the door (Router::add_door), -1 for none.
void add_queue_status_route(Router& r, app::Deps deps, RateLimiter* poll_limiter, int door = -1);

}  // namespace tk::http
