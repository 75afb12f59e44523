#include "http/handlers/api.hpp"

#include <chrono>
#include <limits>

#include "app/catalogue.hpp"
#include "app/identity.hpp"
#include "app/orders.hpp"
#include "app/rankings.hpp"
#include "app/refunds.hpp"
#include "app/seats.hpp"
#include "app/single_flight.hpp"
#include "app/tickets.hpp"
#include "app/waiting_room.hpp"
#include "app/waitlist.hpp"
#include "common/crypto/encoding.hpp"
#include "domain/prequeue_shuffle.hpp"
#include "http/body_cache.hpp"
#include "http/client_address.hpp"
#include "http/handlers/queue_status.hpp"
#include "http/handlers/requests.hpp"
#include "http/handlers/seat_map_body.hpp"
#include "http/query.hpp"
#include "http/sale_doors.hpp"
#include "http/under_deadline.hpp"

namespace tk::http {

namespace json = boost::json;
using app::Errc;
using st = beast::http::status;
using Verb = beast::http::verb;

namespace {

struct Ctx {
  app::Deps d;
  ApiOptions o;
  SeatMapCache seat_maps;      // this io_context's own: no locking
  RecentWrites recent_writes;  // accounts that changed seats here in the last second
  app::SingleFlight<SeatMapCache::Bodies> map_builds;  // by performance id
  BodyCache catalogue;                                 // encoded public catalogue reads
  app::SingleFlight<std::string> catalogue_builds;     // by catalogue cache key
};

// How long this process answers a catalogue read from memory before asking PostgreSQL again:
// the bound on how late another process's change (or a sale opening by the clock) shows here.
constexpr Millis kCatalogueFreshMs = 1000;
constexpr Millis kForever = std::numeric_limits<Millis>::max();
// Events and performances change (status, new performances): browsers and edges keep them for a
// few seconds and then revalidate with the ETag. A venue's layout never changes once created.
constexpr std::string_view kShortCache = "public, max-age=5";
constexpr std::string_view kImmutable = "public, max-age=31536000, immutable";

using BodyBuilder = std::function<app::Task<std::string>()>;

// A catalogue read from this thread's cache, or built once (concurrent misses share the build)
// and kept for `fresh_for`. The version is read before the build, so an operator change that
// lands while it runs makes the result stale at once.
asio::awaitable<Response> serve_cached(Ctx& c, const Request& req, const std::string& key,
                                       Millis fresh_for, std::string_view cache_control,
                                       const BodyBuilder& build) {
  Millis now = c.d.now();
  // Immutable bodies outlive catalogue changes; the rest are built under the current version.
  std::uint64_t version =
      fresh_for == kForever ? 0 : c.d.shared->catalogue_version.load(std::memory_order_acquire);
  if (const CachedBody* hit = c.catalogue.get(key, now, version)) {
    co_return cached_response(req, *hit, cache_control);
  }
  auto run = [&build] { return build(); };
  auto body = co_await c.catalogue_builds.run(key, run);
  if (!body) co_return error_to_response(body.error());
  Millis until = fresh_for == kForever ? kForever : now + fresh_for;
  const CachedBody& fresh = c.catalogue.put(key, std::move(*body), until, version);
  co_return cached_response(req, fresh, cache_control);
}

// A non-negative decimal of at most 18 digits (no sign, no spaces).
std::optional<std::int64_t> parse_sequence(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') return std::nullopt;
    v = v * 10 + (ch - '0');
  }
  return v;
}

json::object admission_log_json(const std::vector<app::AuditEntry>& entries) {
  json::array a;
  for (const auto& e : entries) {
    a.push_back(json::object{{"seq", e.seq},
                             {"from_position", e.from},
                             {"to_position", e.to},
                             {"admitted_at", rfc3339(e.admitted_at)},
                             {"admitted_at_ms", e.admitted_at},
                             {"skipped", e.skipped},
                             {"admit_per_interval", e.admit_limit},
                             {"interval_ms", e.interval_ms},
                             {"prev_hash", e.prev_hash},
                             {"hash", e.hash}});
  }
  return json::object{{"entries", std::move(a)}};
}

std::string layout_body(const domain::Venue& v) {
  json::array sections;
  for (const auto& s : v.seats) {
    if (sections.empty() || sections.back().as_object()["name"].as_string() != s.section) {
      sections.push_back(json::object{{"name", s.section}, {"rows", json::array{}}});
    }
    auto& rows = sections.back().as_object()["rows"].as_array();
    if (rows.empty() || rows.back().as_object()["label"].as_string() != s.row) {
      rows.push_back(json::object{{"label", s.row}, {"seats", json::array{}}});
    }
    rows.back().as_object()["seats"].as_array().push_back(
        json::object{{"id", s.id}, {"number", s.number}, {"grade", s.grade}});
  }
  return json::serialize(
      json::object{{"id", v.id}, {"name", v.name}, {"sections", std::move(sections)}});
}

json::object event_json(const domain::Event& e) {
  json::array perfs;
  for (const auto& p : e.performances) {
    perfs.push_back(json::object{{"id", p.id},
                                 {"starts_at", rfc3339(p.starts_at)},
                                 {"sale_opens_at", rfc3339(p.sale_opens_at)},
                                 {"status", domain::to_string(p.status)}});
  }
  return json::object{{"id", e.id},
                      {"title", e.title},
                      {"venue", json::object{{"id", e.venue_id}, {"name", e.venue_name}}},
                      {"performances", std::move(perfs)}};
}

json::object performance_json(const domain::Performance& p, Millis now, bool with_queue) {
  json::array grades;
  for (const auto& g : p.price_grades) {
    grades.push_back(
        json::object{{"grade", g.grade}, {"price_cents", g.price_cents}, {"currency", g.currency}});
  }
  json::object o{{"id", p.id},
                 {"event_id", p.event_id},
                 {"venue_id", p.venue_id},
                 {"starts_at", rfc3339(p.starts_at)},
                 {"sale_opens_at", rfc3339(p.sale_opens_at)},
                 {"status", domain::to_string(domain::effective_status(p, now))},
                 {"max_seats_per_order", p.max_seats_per_order},
                 {"max_seats_per_account", p.max_seats_per_account},
                 {"hold_ttl_seconds", p.hold_ttl_seconds},
                 {"refundable_until", rfc3339(domain::refundable_until(p))},
                 {"price_grades", std::move(grades)}};
  if (with_queue) {
    o["queue"] = json::object{{"admit_per_interval", p.queue.admit_per_interval},
                              {"interval_ms", p.queue.interval_ms},
                              {"max_active", p.queue.max_active},
                              {"access_ttl_seconds", p.queue.access_ttl_seconds},
                              {"pow_difficulty", p.queue.pow_difficulty},
                              {"presence_timeout_seconds", p.queue.presence_timeout_seconds},
                              {"idle_timeout_seconds", p.queue.idle_timeout_seconds}};
  } else {
    // What a buyer's app needs before joining: whether to solve a proof of work first, whether
    // the waiting page must keep polling to keep its place, and how often the sale pages must
    // use the access to keep it once admitted.
    o["queue"] = json::object{{"pow_difficulty", p.queue.pow_difficulty},
                              {"presence_timeout_seconds", p.queue.presence_timeout_seconds},
                              {"idle_timeout_seconds", p.queue.idle_timeout_seconds}};
  }
  // A pre-queue: joins from then on wait unordered until the sale opens (see queue/fairness).
  if (p.queue_opens_at != 0) o["queue_opens_at"] = rfc3339(p.queue_opens_at);
  return o;
}

json::object order_json(const domain::Order& o, Millis now, bool with_tickets) {
  json::array seats;
  for (const auto& s : o.seat_ids) seats.emplace_back(s);
  json::object j{{"id", o.id},
                 {"status", domain::to_string(domain::effective_status(o, now))},
                 {"performance_id", o.performance_id},
                 {"hold_id", o.hold_id},
                 {"seat_ids", std::move(seats)},
                 {"total_cents", o.total_cents},
                 {"currency", o.currency},
                 {"expires_at", rfc3339(o.expires_at)}};
  if (with_tickets) {
    json::array t;
    for (const auto& x : o.tickets) {
      json::object tj{{"id", x.id},
                      {"seat_id", x.seat_id},
                      {"code", x.code},
                      {"status", domain::to_string(x.status)}};
      if (x.checked_in_at != 0) tj["checked_in_at"] = rfc3339(x.checked_in_at);
      t.push_back(std::move(tj));
    }
    j["tickets"] = std::move(t);
  }
  return j;
}

std::string_view header(const Request& req, std::string_view name) {
  auto it = req.find(name);
  return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

Response refund_accepted(const app::RefundAccepted& a) {
  return json_response(st::accepted, json::object{{"order_id", a.order_id},
                                                  {"status", domain::to_string(a.status)}});
}

// Reads the seat state of `pid` and keeps its bodies in this thread's cache.
app::Task<SeatMapCache::Bodies> build_seat_map_bodies(Ctx& c, std::string pid) {
  app::Seats seats(c.d);
  Millis asked = c.d.now();
  auto t0 = std::chrono::steady_clock::now();
  TK_CO_TRY(auto m, co_await seats.seat_map(pid));
  auto previous = c.seat_maps.last(pid);  // its unchanged sections are kept, not encoded
  auto built = seat_map_bodies(m, previous.get());
  // The whole cost (waiting for Redis, reading, encoding) counts toward the window.
  auto build_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  co_return c.seat_maps.put(pid, m, std::move(built), asked, build_ms.count());
}

// The seat map bodies of {pid} for an admitted buyer, from this thread's cache when still exact.
app::Task<SeatMapCache::Bodies> seat_map_bodies_for(Ctx& c, RequestContext& ctx,
                                                    const app::Principal& who) {
  app::Seats seats(c.d);
  std::string pid(ctx.param("pid"));
  TK_CO_CHECK(co_await seats.check_access(who, pid, header(ctx.req, "Access-Token")));
  Millis now = c.d.now();
  // The reader's own hold, release or payment is always in the map they get. Checks and builds
  // are stamped with the time before Redis was asked, so a write that completed while the answer
  // was on its way never counts as included.
  Millis since = c.recent_writes.last(who.account_id, now);
  auto body = c.seat_maps.fresh(pid, now, since);
  if (!body) {
    Millis asked = c.d.now();
    TK_CO_TRY(auto version, co_await seats.seat_version(pid));
    body = c.seat_maps.current(pid, version, asked);
  }
  // One build per performance in flight: the readers that find the bodies stale together wait
  // for it (each building its own made a 100k-seat on-sale spend its core encoding maps). A
  // writer whose change came after the shared build asked Redis takes the next one.
  if (!body) {
    auto build = [&c, &pid] { return build_seat_map_bodies(c, pid); };
    for (int i = 0; i < 3; ++i) {
      TK_CO_TRY(auto b, co_await c.map_builds.run(pid, build));
      body = std::move(b);
      if (body->as_of > since) break;
    }
  }
  co_return body;
}

// Authenticated handler: 429 per account, then 401, then the body.
using AuthedFn = std::function<asio::awaitable<Response>(RequestContext&, const app::Principal&)>;
Handler authed(std::shared_ptr<Ctx> c, AuthedFn f) {
  return [c, f = std::move(f)](RequestContext& ctx) -> asio::awaitable<Response> {
    app::Identity id(c->d);
    auto who = co_await id.authenticate(bearer_token(ctx.req));
    if (!who) co_return error_to_response(who.error());
    ctx.log("account", who->account_id);
    if (c->o.account_limiter && !c->o.account_limiter->allow(who->account_id, c->d.now())) {
      co_return error_to_response(Errc::rate_limited);
    }
    co_return co_await f(ctx, *who);
  };
}

// Wrong admin tokens are counted per client address; once an address is over the limit nothing
// more from it is compared (429) until its bucket refills, so the token cannot be guessed at
// request rate.
Handler admin(std::shared_ptr<Ctx> c, Handler f) {
  return [c, f = std::move(f)](RequestContext& ctx) -> asio::awaitable<Response> {
    RateLimiter* failures = c->o.admin_failure_limiter;
    std::string from = address_key(ctx.remote);
    Millis now = c->d.now();
    if (failures && failures->exhausted(from, now)) co_return error_to_response(Errc::rate_limited);
    auto tok = bearer_token(ctx.req);
    if (c->o.admin_token.empty() || tok.empty() || !constant_time_equal(tok, c->o.admin_token)) {
      if (failures) failures->allow(from, now);
      co_return error_to_response(Errc::unauthenticated);
    }
    co_return co_await f(ctx);
  };
}

// Unauthenticated routes: one bucket per client address (client_address.hpp), so one address
// cannot take the catalogue or the identity routes for itself.
Handler per_address(std::shared_ptr<Ctx> c, Handler f) {
  return [c, f = std::move(f)](RequestContext& ctx) -> asio::awaitable<Response> {
    if (c->o.address_limiter && !c->o.address_limiter->allow(address_key(ctx.remote), c->d.now())) {
      co_return error_to_response(Errc::rate_limited);
    }
    co_return co_await f(ctx);
  };
}

#define TRY_RESP(decl, expr)                                                                       \
  auto TK_CONCAT(h_, __LINE__) = (expr);                                                           \
  if (!TK_CONCAT(h_, __LINE__).ok()) co_return error_to_response(TK_CONCAT(h_, __LINE__).error()); \
  decl = std::move(TK_CONCAT(h_, __LINE__)).value()

Response created(const json::value& v) { return json_response(st::created, v); }
Response ok(const json::value& v) { return json_response(st::ok, v); }
Response no_content() {
  Response r{st::no_content, 11};
  r.prepare_payload();
  return r;
}
Response text(st s, std::string body, std::string_view type = "text/plain; charset=utf-8") {
  Response r{s, 11};
  r.set(beast::http::field::content_type, type);
  r.body() = std::move(body);
  r.prepare_payload();
  return r;
}

}  // namespace

void add_health_routes(Router& r, std::function<bool()> ready, std::string role) {
  r.add(
      Verb::get, "/healthz",
      [](RequestContext&) -> asio::awaitable<Response> { co_return text(st::ok, "ok\n"); },
      Budget::none);
  r.add(
      Verb::get, "/readyz",
      [ready, role](RequestContext&) -> asio::awaitable<Response> {
        bool up = ready && ready();
        boost::json::object body{{"status", up ? "ready" : "not_ready"}, {"role", role}};
        auto res = json_response(up ? st::ok : st::service_unavailable, body);
        if (!up) set_retry_after(res, 1);
        co_return res;
      },
      Budget::none);
}

void add_ops_routes(Router& r, std::function<bool()> ready, metrics::Registry* metrics,
                    std::string role) {
  add_health_routes(r, std::move(ready), std::move(role));
  r.add(
      Verb::get, "/metrics",
      [metrics](RequestContext&) -> asio::awaitable<Response> {
        co_return text(st::ok, metrics ? metrics->render() : std::string(),
                       "text/plain; version=0.0.4; charset=utf-8");
      },
      Budget::none);
}

void add_routes(Router& r, app::Deps deps, ApiOptions opt) {
  auto c = std::make_shared<Ctx>(Ctx{deps, std::move(opt)});

  // ---- Operations: health for load balancers; /metrics only on the operations listener.
  add_health_routes(r, c->o.ready, c->o.role);

  // The sale's classes at the door (sale_doors.hpp): the join yields to the rest.
  const SaleDoors doors = add_sale_doors(r, c->o.door, c->o.database_full);

  // ---- Identity
  r.add(Verb::post, "/v1/accounts",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          if (c->o.signup_limiter &&
              !c->o.signup_limiter->allow(address_key(ctx.remote), c->d.now())) {
            co_return error_to_response(Errc::rate_limited);
          }
          TRY_RESP(auto body, parse_object(ctx.req));
          TRY_RESP(auto in, sign_up_request(body));
          app::Identity id(c->d);
          std::string client = address_key(ctx.remote);
          TRY_RESP(auto acc, co_await id.sign_up(in.email, in.password, in.name, client));
          co_return created(json::object{{"id", acc.id}, {"email", acc.email}, {"name", acc.name}});
        }));
  r.add(Verb::post, "/v1/sessions",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          if (c->o.signup_limiter &&
              !c->o.signup_limiter->allow("login:" + address_key(ctx.remote), c->d.now())) {
            co_return error_to_response(Errc::rate_limited);
          }
          TRY_RESP(auto body, parse_object(ctx.req));
          TRY_RESP(auto in, log_in_request(body));
          app::Identity id(c->d);
          std::string client = address_key(ctx.remote);
          TRY_RESP(auto s, co_await id.log_in(in.email, in.password, client));
          co_return created(
              json::object{{"session_token", s.token}, {"expires_at", rfc3339(s.expires_at)}});
        }));
  r.add(Verb::delete_, "/v1/sessions/current",
        authed(c, [c](RequestContext&, const app::Principal& who) -> asio::awaitable<Response> {
          app::Identity id(c->d);
          auto done = co_await id.log_out(who);
          if (!done) co_return error_to_response(done.error());
          co_return no_content();
        }));
  r.add(Verb::get, "/v1/me",
        authed(c, [c](RequestContext&, const app::Principal& who) -> asio::awaitable<Response> {
          app::Identity id(c->d);
          TRY_RESP(auto acc, co_await id.me(who));
          co_return ok(json::object{{"id", acc.id}, {"email", acc.email}, {"name", acc.name}});
        }));

  // ---- Catalogue: encoded once per thread and served from memory with an ETag (304 on a
  // matching If-None-Match); see serve_cached for how fresh.
  r.add(Verb::get, "/v1/events",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          // 400 past 100 characters is the use case's; the bound here only stops huge values
          // (4 bytes per character at most) before they are copied.
          TRY_RESP(auto q, query_param(ctx.req.target(), "q", 4 * 100 + 1));
          if (q) {
            // Searches are not cached here: their keys are unbounded and each one is cheap.
            app::Catalogue cat(c->d);
            TRY_RESP(auto events, co_await cat.search(*q));
            json::array a;
            for (const auto& e : events) a.push_back(event_json(e));
            auto res = ok(json::object{{"events", std::move(a)}});
            res.set(beast::http::field::cache_control, kShortCache);
            co_return res;
          }
          BodyBuilder build = [c]() -> app::Task<std::string> {
            app::Catalogue cat(c->d);
            TK_CO_TRY(auto events, co_await cat.events());
            json::array a;
            for (const auto& e : events) a.push_back(event_json(e));
            co_return json::serialize(json::object{{"events", std::move(a)}});
          };
          std::string key = "events";
          co_return co_await serve_cached(*c, ctx.req, key, kCatalogueFreshMs, kShortCache, build);
        }));
  // Best sellers of a window, from Redis; one body per window and process for a few seconds.
  r.add(Verb::get, "/v1/rankings",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          TRY_RESP(auto w, query_param(ctx.req.target(), "window", 10));
          auto window = domain::parse_rank_window(w ? *w : "24h");
          if (!window) {
            co_return error_to_response(invalid("window", "1h or 24h"));
          }
          BodyBuilder build = [c, win = *window]() -> app::Task<std::string> {
            app::Rankings rankings(c->d);
            TK_CO_TRY(auto top, co_await rankings.top(win));
            json::array a;
            for (const auto& e : top) {
              a.push_back(
                  json::object{{"event_id", e.event_id}, {"title", e.title}, {"sold", e.sold}});
            }
            co_return json::serialize(json::object{{"events", std::move(a)}});
          };
          std::string key = "rankings:" + std::string(domain::to_string(*window));
          co_return co_await serve_cached(*c, ctx.req, key, app::kRankingCacheMs, kShortCache,
                                          build);
        }));
  r.add(Verb::get, "/v1/events/{event_id}",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          std::string id(ctx.param("event_id"));
          BodyBuilder build = [c, id]() -> app::Task<std::string> {
            app::Catalogue cat(c->d);
            TK_CO_TRY(auto e, co_await cat.event(id));
            co_return json::serialize(event_json(e));
          };
          std::string key = "event:" + id;
          co_return co_await serve_cached(*c, ctx.req, key, kCatalogueFreshMs, kShortCache, build);
        }));
  r.add(Verb::get, "/v1/performances/{pid}",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          std::string id(ctx.param("pid"));
          BodyBuilder build = [c, id]() -> app::Task<std::string> {
            app::Catalogue cat(c->d);
            TK_CO_TRY(auto p, co_await cat.performance(id));
            co_return json::serialize(performance_json(p, c->d.now(), false));
          };
          std::string key = "performance:" + id;
          co_return co_await serve_cached(*c, ctx.req, key, kCatalogueFreshMs, kShortCache, build);
        }));
  r.add(Verb::get, "/v1/venues/{venue_id}/layout",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          std::string id(ctx.param("venue_id"));
          BodyBuilder build = [c, id]() -> app::Task<std::string> {
            app::Catalogue cat(c->d);
            TK_CO_TRY(auto layout, co_await cat.layout(id));
            co_return layout_body(layout->venue);
          };
          std::string key = "layout:" + id;
          co_return co_await serve_cached(*c, ctx.req, key, kForever, kImmutable, build);
        }));

  // ---- Waiting room
  r.add(Verb::post, "/v1/performances/{pid}/queue",
        authed(c,
               [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
                 app::WaitingRoom room(c->d);
                 // The body is optional: only a sale that asks for a proof of work needs one.
                 std::optional<app::JoinProof> proof;
                 if (!ctx.req.body().empty()) {
                   TRY_RESP(auto body, parse_object(ctx.req));
                   TRY_RESP(auto p, join_request(body));
                   proof = std::move(p);
                 }
                 TRY_RESP(auto j,
                          co_await room.join(who, std::string(ctx.param("pid")),
                                             header(ctx.req, "Queue-Ticket"), std::move(proof)));
                 auto body = json::object{{"ticket", j.ticket},
                                          {"position", j.position},
                                          {"state", app::to_string(j.state)}};
                 // A pre-queue place: no position until the draw; the entry is what the draw
                 // orders.
                 if (j.state == app::QueueState::pre_queue) body["position"] = nullptr;
                 if (j.entry > 0) body["entry_id"] = app::entry_id(j.entry);
                 auto res = json_response(j.created ? st::created : st::ok, body);
                 set_retry_after(res, j.retry_after_seconds);
                 co_return res;
               }),
        Budget::request, doors.join);
  // Leaving: the ticket is the capability (as for polls); giving up a place twice is a no-op.
  r.add(Verb::delete_, "/v1/performances/{pid}/queue",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          app::WaitingRoom room(c->d);
          auto done =
              co_await room.leave(std::string(ctx.param("pid")), header(ctx.req, "Queue-Ticket"));
          if (!done) co_return error_to_response(done.error());
          co_return no_content();
        }));
  r.add(Verb::get, "/v1/performances/{pid}/queue/challenge",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          app::WaitingRoom room(c->d);
          TRY_RESP(auto ch, co_await room.challenge(who, std::string(ctx.param("pid"))));
          auto res = ok(json::object{{"challenge", ch.challenge},
                                     {"difficulty", ch.difficulty},
                                     {"expires_at", rfc3339(ch.expires_at)}});
          res.set(beast::http::field::cache_control, "no-store");
          co_return res;
        }));
  add_queue_status_route(r, c->d, c->o.poll_limiter, doors.poll);
  // The admission log, public: a page of entries after `after`, kept a second per process.
  r.add(Verb::get, "/v1/performances/{pid}/queue/audit",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          TRY_RESP(auto a, query_param(ctx.req.target(), "after", 20));
          auto after = parse_sequence(a ? *a : "0");
          if (!after) co_return error_to_response(invalid("after", "a sequence number, 0 or more"));
          std::string id(ctx.param("pid"));
          BodyBuilder build = [c, id, from = *after]() -> app::Task<std::string> {
            app::WaitingRoom room(c->d);
            TK_CO_TRY(auto entries, co_await room.admission_log(id, from));
            co_return json::serialize(admission_log_json(entries));
          };
          std::string key = "audit:" + id + ":" + std::to_string(*after);
          co_return co_await serve_cached(*c, ctx.req, key, kCatalogueFreshMs, kShortCache, build);
        }));

  // The pre-queue's fairness, public: the seed's commitment, and once drawn the seed and the
  // entries, so anyone can recompute the order (tools/verify_prequeue.py).
  r.add(Verb::get, "/v1/performances/{pid}/queue/fairness",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          std::string id(ctx.param("pid"));
          BodyBuilder build = [c, id]() -> app::Task<std::string> {
            app::WaitingRoom room(c->d);
            TK_CO_TRY(auto f, co_await room.fairness(id));
            json::object o{{"seed_commitment", f.seed_commitment},
                           {"seed", nullptr},
                           {"pre_queue_size", f.pre_queue_size},
                           {"shuffle", domain::kShuffleName}};
            if (!f.seed.empty()) o["seed"] = f.seed;
            co_return json::serialize(o);
          };
          std::string key = "fairness:" + id;
          co_return co_await serve_cached(*c, ctx.req, key, kCatalogueFreshMs, kShortCache, build);
        }));
  r.add(Verb::get, "/v1/performances/{pid}/queue/fairness/entries",
        per_address(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          std::string id(ctx.param("pid"));
          BodyBuilder build = [c, id]() -> app::Task<std::string> {
            app::WaitingRoom room(c->d);
            TK_CO_TRY(auto order, co_await room.drawn_entries(id));
            // Before the draw the list is still growing: published once it is final.
            std::string out = "{\"complete\":";
            out += order ? "true" : "false";
            out += ",\"entries\":[";
            if (order) {
              out.reserve(out.size() + order->entries.size() * 19 + 2);
              for (std::size_t i = 0; i < order->entries.size(); ++i) {
                if (i > 0) out += ',';
                out += '"';
                out += app::entry_id(order->entries[i]);
                out += '"';
              }
            }
            out += "]}";
            co_return out;
          };
          // Once drawn the list never changes: built once (megabytes for a big pre-queue), kept.
          auto q = c->d.shared->view->get(id);
          const auto keep = q && q->pre ? kForever : kCatalogueFreshMs;
          std::string key = std::string(q && q->pre ? "fairness-drawn:" : "fairness-entries:") + id;
          co_return co_await serve_cached(*c, ctx.req, key, keep, kShortCache, build);
        }));

  // ---- Seats and holds
  r.add(Verb::get, "/v1/performances/{pid}/seats",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          TRY_RESP(auto section, query_param(ctx.req.target(), "section"));
          TRY_RESP(auto bodies, co_await seat_map_bodies_for(*c, ctx, who));
          if (!section) co_return text(st::ok, bodies->full(), "application/json");
          auto body = bodies->section(*section);
          if (!body) co_return error_to_response(Errc::not_found, {{"section", *section}});
          co_return text(st::ok, std::move(*body), "application/json");
        }));
  r.add(Verb::get, "/v1/performances/{pid}/sections",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          TRY_RESP(auto bodies, co_await seat_map_bodies_for(*c, ctx, who));
          co_return text(st::ok, bodies->summary, "application/json");
        }));
  r.add(Verb::post, "/v1/performances/{pid}/holds",
        authed(c,
               [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
                 app::Seats seats(c->d);
                 std::string pid(ctx.param("pid"));
                 TRY_RESP(auto access,
                          co_await seats.check_access(who, pid, header(ctx.req, "Access-Token")));
                 TRY_RESP(auto body, parse_object(ctx.req));
                 TRY_RESP(auto want, hold_request(body));
                 Result<domain::Hold> h = app::Errc::unavailable;
                 if (want.best_available) {
                   h = co_await seats.hold_best(who, access, pid, std::move(*want.best_available));
                 } else {
                   h = co_await seats.hold(who, access, pid, std::move(want.seat_ids));
                 }
                 // Not on a 409: it names the seats that were taken, and forcing a rebuild for
                 // every buyer who lost a race would rebuild a stadium's map back to back during an
                 // on-sale.
                 if (!h) co_return error_to_response(h.error());
                 c->recent_writes.note(who.account_id, c->d.now());
                 json::array s;
                 for (auto& x : h->seat_ids) s.emplace_back(x);
                 co_return created(json::object{{"hold_id", h->id},
                                                {"seat_ids", std::move(s)},
                                                {"expires_at", rfc3339(h->expires_at)}});
               }),
        Budget::request, doors.hold);
  r.add(Verb::delete_, "/v1/holds/{hold_id}",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          app::Seats seats(c->d);
          auto done = co_await seats.release(who, std::string(ctx.param("hold_id")));
          c->recent_writes.note(who.account_id, c->d.now());
          if (!done) co_return error_to_response(done.error());
          co_return no_content();
        }));

  // ---- Waiting list after sell-out
  r.add(Verb::post, "/v1/performances/{pid}/waitlist",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          TRY_RESP(auto body, parse_object(ctx.req));
          TRY_RESP(auto count, waitlist_request(body));
          app::Waitlist list(c->d);
          TRY_RESP(auto e, co_await list.join(who, std::string(ctx.param("pid")), count));
          co_return json_response(e.created ? st::created : st::ok,
                                  json::object{{"position", e.position},
                                               {"count", e.seat_count},
                                               {"state", app::to_string(e.state)}});
        }));
  r.add(Verb::get, "/v1/performances/{pid}/waitlist/me",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          app::Waitlist list(c->d);
          TRY_RESP(auto v, co_await list.mine(who, std::string(ctx.param("pid"))));
          json::object body{{"position", v.entry.position},
                            {"count", v.entry.seat_count},
                            {"state", app::to_string(v.entry.state)}};
          if (v.entry.state == app::WaitlistState::offered) {
            body["access_token"] = v.access_token;
            body["access_expires_at"] = rfc3339(v.entry.access_expires_at);
            body["hold_id"] = v.entry.hold_id;
          }
          auto res = ok(std::move(body));
          res.set(beast::http::field::cache_control, "no-store");
          co_return res;
        }));
  r.add(Verb::delete_, "/v1/performances/{pid}/waitlist",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          app::Waitlist list(c->d);
          auto done = co_await list.leave(who, std::string(ctx.param("pid")));
          if (!done) co_return error_to_response(done.error());
          co_return no_content();
        }));

  // ---- Orders and payment
  r.add(Verb::post, "/v1/orders",
        authed(c,
               [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
                 TRY_RESP(auto body, parse_object(ctx.req));
                 TRY_RESP(auto hold_id, order_request(body));
                 app::Orders orders(c->d);
                 TRY_RESP(auto placed, co_await orders.place(who, hold_id));
                 co_return json_response(placed.created ? st::created : st::ok,
                                         order_json(placed.order, c->d.now(), false));
               }),
        Budget::request, doors.order);
  r.add(Verb::get, "/v1/orders/{order_id}",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          app::Orders orders(c->d);
          TRY_RESP(auto o, co_await orders.get(who, std::string(ctx.param("order_id"))));
          co_return ok(order_json(o, c->d.now(), true));
        }));
  r.add(Verb::get, "/v1/me/orders",
        authed(c, [c](RequestContext&, const app::Principal& who) -> asio::awaitable<Response> {
          app::Orders orders(c->d);
          TRY_RESP(auto list, co_await orders.mine(who));
          json::array a;
          for (const auto& o : list) a.push_back(order_json(o, c->d.now(), true));
          co_return ok(json::object{{"orders", std::move(a)}});
        }));
  r.add(Verb::post, "/v1/orders/{order_id}/payment",
        authed(c,
               [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
                 TRY_RESP(auto key, idempotency_key(ctx.req));
                 TRY_RESP(auto body, parse_object(ctx.req));
                 TRY_RESP(auto in, payment_request(body));
                 app::PaymentRequest pr;
                 pr.order_id = std::string(ctx.param("order_id"));
                 pr.idempotency_key = std::move(key);
                 pr.fingerprint =
                     crypto::request_fingerprint("POST", ctx.req.target(), ctx.req.body());
                 pr.method = std::move(in.method);
                 pr.card_token = std::move(in.card_token);
                 pr.traceparent = ctx.span().traceparent();
                 app::Payments pay(c->d);
                 auto paid = co_await pay.pay(who, std::move(pr));
                 c->recent_writes.note(who.account_id, c->d.now());  // held seats became sold
                 if (!paid) co_return error_to_response(paid.error());
                 auto& a = *paid;
                 Response res{static_cast<st>(a.status), 11};
                 res.set(beast::http::field::content_type, "application/json");
                 res.body() = std::move(a.body);
                 res.prepare_payload();
                 co_return res;
               }),
        Budget::request, doors.payment);

  // ---- Refunds: 202 once requested; the worker gives the money back and frees the seats.
  r.add(Verb::post, "/v1/orders/{order_id}/refund",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          TRY_RESP(auto key, idempotency_key(ctx.req));
          app::Refunds refunds(c->d);
          TRY_RESP(auto a, co_await refunds.request(who, std::string(ctx.param("order_id")),
                                                    std::move(key), ctx.span().traceparent()));
          co_return refund_accepted(a);
        }));
  r.add(Verb::post, "/v1/admin/orders/{order_id}/refund",
        admin(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          TRY_RESP(auto key, idempotency_key(ctx.req));
          app::Refunds refunds(c->d);
          TRY_RESP(auto a,
                   co_await refunds.request_as_admin(std::string(ctx.param("order_id")),
                                                     std::move(key), ctx.span().traceparent()));
          ctx.log("order", a.order_id);
          co_return refund_accepted(a);
        }));

  // ---- Operating
  r.add(Verb::post, "/v1/admin/venues",
        admin(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          TRY_RESP(auto body, parse_object(ctx.req));
          TRY_RESP(auto in, venue_request(body));
          app::Admin a(c->d);
          TRY_RESP(auto v, co_await a.create_venue(in.name, std::move(in.sections)));
          co_return created(json::object{{"id", v.id}, {"seat_count", v.seats.size()}});
        }));
  r.add(Verb::post, "/v1/admin/events",
        admin(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          TRY_RESP(auto body, parse_object(ctx.req));
          TRY_RESP(auto in, event_request(body));
          app::Admin a(c->d);
          TRY_RESP(auto id,
                   co_await a.create_event(in.title, in.venue_id, in.performer.value_or("")));
          co_return created(json::object{{"id", id}});
        }));
  r.add(Verb::post, "/v1/admin/events/{event_id}/performances",
        admin(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          TRY_RESP(auto body, parse_object(ctx.req));
          TRY_RESP(auto n, performance_request(body));
          n.event_id = std::string(ctx.param("event_id"));
          app::Admin a(c->d);
          TRY_RESP(auto id, co_await a.create_performance(std::move(n)));
          co_return created(json::object{{"id", id}});
        }));
  r.add(Verb::get, "/v1/admin/performances/{pid}",
        admin(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          app::Admin a(c->d);
          TRY_RESP(auto p, co_await a.performance(std::string(ctx.param("pid"))));
          co_return ok(performance_json(p, c->d.now(), true));
        }));
  r.add(Verb::patch, "/v1/admin/performances/{pid}",
        admin(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          TRY_RESP(auto body, parse_object(ctx.req));
          TRY_RESP(auto ch, performance_change(body));
          app::Admin a(c->d);
          TRY_RESP(auto p, co_await a.update_performance(std::string(ctx.param("pid")), ch));
          co_return ok(performance_json(p, c->d.now(), true));
        }));
  r.add(Verb::get, "/v1/admin/performances/{pid}/stats",
        admin(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          app::Admin a(c->d);
          TRY_RESP(auto s, co_await a.stats(std::string(ctx.param("pid"))));
          co_return ok(json::object{{"waiting", s.waiting},
                                    {"admitted_total", s.admitted_total},
                                    {"active", s.active},
                                    {"holds_active", s.holds_active},
                                    {"holds_expired_total", s.holds_expired_total},
                                    {"seats", json::object{{"available", s.seats_available},
                                                           {"held", s.seats_held},
                                                           {"sold", s.seats_sold}}},
                                    {"orders_paid", s.orders_paid},
                                    {"admission_rate_per_s", s.admission_rate_per_s}});
        }));

  // ---- After the sale: e-tickets and check-in
  r.add(Verb::get, "/v1/checkin/keys",
        per_address(c, [c](RequestContext&) -> asio::awaitable<Response> {
          app::Tickets tickets(c->d);
          json::array keys;
          for (const auto& k : tickets.checkin_keys()) {
            keys.push_back(json::object{
                {"kid", k.kid},
                {"alg", "Ed25519"},
                {"public_key", crypto::base64url_encode(std::string_view(
                                   reinterpret_cast<const char*>(k.key.data()), k.key.size()))}});
          }
          auto res = ok(json::object{{"keys", std::move(keys)}});
          res.set(beast::http::field::cache_control, "public, max-age=300");
          co_return res;
        }));
  r.add(Verb::get, "/v1/tickets/{ticket_id}/pdf",
        authed(c, [c](RequestContext& ctx, const app::Principal& who) -> asio::awaitable<Response> {
          app::Tickets tickets(c->d);
          TRY_RESP(auto doc, co_await tickets.pdf(who, std::string(ctx.param("ticket_id"))));
          Response res{st::ok, 11};
          res.set(beast::http::field::content_type, doc.content_type);
          res.set(beast::http::field::content_disposition,
                  "attachment; filename=\"" + doc.filename + "\"");
          res.set(beast::http::field::cache_control, "private, no-store");
          res.body() = std::move(doc.data);
          res.prepare_payload();
          co_return res;
        }));
  r.add(Verb::post, "/v1/admin/performances/{pid}/door-tokens",
        admin(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          TRY_RESP(auto ttl_ms, door_token_ttl(ctx.req));
          app::Tickets tickets(c->d);
          TRY_RESP(auto pass,
                   co_await tickets.issue_door_token(std::string(ctx.param("pid")), ttl_ms));
          co_return created(
              json::object{{"token", pass.token}, {"expires_at", rfc3339(pass.expires_at)}});
        }));
  // The operator's token, or a door token of the ticket's performance. Wrong credentials count
  // toward the same per-address limit as wrong admin tokens.
  r.add(Verb::post, "/v1/admin/checkin", [c](RequestContext& ctx) -> asio::awaitable<Response> {
    RateLimiter* failures = c->o.admin_failure_limiter;
    std::string from = address_key(ctx.remote);
    Millis now = c->d.now();
    if (failures && failures->exhausted(from, now)) co_return error_to_response(Errc::rate_limited);
    app::Tickets tickets(c->d);
    auto tok = bearer_token(ctx.req);
    domain::Scanner who;
    if (!c->o.admin_token.empty() && !tok.empty() && constant_time_equal(tok, c->o.admin_token)) {
      who.admin = true;
    } else {
      auto door = tickets.door_scanner(tok);
      if (!door) {
        if (failures) failures->allow(from, now);
        co_return error_to_response(Errc::unauthenticated);
      }
      who = std::move(*door);
    }
    TRY_RESP(auto body, parse_object(ctx.req));
    TRY_RESP(auto code, check_in_request(body));
    auto in = co_await tickets.check_in(who, std::move(code));
    if (!in) {
      const auto& e = in.error();
      if (app::to_app(e.code) == Errc::already_checked_in) {
        auto* at = e.details.if_contains("checked_in_at");
        json::object d;
        if (at && at->is_int64()) d["checked_in_at"] = rfc3339(at->as_int64());
        co_return error_to_response(Errc::already_checked_in, std::move(d));
      }
      co_return error_to_response(e);
    }
    ctx.log("ticket", in->ticket_id);
    co_return ok(json::object{{"ticket_id", in->ticket_id},
                              {"seat_id", in->seat_id},
                              {"performance_id", in->performance_id},
                              {"checked_in_at", rfc3339(in->checked_in_at)}});
  });

#ifdef TK_TEST_HOOKS
  // Test builds only: black-box tests move the service clock instead of sleeping.
  r.add(Verb::post, "/v1/test/clock",
        admin(c, [c](RequestContext& ctx) -> asio::awaitable<Response> {
          TRY_RESP(auto body, parse_object(ctx.req));
          TRY_RESP(auto ms, int_field(body, "advance_ms"));
          if (!c->o.test_clock) co_return error_to_response(Errc::not_found);
          c->o.test_clock->advance(ms);
          co_return ok(json::object{{"now", rfc3339(c->d.now())}});
        }));
#endif
}

}  // namespace tk::http
