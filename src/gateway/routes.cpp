#include "gateway/routes.hpp"

#include "app/identity.hpp"
#include "app/seats.hpp"
#include "http/client_address.hpp"
#include "http/handlers/api.hpp"
#include "http/handlers/queue_status.hpp"
#include "http/handlers/support.hpp"
#include "http/sale_doors.hpp"

namespace tk::gateway {

namespace asio = boost::asio;
using http::Request;
using http::RequestContext;
using http::Response;

namespace {

std::string_view header(const Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

struct Ctx {
  app::Deps deps;
  RouteOptions o;
  metrics::Counter* fail_open = nullptr;
  metrics::Counter* limited = nullptr;

  // True when `subject` is over `l`'s rate (and charges one request otherwise).
  asio::awaitable<bool> over(redisstore::SharedRateLimiter* l, std::string_view subject,
                             Millis now) {
    if (!l) co_return false;
    auto d = co_await l->check(subject, now);
    if (!d) {
      if (fail_open) fail_open->inc();
      co_return false;
    }
    if (!d->allowed && limited) limited->inc();
    co_return !d->allowed;
  }
};

// The checks before a request leaves, by its class; nullopt to forward it.
asio::awaitable<std::optional<Response>> admit(Ctx& c, RequestContext& ctx, RouteClass cls,
                                               const std::string& addr, Millis now) {
  SharedLimits* l = c.o.limits;
  auto rate_limited = [] {
    return std::optional<Response>(http::error_to_response(app::Errc::rate_limited));
  };
  switch (cls) {
    case RouteClass::admin:
      // Once an address has spent its wrong guesses nothing more from it is forwarded, so the
      // token cannot be guessed at the combined rate of every API process.
      if (l && l->admin_failures) {
        auto spent = co_await l->admin_failures->exhausted(addr, now);
        if (!spent && c.fail_open) c.fail_open->inc();
        if (spent && *spent) co_return rate_limited();
      }
      co_return std::nullopt;
    case RouteClass::sign_up:
    case RouteClass::log_in: {
      if (l && co_await c.over(l->address.get(), addr, now)) co_return rate_limited();
      auto* per = cls == RouteClass::sign_up ? (l ? l->sign_up.get() : nullptr)
                                             : (l ? l->log_in.get() : nullptr);
      if (co_await c.over(per, addr, now)) co_return rate_limited();
      co_return std::nullopt;
    }
    default:
      break;
  }
  auto token = http::bearer_token(ctx.req);
  if (token.empty()) {
    if (l && co_await c.over(l->address.get(), addr, now)) co_return rate_limited();
    co_return std::nullopt;
  }
  // A session is checked here: a valid one gets its account's limit; one that is not is refused
  // here on the routes behind an access token.
  app::Identity id(c.deps);
  auto who = co_await id.authenticate(token);
  if (!who && who.error().code == app::Errc::unauthenticated && cls != RouteClass::admitted) {
    // Not a session (an expired one, or the operator's token on a public page): only the API knows
    // whether the route needs one, so the request goes on as an anonymous one would.
    if (l && co_await c.over(l->address.get(), addr, now)) co_return rate_limited();
    co_return std::nullopt;
  }
  if (!who) co_return http::error_to_response(who.error());
  ctx.log("account", who->account_id);
  if (l && co_await c.over(l->account.get(), who->account_id, now)) co_return rate_limited();
  if (cls == RouteClass::admitted) {
    app::Seats seats(c.deps);
    // Named locals, not temporaries, in the co_await (GCC 12; see docs/STATUS.md).
    const std::string pid(performance_of(ctx.req.target()));
    const std::string_view access_token = header(ctx.req, "Access-Token");
    auto access = co_await seats.check_access(*who, pid, access_token);
    if (!access) co_return http::error_to_response(access.error());
  }
  co_return std::nullopt;
}

}  // namespace

void add_routes(http::Router& r, app::Deps deps, RouteOptions o) {
  auto c = std::make_shared<Ctx>(Ctx{deps, o});
  if (o.metrics) {
    c->fail_open =
        &o.metrics->counter("gateway_limit_fail_open_total",
                            "Requests let through because Redis could not decide a limit");
    c->limited =
        &o.metrics->counter("gateway_rate_limited_total", "Requests refused 429 by a shared limit");
  }
  http::add_health_routes(r, o.ready, o.role);
  // The sale's classes at the door, as in an API process: the gateway measures the whole of what
  // a buyer waits (its own event loop, the shared limits, the API process behind it), so the
  // crowd's joins are refused here, before a session check or a forward, once the sale queues.
  const http::SaleDoors doors = http::add_sale_doors(r, o.door);
  http::add_queue_status_route(r, deps, o.poll_limiter, doors.poll);
  const http::Handler forward = [c](RequestContext& ctx) -> asio::awaitable<Response> {
    const Millis now = c->deps.now();
    const RouteClass cls = classify(ctx.req.method(), ctx.req.target());
    const std::string addr = http::address_key(ctx.remote);
    // Nothing can leave while every API process is out or full on this loop: refused before the
    // session check and the shared limits, which would spend Redis round trips to reach the
    // same answer later.
    if (auto full = c->o.forwarder->unavailable()) co_return to_response(*full);
    if (auto refused = co_await admit(*c, ctx, cls, addr, now)) co_return std::move(*refused);

    Request out = ctx.req;
    strip_hop_by_hop(out);
    // The API processes trust this gateway: they take the client from X-Forwarded-For,
    // which names exactly the client the gateway found (never what a client sent).
    out.erase("X-Forwarded-For");
    out.set("X-Forwarded-For", ctx.remote.to_string());
    out.set("X-Request-Id", ctx.request_id);  // one id in every log line, end to end
    // This request's span (a child of a valid incoming traceparent, else a new trace) is
    // the API's parent; its ids are on the gateway's access log line.
    const bool traced = ctx.trace_span.has_value();
    out.set("traceparent", ctx.span().traceparent());
    out.erase("tracestate");  // only kept with a valid incoming traceparent
    if (auto ts = header(ctx.req, "tracestate"); traced && !ts.empty()) out.set("tracestate", ts);

    auto res = co_await c->o.forwarder->forward(out, ctx.deadline);
    if (!res) co_return to_response(static_cast<Errc>(res.error().code.value()));
    if (cls == RouteClass::admin && res->result() == boost::beast::http::status::unauthorized &&
        c->o.limits && c->o.limits->admin_failures) {
      (void)co_await c->o.limits->admin_failures->check(addr, now);
    }
    co_return std::move(*res);
  };
  // The routes of a door class are forwarded as everything else is; a route of its own gives the
  // request its class (and its pattern as the route label).
  using Verb = boost::beast::http::verb;
  r.add(Verb::post, "/v1/performances/{pid}/queue", forward, http::Budget::request, doors.join);
  r.add(Verb::post, "/v1/performances/{pid}/holds", forward, http::Budget::request, doors.hold);
  r.add(Verb::post, "/v1/orders", forward, http::Budget::request, doors.order);
  r.add(Verb::post, "/v1/orders/{order_id}/payment", forward, http::Budget::request, doors.payment);
  r.set_default(forward, "forwarded");
}

}  // namespace tk::gateway
