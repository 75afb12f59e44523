#pragma once
// In-process harness for use-case integration tests: the real PostgreSQL and Redis adapters of the
// CTest fixture's servers, wired like the service's composition root, with a ManualClock so tests
// move time instead of sleeping. Coroutines run on one io_context with a deadline.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

#include "app/catalogue.hpp"
#include "app/identity.hpp"
#include "app/orders.hpp"
#include "app/seats.hpp"
#include "app/waiting_room.hpp"
#include "common/crypto/encoding.hpp"
#include "common/crypto/password.hpp"
#include "common/crypto/signer.hpp"
#include "common/deadline.hpp"
#include "infra/postgres/migrate.hpp"
#include "main/adapters.hpp"
#include "support/test_env.hpp"
#include "workers/background.hpp"

namespace tk::test {

namespace asio = boost::asio;
using namespace std::chrono_literals;

inline Millis wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct PerfSpec {
  int seats = 10;
  int max_per_order = 4;
  int max_per_account = 4;
  int hold_ttl_seconds = 300;
  domain::QueueSettings queue{100, 100, 1000, 600};
};

class Harness {
 public:
  explicit Harness(int provider_latency_ms = 0, const redis::Options& redis_options = {})
      : clock(wall_ms()) {
    crypto::init();
    auto ep = redis::Endpoint::parse(env("TICKETING_REDIS_URL"));
    if (!ep) throw std::runtime_error("bad redis url");
    service::AdapterOptions o;
    o.pg_url = env("TICKETING_PG_URL");
    o.redis = *ep;
    o.redis_options = redis_options;
    o.payment.latency = std::chrono::milliseconds(provider_latency_ms);
    o.payment.timeout = 1000ms;
    adapters = service::Adapters::create(io.get_executor(), o);
    pool = adapters->pool;
    rclient = adapters->redis;
    catalog = adapters->catalog.get();
    catalog_w = adapters->catalog_writer.get();
    queue = adapters->queue.get();
    auto ring =
        crypto::KeyRing::create({{"t1", "harness-secret-0123456789abcdefghijklmnop"}}, "t1");
    if (!ring) throw std::runtime_error("keyring");
    signer = std::make_unique<crypto::Signer>(std::move(*ring));
    crypto::PasswordOptions pw;
    pw.opslimit = crypto_pwhash_OPSLIMIT_MIN;
    pw.memlimit = crypto_pwhash_MEMLIMIT_MIN;
    hasher = std::make_unique<crypto::PasswordHasher>(pw);
    shared.clock = &clock;
    shared.signer = signer.get();
    shared.hasher = hasher.get();
    shared.view = &view;
    shared.layouts = &layouts;
    shared.presence = &presence;
    shared.settings.payment_margin_ms = 1000;
    deps.shared = &shared;
    deps.ports = adapters->ports();
    deps.flights = &flights;
    bool done = false;
    Status migrated;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < 100 && !rclient->connected(); ++i) co_await sleep(50ms);
          migrated = co_await pg::migrate(*pool);
          done = true;
        },
        asio::detached);
    for (int i = 0; i < 3000 && !done; ++i) io.run_for(20ms);
    if (!done || !migrated) throw std::runtime_error("harness: migrations failed");
  }
  ~Harness() {
    adapters->stop();
    io.run_for(200ms);
  }

  static asio::awaitable<void> sleep(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
  }

  // Runs a coroutine to completion (throws on timeout, rethrows its exceptions).
  template <class F>
  auto run(F f, std::chrono::milliseconds limit = 60s) {
    using T = typename std::invoke_result_t<F&>::value_type;
    std::optional<T> out;
    std::exception_ptr err;
    bool done = false;
    // Under a request deadline when a test set one (common/deadline.hpp), as the server runs a
    // handler.
    asio::any_io_executor ex = io.get_executor();
    if (request_deadline != no_deadline) ex = with_deadline(ex, request_deadline);
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          try {
            out.emplace(co_await f());
          } catch (...) {
            err = std::current_exception();
          }
          done = true;
        },
        asio::detached);
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < deadline) io.run_for(20ms);
    if (!done) throw std::runtime_error("coroutine did not finish in time");
    if (err) std::rethrow_exception(err);
    return std::move(*out);
  }
  // Connected *and* answering: right after a kill the client may not have noticed the drop yet.
  bool redis_back() {
    return run([&]() -> asio::awaitable<bool> {
      for (int i = 0; i < 200; ++i) {
        auto cmd = std::vector<std::string>{"PING"};
        if ((co_await rclient->exec(std::move(cmd))).ok()) co_return true;
        co_await sleep(50ms);
      }
      co_return false;
    });
  }

  // ---- set-up helpers (each a coroutine that fails the test on error)

  static void expect_ok(const Error& e, const char* what) {
    throw std::runtime_error(std::string(what) + " failed: " + e.code.message() + " " +
                             boost::json::serialize(e.details));
  }

  asio::awaitable<domain::Performance> make_performance(PerfSpec s) {
    app::Admin admin(deps);
    std::vector<app::NewSection> sections{{"A", {}}};
    for (int left = s.seats, row = 1; left > 0; ++row) {
      int n = std::min(left, 10);
      sections[0].rows.push_back({std::to_string(row), n, "R"});
      left -= n;
    }
    auto v = co_await admin.create_venue("Hall", sections);
    if (!v) expect_ok(v.error(), "venue");
    auto e = co_await admin.create_event("Show", v->id);
    if (!e) expect_ok(e.error(), "event");
    app::NewPerformance n;
    n.event_id = *e;
    n.starts_at = clock.now_ms() + 86400000;
    n.sale_opens_at = clock.now_ms() - 1000;
    n.price_grades = {{"R", 1000, "KRW"}};
    n.max_seats_per_order = s.max_per_order;
    n.max_seats_per_account = s.max_per_account;
    n.hold_ttl_seconds = s.hold_ttl_seconds;
    n.admit_per_interval = s.queue.admit_per_interval;
    n.interval_ms = s.queue.interval_ms;
    n.max_active = s.queue.max_active;
    n.access_ttl_seconds = s.queue.access_ttl_seconds;
    n.presence_timeout_seconds = s.queue.presence_timeout_seconds;
    n.idle_timeout_seconds = s.queue.idle_timeout_seconds;
    auto id = co_await admin.create_performance(n);
    if (!id) expect_ok(id.error(), "performance");
    app::PerformanceChange ch;
    ch.status = domain::SaleStatus::on_sale;
    auto p = co_await admin.update_performance(*id, ch);
    if (!p) expect_ok(p.error(), "open sale");
    co_return *p;
  }

  asio::awaitable<app::Principal> make_buyer() {
    app::Identity id(deps);
    std::string email = "h" + crypto::new_id("") + "@example.com";
    auto a = co_await id.sign_up(email, "password-123", "Buyer", "127.0.0.1");
    if (!a) expect_ok(a.error(), "sign up");
    auto s = co_await id.log_in(email, "password-123", "127.0.0.1");
    if (!s) expect_ok(s.error(), "log in");
    auto p = co_await id.authenticate(s->token);
    if (!p) expect_ok(p.error(), "authenticate");
    co_return *p;
  }

  // Joins and ticks (moving the clock) until admitted; returns the decoded access token.
  asio::awaitable<crypto::AccessToken> admit(const app::Principal& who,
                                             const domain::Performance& p) {
    app::WaitingRoom room(deps);
    auto j = co_await room.join(who, p.id, "");
    if (!j) expect_ok(j.error(), "join");
    for (int i = 0; i < 1000; ++i) {
      auto st = co_await room.status(p.id, j->ticket);
      if (!st) expect_ok(st.error(), "status");
      if (st->state == app::QueueState::admitted) {
        auto a = crypto::decode_access_token(*signer, st->access_token, clock.now_ms());
        if (!a) expect_ok(a.error(), "access token");
        co_return *a;
      }
      clock.advance(p.queue.interval_ms);
      auto fresh = co_await catalog_w->get_performance(p.id);
      auto t = co_await room.tick(**fresh);
      if (!t) expect_ok(t.error(), "tick");
    }
    throw std::runtime_error("never admitted");
  }

  asio::io_context io;
  SteadyTime request_deadline = no_deadline;  // for coroutines started by run()
  ManualClock clock;
  std::unique_ptr<service::Adapters> adapters;
  std::shared_ptr<pg::Pool> pool;
  std::shared_ptr<redis::Client> rclient;
  std::unique_ptr<crypto::Signer> signer;
  std::unique_ptr<crypto::PasswordHasher> hasher;
  // Shortcuts into `adapters`.
  pgrepo::CatalogReader* catalog = nullptr;
  pgrepo::CatalogWriter* catalog_w = nullptr;
  redisstore::Queue* queue = nullptr;
  app::QueueView view;
  app::LayoutCache layouts;
  app::PresenceMarks presence;
  app::Shared shared;
  app::Flights flights;
  app::Deps deps;
};

// One service process: its own in-memory queue view and single-flight groups, the shared stores.
struct Process {
  explicit Process(Harness& h) : shared(h.shared), deps(h.deps) {
    shared.view = &view;
    deps.shared = &shared;
    deps.flights = &flights;
  }
  app::QueueView view;
  app::Shared shared;
  app::Flights flights;
  app::Deps deps;
};

// Seat ids of a performance's venue, in layout order.
inline std::vector<std::string> seat_ids(Harness& h, const domain::Performance& p) {
  return h.run([&]() -> asio::awaitable<std::vector<std::string>> {
    auto v = co_await h.catalog->get_venue(p.venue_id);
    std::vector<std::string> out;
    for (auto& s : (*v)->seats) out.push_back(s.id);
    co_return out;
  });
}

// Runs until `cond()` holds (polled every millisecond on the harness's io_context).
template <class Cond>
void until(Harness& h, Cond cond) {
  h.run([&]() -> asio::awaitable<int> {
    while (!cond()) co_await Harness::sleep(1ms);
    co_return 0;
  });
}

// One tick by `room` with the performance's current settings (as the ticker reads them).
inline app::TickOutcome tick_fresh(Harness& h, app::WaitingRoom& room,
                                   const domain::Performance& p) {
  return h.run([&]() -> asio::awaitable<app::TickOutcome> {
    auto fresh = co_await h.catalog_w->get_performance(p.id);
    if (!fresh || !*fresh) throw std::runtime_error("performance");
    auto t = co_await room.tick(**fresh);
    if (!t) Harness::expect_ok(t.error(), "tick");
    co_return *t;
  });
}

// A waiting ticket's status through the waiting room of `d` (the harness's own by default).
inline app::QueueStatus queue_status(Harness& h, const app::Deps& d, const domain::Performance& p,
                                     const std::string& ticket) {
  return h.run([&]() -> asio::awaitable<app::QueueStatus> {
    app::WaitingRoom room(d);
    auto s = co_await room.status(p.id, ticket);
    if (!s) Harness::expect_ok(s.error(), "status");
    co_return *s;
  });
}
inline app::QueueStatus queue_status(Harness& h, const domain::Performance& p,
                                     const std::string& ticket) {
  return queue_status(h, h.deps, p, ticket);
}

// `who` joins the queue of `p` through the harness's waiting room (presenting a ticket or not).
inline app::JoinResult join_queue(Harness& h, const app::Principal& who,
                                  const domain::Performance& p, const std::string& presented = "") {
  return h.run([&]() -> asio::awaitable<app::JoinResult> {
    app::WaitingRoom room(h.deps);
    auto r = co_await room.join(who, p.id, presented);
    if (!r) Harness::expect_ok(r.error(), "join");
    co_return *r;
  });
}

// An operator's change of the sale's status (on_sale, paused, closed).
// An operator's change of `p` (PATCH /v1/admin/performances/{pid}); returns the performance after.
inline domain::Performance change_performance(Harness& h, const domain::Performance& p,
                                              const app::PerformanceChange& c) {
  return h.run([&]() -> asio::awaitable<domain::Performance> {
    app::Admin admin(h.deps);
    auto r = co_await admin.update_performance(p.id, c);
    if (!r) Harness::expect_ok(r.error(), "change performance");
    co_return *r;
  });
}

inline void set_sale_status(Harness& h, const domain::Performance& p, domain::SaleStatus s) {
  app::PerformanceChange c;
  c.status = s;
  change_performance(h, p, c);
}

// The admission log's entries after `after`, as GET .../queue/audit serves them.
inline std::vector<app::AuditEntry> admission_log(Harness& h, const domain::Performance& p,
                                                  std::int64_t after = 0) {
  return h.run([&]() -> asio::awaitable<std::vector<app::AuditEntry>> {
    app::WaitingRoom room(h.deps);
    auto r = co_await room.admission_log(p.id, after);
    if (!r) Harness::expect_ok(r.error(), "admission log");
    co_return *r;
  });
}

// One round of the presence loop: the marks the polls left, written to Redis.
inline void write_presence_marks(Harness& h) {
  h.run([&]() -> asio::awaitable<int> {
    app::WaitingRoom room(h.deps);
    auto r = co_await room.flush_presence();
    if (!r) Harness::expect_ok(r.error(), "presence marks");
    co_return 0;
  });
}

// One command on the fixture's Redis, its reply.
inline redis::Reply redis_cmd(Harness& h, std::vector<std::string> cmd) {
  return h.run([&]() -> asio::awaitable<redis::Reply> {
    auto r = co_await h.rclient->exec(std::move(cmd));
    if (!r) throw std::runtime_error("redis: " + r.error().code.message());
    co_return std::move(*r);
  });
}

// Empties the fixture's Redis (every lease, queue and cache gone), as a restart without data would.
inline void flush_redis(Harness& h) {
  h.run([&]() -> asio::awaitable<int> {
    // Built outside the co_await: GCC 12 miscompiles a braced list of strings inside one.
    auto cmd = std::vector<std::string>{"FLUSHALL"};
    auto r = co_await h.rclient->exec(std::move(cmd));
    if (!r) Harness::expect_ok(r.error(), "FLUSHALL");
    co_return 0;
  });
}

// A fresh buyer buys the seats `want` (hold, order, payment); returns them.
inline std::vector<std::string> buy(Harness& h, const domain::Performance& p,
                                    std::vector<std::string> want) {
  auto who = h.run([&] { return h.make_buyer(); });
  auto access = h.run([&] { return h.admit(who, p); });
  return h.run([&]() -> asio::awaitable<std::vector<std::string>> {
    app::Seats s(h.deps);
    auto hold = co_await s.hold(who, access, p.id, want);
    if (!hold) Harness::expect_ok(hold.error(), "hold");
    app::Orders o(h.deps);
    auto placed = co_await o.place(who, hold->id);
    if (!placed) Harness::expect_ok(placed.error(), "order");
    app::Payments pay(h.deps);
    app::PaymentRequest req{placed->order.id, "k1", "fp", "card", "tok_ok"};

    auto a = co_await pay.pay(who, req);
    if (!a) Harness::expect_ok(a.error(), "pay");
    if (a->status != 200) throw std::runtime_error("payment answered " + std::to_string(a->status));
    co_return want;
  });
}

// A seat's state on the seat map ("available", "held", "sold"; "missing" if not on it).
inline std::string seat_state(Harness& h, const std::string& perf, const std::string& seat) {
  return h.run([&]() -> asio::awaitable<std::string> {
    app::Seats seats(h.deps);
    auto m = co_await seats.seat_map(perf);
    if (!m) throw std::runtime_error("seat map failed");
    auto at = m->layout->index.find(seat);
    if (at == m->layout->index.end() || at->second >= m->states.size()) {
      co_return std::string("missing");
    }
    co_return std::string(app::to_string(m->states[at->second]));
  });
}

struct Sale {  // a buyer and their placed order
  app::Principal who;
  domain::Order order;
};

// Deletes the outbox rows not about orders (an event's catalogue.changed): rigs whose registry has
// no consumer for them count and claim only their orders' rows.
inline void drop_catalogue_rows(Harness& h) {
  h.run([&]() -> asio::awaitable<bool> {
    co_return (co_await h.pool->query("DELETE FROM outbox WHERE topic NOT LIKE 'order.%'")).ok();
  });
}

// A buyer with a placed order for two seats of a fresh performance (hold and order live 300 s).
inline Sale order_two_seats(Harness& h) {
  auto p = h.run([&] { return h.make_performance({.seats = 4}); });
  auto seats = seat_ids(h, p);
  auto who = h.run([&] { return h.make_buyer(); });
  auto access = h.run([&] { return h.admit(who, p); });
  auto order = h.run([&]() -> asio::awaitable<domain::Order> {
    app::Seats s(h.deps);
    std::vector<std::string> want{seats[0], seats[1]};
    auto hold = co_await s.hold(who, access, p.id, want);
    if (!hold) Harness::expect_ok(hold.error(), "hold");
    app::Orders o(h.deps);
    auto placed = co_await o.place(who, hold->id);
    if (!placed) Harness::expect_ok(placed.error(), "order");
    co_return placed->order;
  });
  return {who, order};
}

inline app::Errc code_of(const Error& e) { return app::to_app(e.code); }

// Scalar SQL helper for assertions.
inline asio::awaitable<std::int64_t> count(pg::Pool& pool, std::string sql, std::string arg) {
  auto params = pg::Params(pg::arg(arg));
  auto r = co_await pool.query(sql, std::move(params));
  if (!r) throw std::runtime_error("count query failed: " + sql);
  co_return r->int64(0, 0);
}

// Lets each caller of pass() go on only once `want` are inside at the same time (or after about
// three seconds): what a loop handling one message at a time can never reach. One executor only.
struct OverlapProbe {
  int want = 0, active = 0, most = 0, done = 0;
  asio::awaitable<void> pass() {
    most = std::max(most, ++active);
    asio::steady_timer t(co_await asio::this_coro::executor);
    for (int i = 0; i < 300 && most < want; ++i) {
      t.expires_after(std::chrono::milliseconds(10));
      co_await t.async_wait(asio::use_awaitable);
    }
    --active;
    ++done;
  }
};

}  // namespace tk::test
