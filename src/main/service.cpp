#include "main/service.hpp"

#include <boost/asio.hpp>

#include "app/waiting_room.hpp"
#include "common/crypto/encoding.hpp"
#include "common/crypto/password.hpp"
#include "common/crypto/signer.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "http/handlers/api.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "infra/postgres/migrate.hpp"
#include "infra/redis/subscriber.hpp"
#include "main/adapters.hpp"
#include "workers/background.hpp"

namespace tk::service {

namespace asio = boost::asio;

struct Worker {
  asio::io_context io{1};
  std::unique_ptr<Adapters> a;
  http::Router router;
  std::unique_ptr<http::Server> server;
  http::Router ops_router;                   // the first worker's only
  std::unique_ptr<http::Server> ops_server;  // the operations listener, on the first worker
  app::Flights flights;
  app::Deps deps;
};

struct Service::Impl {
  Config cfg;
  OffsetClock clock;
  std::unique_ptr<crypto::Signer> signer;
  std::unique_ptr<crypto::PasswordHasher> hasher;
  app::QueueView view;
  app::LayoutCache layouts;
  app::Shared shared;
  metrics::Registry metrics;
  std::unique_ptr<http::RateLimiter> account_limiter, address_limiter, signup_limiter,
      admin_failure_limiter, poll_limiter;
  std::shared_ptr<http::ConnectionLimiter> conn_limiter;
  std::vector<std::unique_ptr<Worker>> workers;
  std::unique_ptr<workers::Background> background;
  std::shared_ptr<redis::Subscriber> subscriber;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
};

Service::Service(Config c) : impl_(std::make_unique<Impl>()) { impl_->cfg = std::move(c); }
Service::~Service() = default;

std::uint16_t Service::port() const {
  return impl_->workers.empty() ? 0 : impl_->workers.front()->server->port();
}

std::uint16_t Service::ops_port() const {
  return impl_->workers.empty() || !impl_->workers.front()->ops_server
             ? 0
             : impl_->workers.front()->ops_server->port();
}

Status Service::prepare(std::chrono::seconds wait) {
  auto& s = *impl_;
  const auto& cfg = s.cfg;
  crypto::init();
  std::vector<std::pair<std::string, std::string>> secrets{{cfg.secret_kid, cfg.secret}};
  if (auto c = cfg.previous_secret.find(':'); c != std::string::npos) {
    secrets.emplace_back(cfg.previous_secret.substr(0, c), cfg.previous_secret.substr(c + 1));
  }
  auto ring = crypto::KeyRing::create(secrets, cfg.secret_kid);
  if (!ring) return std::move(ring).error();
  s.signer = std::make_unique<crypto::Signer>(std::move(*ring));
  crypto::PasswordOptions po;
  po.opslimit = cfg.argon2_opslimit;
  po.memlimit = cfg.argon2_memlimit_kib * 1024;
  po.threads = cfg.argon2_threads;
  s.hasher = std::make_unique<crypto::PasswordHasher>(po);

  // Migrations first, on a throw-away context, waiting for PostgreSQL to come up.
  {
    asio::io_context io;
    pg::PoolOptions o;
    o.conninfo = cfg.pg_url;
    o.size = 1;
    auto pool = pg::Pool::create(io.get_executor(), o);
    Status result = Error{make_error_code(pg::Errc::unavailable)};
    auto deadline = std::chrono::steady_clock::now() + wait;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          while (true) {
            result = co_await pg::migrate(*pool);
            if (result || result.code() != pg::Errc::unavailable ||
                std::chrono::steady_clock::now() > deadline) {
              break;
            }
            asio::steady_timer t(co_await asio::this_coro::executor,
                                 std::chrono::milliseconds(500));
            co_await t.async_wait(asio::use_awaitable);
          }
        },
        asio::detached);
    io.run();
    pool->close();
    if (!result) return result;
  }

  s.shared.clock = &s.clock;
  s.shared.signer = s.signer.get();
  s.shared.hasher = s.hasher.get();
  s.shared.view = &s.view;
  s.shared.layouts = &s.layouts;
#ifdef TK_TEST_HOOKS
  if (cfg.fault == "crash_after_charge") s.shared.fault = app::FaultPoint::crash_after_charge;
  if (cfg.fault == "crash_after_commit") s.shared.fault = app::FaultPoint::crash_after_commit;
#endif
  s.account_limiter =
      std::make_unique<http::RateLimiter>(cfg.rate_per_account, cfg.rate_per_account * 2.0);
  if (cfg.rate_per_address > 0) {
    s.address_limiter =
        std::make_unique<http::RateLimiter>(cfg.rate_per_address, cfg.rate_per_address * 2.0);
  }
  s.signup_limiter =
      std::make_unique<http::RateLimiter>(cfg.signups_per_minute / 60.0, cfg.signups_per_minute);
  s.admin_failure_limiter = std::make_unique<http::RateLimiter>(
      cfg.admin_failures_per_minute / 60.0, cfg.admin_failures_per_minute);
  auto trusted = http::TrustedProxies::parse(cfg.trusted_proxies);
  if (!trusted) return Error{app::Errc::invalid_field, {{"field", "TICKETING_TRUSTED_PROXIES"}}};
  auto trusted_proxies = std::make_shared<const http::TrustedProxies>(std::move(*trusted));
  s.poll_limiter = std::make_unique<http::RateLimiter>(5, 20);
  s.conn_limiter =
      std::make_shared<http::ConnectionLimiter>(static_cast<std::size_t>(cfg.max_connections));

  auto redis_ep = redis::Endpoint::parse(cfg.redis_url);
  if (!redis_ep) return std::move(redis_ep).error();

  // The web front-end (web/dist), same origin as the API, when TICKETING_STATIC_DIR is set.
  std::shared_ptr<const http::StaticFiles> statics;
  if (!cfg.static_dir.empty()) {
    auto sf = http::StaticFiles::open(cfg.static_dir);
    if (!sf) return std::move(sf).error();
    statics = std::move(*sf);
  }

  for (int i = 0; i < cfg.threads; ++i) {
    auto w = std::make_unique<Worker>();
    auto ex = w->io.get_executor();
    AdapterOptions ao_store;
    ao_store.pg_url = cfg.pg_url;
    ao_store.pg_read_url = cfg.pg_read_url;
    ao_store.pg_pool_size = cfg.pg_pool_size;
    ao_store.redis = *redis_ep;
    ao_store.payment.latency = std::chrono::milliseconds(cfg.payment_latency_ms);
    ao_store.payment.timeout = std::chrono::milliseconds(cfg.payment_timeout_ms);
    w->a = Adapters::create(ex, ao_store);
    w->deps.shared = &s.shared;
    w->deps.ports = w->a->ports();
    w->deps.flights = &w->flights;
    http::ApiOptions ao;
    ao.admin_token = cfg.admin_token;
    Worker* wp = w.get();
    ao.ready = [this, wp] {
      return !impl_->draining && wp->a->pool->healthy() && wp->a->redis->connected();
    };
    ao.account_limiter = s.account_limiter.get();
    ao.address_limiter = s.address_limiter.get();
    ao.signup_limiter = s.signup_limiter.get();
    ao.admin_failure_limiter = s.admin_failure_limiter.get();
    ao.poll_limiter = s.poll_limiter.get();
#ifdef TK_TEST_HOOKS
    ao.test_clock = &s.clock;
#endif
    http::add_routes(w->router, w->deps, ao);
    if (statics) w->router.set_fallback(http::StaticFiles::handler(statics));
    http::ServerOptions so;
    so.address = cfg.http_host;
    so.port =
        static_cast<std::uint16_t>(i == 0 ? cfg.http_port : s.workers.front()->server->port());
    so.access_log = cfg.access_log;
    so.max_connections = static_cast<std::size_t>(cfg.max_connections);
    so.trusted_proxies = trusted_proxies;
    so.proxy_protocol = cfg.proxy_protocol;
    w->server = std::make_unique<http::Server>(ex, so, w->router, s.metrics, s.conn_limiter);
    if (auto l = w->server->listen(); !l) return l;
    if (i == 0) {
      // Operations listener (loopback by default): /metrics is for the scraper only; the
      // public port answers it 404. Its own small connection cap: a busy public side never
      // locks the scraper out.
      http::add_ops_routes(w->ops_router, ao.ready, &s.metrics);
      http::ServerOptions oo;
      oo.address = cfg.ops_host;
      oo.port = static_cast<std::uint16_t>(cfg.ops_port);
      oo.reuse_port = false;  // one process per operations port: a clash fails the start
      oo.access_log = false;  // scrapes every few seconds are not traffic
      oo.max_connections = 64;
      w->ops_server = std::make_unique<http::Server>(ex, oo, w->ops_router, s.metrics);
      if (auto l = w->ops_server->listen(); !l) return l;
    }
    s.workers.push_back(std::move(w));
  }

  // Metrics gathered from other components at scrape time.
  s.metrics.add_collector([this](metrics::Registry& m) {
    for (const auto& id : impl_->view.known()) {
      auto q = impl_->view.get(id);
      if (!q) continue;
      m.gauge("queue_waiting", "People waiting (tail - serving)", {{"performance", id}})
          .set(static_cast<double>(std::max<std::int64_t>(0, q->tail - q->serving)));
      m.gauge("queue_admitted_total", "Positions admitted so far", {{"performance", id}})
          .set(static_cast<double>(q->serving));
    }
    double reconnects = 0;
    for (auto& w : impl_->workers) reconnects += static_cast<double>(w->a->redis->reconnects());
    m.gauge("redis_reconnects", "Redis reconnects since start").set(reconnects);
    double pool_waits = 0, pool_timeouts = 0, pool_shed = 0;
    for (auto& w : impl_->workers) {
      auto st = w->a->pool->stats();
      pool_waits += static_cast<double>(st.waits);
      pool_timeouts += static_cast<double>(st.timeouts);
      pool_shed += static_cast<double>(st.shed);
    }
    m.gauge("pg_pool_waits", "Waits for a pooled PostgreSQL connection").set(pool_waits);
    m.gauge("pg_pool_timeouts", "Pool waits that timed out (503)").set(pool_timeouts);
    m.gauge("pg_pool_shed", "Acquires refused at once: the queue could not be served in time (503)")
        .set(pool_shed);
  });

  // Background work and the pub/sub listener run on the first worker.
  auto& w0 = *s.workers.front();
  s.background = std::make_unique<workers::Background>(w0.deps, *w0.a->outbox, *w0.a->outbox,
                                                       workers::BackgroundOptions{}, &s.metrics);
  s.subscriber = redis::Subscriber::create(w0.io.get_executor(), *redis_ep);
  s.subscriber->subscribe(redisstore::kTickChannel);
  s.subscriber->on_message([this](std::string_view, std::string_view msg) {
    // "perf|seq|from|to|admitted_at|tail"
    std::vector<std::string_view> f;
    while (true) {
      auto bar = msg.find('|');
      f.push_back(msg.substr(0, bar));
      if (bar == std::string_view::npos) break;
      msg.remove_prefix(bar + 1);
    }
    if (f.size() != 6) return;
    auto n = [](std::string_view v) {
      std::int64_t x = 0;
      std::from_chars(v.data(), v.data() + v.size(), x);
      return x;
    };
    app::AdmissionTick t{n(f[1]), n(f[2]), n(f[3]), n(f[4])};
    impl_->view.apply_tick(std::string(f[0]), t, n(f[5]), impl_->clock.now_ms());
  });
  return {};
}

void Service::stop() {
  auto& s = *impl_;
  if (s.draining.exchange(true)) return;
  log::info("draining", {});
  for (auto& w : s.workers) {
    Worker* wp = w.get();
    asio::co_spawn(
        wp->io,
        [wp]() -> asio::awaitable<void> {
          wp->server->stop_accepting();
          co_await wp->server->drain(std::chrono::seconds(10));
          wp->a->stop();
          wp->io.stop();
        },
        asio::detached);
  }
  if (auto* ops = s.workers.empty() ? nullptr : s.workers.front()->ops_server.get()) {
    asio::co_spawn(
        s.workers.front()->io,
        [ops]() -> asio::awaitable<void> {
          ops->stop_accepting();
          co_await ops->drain(std::chrono::seconds(1));
        },
        [](std::exception_ptr e) {
          if (!e) return;
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& x) {
            log::error("operations listener drain failed", {{"error", x.what()}});
          } catch (...) {
            log::error("operations listener drain failed", {});
          }
        });
  }
  if (s.background) s.background->stop();
  if (s.subscriber) asio::post(s.workers.front()->io, [sub = s.subscriber] { sub->stop(); });
}

void Service::run() {
  auto& s = *impl_;
  auto& w0 = *s.workers.front();
  for (auto& w : s.workers) w->server->start();
  if (w0.ops_server) w0.ops_server->start();
  s.subscriber->start();
  s.background->start(w0.io.get_executor());
  asio::signal_set signals(w0.io, SIGTERM, SIGINT);
  signals.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) stop();
  });
  log::info("listening", {{"host", s.cfg.http_host},
                          {"port", port()},
                          {"ops_host", s.cfg.ops_host},
                          {"ops_port", ops_port()},
                          {"threads", s.cfg.threads}});
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.workers.size(); ++i) {
    threads.emplace_back([w = s.workers[i].get()] { w->io.run(); });
  }
  w0.io.run();
  for (auto& t : threads) t.join();
  log::info("stopped", {});
}

}  // namespace tk::service
