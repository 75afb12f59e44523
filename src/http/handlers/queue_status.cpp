#include "http/handlers/queue_status.hpp"

#include "app/waiting_room.hpp"
#include "http/handlers/status_body.hpp"
#include "http/handlers/support.hpp"
#include "http/under_deadline.hpp"

namespace tk::http {

namespace {
Response status_response(const app::QueueStatus& s) {
  Response res{beast::http::status::ok, 11};
  res.set(beast::http::field::content_type, "application/json");
  res.set(beast::http::field::cache_control, "no-store");
  set_retry_after(res, s.retry_after_seconds);
  res.body() = status_body(s);
  res.prepare_payload();
  return res;
}
}  // namespace

void add_queue_status_route(Router& r, app::Deps deps, RateLimiter* poll_limiter, int door) {
  r.add(
      beast::http::verb::get, "/v1/performances/{pid}/queue/status",
      [deps, poll_limiter](RequestContext& ctx) -> asio::awaitable<Response> {
        auto it = ctx.req.find("Queue-Ticket");
        std::string_view ticket =
            it == ctx.req.end() ? std::string_view{} : std::string_view(it->value());
        if (ticket.empty()) co_return error_to_response(app::Errc::invalid_ticket);
        if (poll_limiter && !poll_limiter->allow(ticket, deps.now())) {
          co_return error_to_response(app::Errc::rate_limited);
        }
        app::WaitingRoom room(deps);
        auto pid = ctx.param("pid");
        // Hot path: answered from memory without suspending; the coroutine path only loads the
        // view (first poll of a performance in this process) or a tick not seen yet.
        if (auto fast = room.status_now(pid, ticket)) {
          if (!*fast) co_return error_to_response(fast->error());
          co_return status_response(**fast);
        }
        auto work = room.status(std::string(pid), ticket);
        auto slow = co_await http::under_deadline(ctx, std::move(work));
        if (!slow) co_return error_to_response(slow.error());
        co_return status_response(*slow);
      },
      Budget::none, door);
}

}  // namespace tk::http
