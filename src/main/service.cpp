#include "main/service.hpp"

#include <boost/asio.hpp>

#include "app/consumers.hpp"
#include "app/rankings.hpp"
#include "app/receipt_mail.hpp"
#include "app/refunds.hpp"
#include "app/search_indexer.hpp"
#include "app/waiting_room.hpp"
#include "app/waitlist_mail.hpp"
#include "common/allocator.hpp"
#include "common/crypto/encoding.hpp"
#include "common/crypto/password.hpp"
#include "common/crypto/signer.hpp"
#include "common/crypto/ticket_codes.hpp"
#include "common/deadline.hpp"
#include "common/log.hpp"
#include "common/log_async.hpp"
#include "common/metrics.hpp"
#include "common/supervisor.hpp"
#include "gateway/forwarder.hpp"
#include "gateway/routes.hpp"
#include "gateway/upstreams.hpp"
#include "http/handlers/api.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "infra/mail/smtp.hpp"
#include "infra/postgres/migrate.hpp"
#include "infra/redis/stores/queue_messages.hpp"
#include "infra/redis/subscriber.hpp"
#include "main/adapters.hpp"
#include "messaging/bus.hpp"
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
  // Gateway role: this loop's connections to the API processes and its shared-limit clients.
  std::unique_ptr<gateway::Forwarder> forwarder;
  gateway::SharedLimits limits;
};

struct Service::Impl {
  Config cfg;
  OffsetClock clock;
  std::unique_ptr<crypto::Signer> signer;
  std::unique_ptr<crypto::TicketCodeSigner> ticket_signer;
  std::unique_ptr<crypto::BlockingPool> render_pool;
  std::unique_ptr<crypto::PasswordHasher> hasher;
  std::unique_ptr<app::InFlightLimit> hashes_per_client;
  app::QueueView view;
  app::LayoutCache layouts;
  app::PresenceMarks presence;
  app::Shared shared;
  metrics::Registry metrics;
  std::unique_ptr<http::RateLimiter> account_limiter, address_limiter, signup_limiter,
      admin_failure_limiter, poll_limiter;
  std::shared_ptr<http::ConnectionLimiter> conn_limiter;
  std::vector<std::unique_ptr<Worker>> workers;
  // After-sale consumers (declared before `background`, which uses them, so they outlive it).
  std::unique_ptr<mail::SmtpMailer> mailer;
  std::unique_ptr<app::ReceiptMailConsumer> receipt_mail;
  std::unique_ptr<app::RefundConsumer> refund;
  std::unique_ptr<app::RefundMailConsumer> refund_mail;
  std::unique_ptr<app::WaitlistOfferMailConsumer> waitlist_mail;
  std::unique_ptr<app::SearchIndexer> search_indexer;
  std::unique_ptr<app::RankingConsumer> rankings;
  std::unique_ptr<app::ConsumerRegistry> consumers;
  std::unique_ptr<workers::Background> background;
  std::shared_ptr<redis::Subscriber> subscriber;
  // Pattern A's bus: the outbox relay's publisher and the consumer of the worker's queue.
  std::unique_ptr<messaging::AmqpBus> bus;
  std::unique_ptr<messaging::RegistryHandler> registry_handler;
  app::MessageHandler* handler = nullptr;
  std::unique_ptr<messaging::Inbox> inbox;
  std::unique_ptr<Supervisor> inbox_sup;
  // Gateway role: the API processes and their health checks (on the first worker).
  std::unique_ptr<gateway::Upstreams> upstreams;
  std::unique_ptr<Supervisor> gateway_sup;
  // Catalogue reads on a replica (TICKETING_PG_READ_URL): its freshness, checked every second
  // on the first worker.
  std::shared_ptr<pg::ReplicaFreshness> read_fresh;
  std::unique_ptr<Supervisor> replica_sup;
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};

  asio::awaitable<void> shutdown();
};

// Runs on the first worker, in the order a load balancer needs (as Envoy drains): /readyz has
// answered 503 since stop(); requests are still served for the drain delay so the balancer
// notices; then every listener closes, in-flight requests finish (bounded by the drain timeout),
// the background loops finish their current round, and only then do connections to PostgreSQL
// and Redis close and the event loops stop.
asio::awaitable<void> Service::Impl::shutdown() {
  constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
  auto& w0 = *workers.front();
  asio::steady_timer timer(w0.io, std::chrono::milliseconds(cfg.drain_delay_ms));
  co_await timer.async_wait(kTuple);

  log::info("closing listeners", {});
  for (auto& w : workers)
    if (w->server) w->server->stop_accepting();
  const std::chrono::milliseconds timeout(cfg.drain_timeout_ms);
  std::size_t left = 0;
  for (auto& w : workers) left += w->server ? 1 : 0;
  auto w0_ex = w0.io.get_executor();
  for (auto& w : workers) {
    if (!w->server) continue;
    Worker* wp = w.get();
    // The completion reports back on the first worker, which owns `left` and `timer`.
    asio::co_spawn(wp->io, wp->server->drain(timeout),
                   [this, w0_ex, &left, &timer](std::exception_ptr e) {
                     if (e) log_failure("http drain", &metrics)(e);
                     asio::post(w0_ex, [&left, &timer] {
                       if (--left == 0) timer.cancel();
                     });
                   });
  }
  while (left > 0) {
    timer.expires_at(asio::steady_timer::time_point::max());
    co_await timer.async_wait(kTuple);
  }
  log::info("requests drained", {});
  // The operations listener answered /readyz (503) through the delay; it closes last.
  if (w0.ops_server) {
    w0.ops_server->stop_accepting();
    co_await w0.ops_server->drain(std::chrono::seconds(1));
  }

  if (background) co_await background->close();
  if (gateway_sup) co_await gateway_sup->close();
  if (replica_sup) co_await replica_sup->close();
  if (inbox_sup) co_await inbox_sup->close();
  if (inbox) inbox->stop();  // unacked deliveries go back to the queue
  if (bus) bus->stop();      // unconfirmed rows stay in the outbox
  if (subscriber) subscriber->stop();
  for (auto& w : workers) {
    if (w.get() == &w0) continue;
    Worker* wp = w.get();
    asio::post(wp->io, [wp] {
      wp->a->stop();
      wp->io.stop();
    });
  }
  w0.a->stop();
  w0.io.stop();
}

Service::Service(Config c) : impl_(std::make_unique<Impl>()) { impl_->cfg = std::move(c); }
Service::~Service() = default;

std::uint16_t Service::port() const {
  return impl_->workers.empty() || !impl_->workers.front()->server
             ? 0
             : impl_->workers.front()->server->port();
}

void Service::set_message_handler(app::MessageHandler* h) { impl_->handler = h; }

std::uint16_t Service::ops_port() const {
  return impl_->workers.empty() || !impl_->workers.front()->ops_server
             ? 0
             : impl_->workers.front()->ops_server->port();
}

Status Service::prepare(std::chrono::seconds wait) {
  auto& s = *impl_;
  const auto& cfg = s.cfg;
  const std::string role(role_name(cfg.role));
  const bool is_gateway = cfg.role == Role::gateway;
  crypto::init();
  std::vector<std::pair<std::string, std::string>> secrets{{cfg.secret_kid, cfg.secret}};
  if (auto c = cfg.previous_secret.find(':'); c != std::string::npos) {
    secrets.emplace_back(cfg.previous_secret.substr(0, c), cfg.previous_secret.substr(c + 1));
  }
  auto ring = crypto::KeyRing::create(secrets, cfg.secret_kid);
  if (!ring) return std::move(ring).error();
  s.signer = std::make_unique<crypto::Signer>(std::move(*ring));
  {
    std::string seed;
    if (cfg.ticket_signing_seed.empty()) {
      log::warn(
          "TICKETING_TICKET_SIGNING_SEED unset: ticket codes signed with a key derived "
          "from TICKETING_SECRET (development only)",
          {});
      seed = crypto::derive_dev_seed(cfg.secret);
    } else {
      seed = *crypto::parse_key_bytes(cfg.ticket_signing_seed);
    }
    auto previous = crypto::parse_public_keys(cfg.ticket_signing_previous);
    auto ts = crypto::TicketCodeSigner::create(
        seed, cfg.ticket_signing_kid,
        previous ? std::move(*previous) : std::vector<crypto::PublicKey>{});
    sodium_memzero(seed.data(), seed.size());
    if (!ts) return std::move(ts).error();
    s.ticket_signer = std::make_unique<crypto::TicketCodeSigner>(std::move(*ts));
  }
  s.render_pool = std::make_unique<crypto::BlockingPool>(cfg.pdf_threads,
                                                         static_cast<std::size_t>(cfg.pdf_queue));
  crypto::PasswordOptions po;
  po.opslimit = cfg.argon2_opslimit;
  po.memlimit = cfg.argon2_memlimit_kib * 1024;
  po.threads = cfg.argon2_threads;
  po.max_queue = static_cast<std::size_t>(cfg.argon2_queue);
  s.hasher = std::make_unique<crypto::PasswordHasher>(po);
  s.hashes_per_client = std::make_unique<app::InFlightLimit>(cfg.argon2_per_address);

  // Migrations first, on a throw-away context, waiting for PostgreSQL to come up. A gateway
  // leaves the schema to the API processes and workers it fronts.
  if (!is_gateway) {
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
        log_failure("migrations"));
    io.run();
    pool->close();
    if (!result) return result;
  }

  s.shared.clock = &s.clock;
  s.shared.signer = s.signer.get();
  s.shared.ticket_signer = s.ticket_signer.get();
  s.shared.hasher = s.hasher.get();
  s.shared.hashes_per_client = s.hashes_per_client.get();
  s.shared.view = &s.view;
  s.shared.layouts = &s.layouts;
  s.shared.presence = &s.presence;
  s.shared.settings.admission_inventory_percent = cfg.admission_inventory_percent;
#ifdef TK_TEST_HOOKS
  if (cfg.fault == "crash_after_charge") s.shared.fault = app::FaultPoint::crash_after_charge;
  if (cfg.fault == "crash_after_commit") s.shared.fault = app::FaultPoint::crash_after_commit;
  if (cfg.fault == "crash_after_refund") s.shared.fault = app::FaultPoint::crash_after_refund;
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
  if (is_gateway) {
    auto eps = gateway::parse_upstreams(cfg.gateway_upstreams);
    if (!eps) return Error{app::Errc::invalid_field, {{"field", "TICKETING_GATEWAY_UPSTREAMS"}}};
    gateway::HealthOptions ho;
    ho.interval = std::chrono::milliseconds(cfg.gateway_health_interval_ms);
    s.upstreams = std::make_unique<gateway::Upstreams>(std::move(*eps), ho, &s.metrics);
  }

  // The web front-end (web/dist), same origin as the API, when TICKETING_STATIC_DIR is set.
  std::shared_ptr<const http::StaticFiles> statics;
  if (!cfg.static_dir.empty()) {
    auto sf = http::StaticFiles::open(cfg.static_dir);
    if (!sf) return std::move(sf).error();
    statics = std::move(*sf);
  }

  if (!is_gateway && cfg.pg_read_url != cfg.pg_url) {
    s.read_fresh = std::make_shared<pg::ReplicaFreshness>();
  }
  for (int i = 0; i < cfg.threads; ++i) {
    auto w = std::make_unique<Worker>();
    auto ex = w->io.get_executor();
    AdapterOptions ao_store;
    ao_store.pg_url = cfg.pg_url;
    ao_store.pg_read_url = cfg.pg_read_url;
    ao_store.pg_pool_size = cfg.pg_pool_size;
    ao_store.read_fresh = s.read_fresh;
    ao_store.pg_unhealthy_after = std::chrono::milliseconds(cfg.pg_unready_after_ms);
    ao_store.pg_wait_target = std::chrono::milliseconds(cfg.pg_wait_target_ms);
    ao_store.redis = *redis_ep;
    ao_store.redis_options.command_timeout = std::chrono::milliseconds(cfg.redis_timeout_ms);
    ao_store.redis_options.stall_timeout = std::chrono::milliseconds(cfg.redis_stall_ms);
    ao_store.redis_options.max_pending = static_cast<std::size_t>(cfg.redis_max_pending);
    ao_store.payment.latency = std::chrono::milliseconds(cfg.payment_latency_ms);
    ao_store.payment.timeout = std::chrono::milliseconds(cfg.payment_timeout_ms);
    ao_store.render_pool = s.render_pool.get();
    if (!cfg.pdf_font.empty()) ao_store.pdf.font_path = cfg.pdf_font;
    w->a = Adapters::create(ex, ao_store);
    w->deps.shared = &s.shared;
    w->deps.ports = w->a->ports();
    w->deps.flights = &w->flights;
    http::ApiOptions ao;
    ao.admin_token = cfg.admin_token;
    Worker* wp = w.get();
    ao.ready = [this, wp] {
      // Not only a closed socket: a Redis that stopped answering makes the instance unready.
      return !impl_->draining && wp->a->pool->healthy() && wp->a->redis->healthy();
    };
    ao.account_limiter = s.account_limiter.get();
    ao.address_limiter = s.address_limiter.get();
    ao.signup_limiter = s.signup_limiter.get();
    ao.admin_failure_limiter = s.admin_failure_limiter.get();
    ao.poll_limiter = s.poll_limiter.get();
    ao.role = role;
    ao.door.target = std::chrono::milliseconds(cfg.door_target_ms);
    ao.door.interval = std::chrono::milliseconds(cfg.door_interval_ms);
    ao.database_full = [wp] { return wp->a->pool->would_shed(); };
#ifdef TK_TEST_HOOKS
    ao.test_clock = &s.clock;
#endif
    // A worker serves no public routes: only the operations listener below.
    if (is_gateway) {
      // Limits shared by every gateway through Redis, at the rates an API process applies alone.
      auto& rc = w->a->redis;
      auto& l = w->limits;
      l.account = std::make_unique<redisstore::SharedRateLimiter>(
          rc, "gw:rl:acct:", cfg.rate_per_account, cfg.rate_per_account * 2.0);
      if (cfg.rate_per_address > 0) {
        l.address = std::make_unique<redisstore::SharedRateLimiter>(
            rc, "gw:rl:addr:", cfg.rate_per_address, cfg.rate_per_address * 2.0);
      }
      l.sign_up = std::make_unique<redisstore::SharedRateLimiter>(
          rc, "gw:rl:signup:", cfg.signups_per_minute / 60.0, cfg.signups_per_minute);
      l.log_in = std::make_unique<redisstore::SharedRateLimiter>(
          rc, "gw:rl:login:", cfg.signups_per_minute / 60.0, cfg.signups_per_minute);
      l.admin_failures = std::make_unique<redisstore::SharedRateLimiter>(
          rc, "gw:rl:admin:", cfg.admin_failures_per_minute / 60.0, cfg.admin_failures_per_minute);
      gateway::ForwardOptions fo;
      fo.max_in_flight = static_cast<std::size_t>(cfg.gateway_max_in_flight);
      fo.idle_per_upstream = static_cast<std::size_t>(cfg.gateway_idle_connections);
      w->forwarder = std::make_unique<gateway::Forwarder>(ex, *s.upstreams, fo, &s.metrics);
      gateway::RouteOptions go;
      go.ready = ao.ready;
      go.role = role;
      go.poll_limiter = s.poll_limiter.get();
      go.limits = &w->limits;
      go.forwarder = w->forwarder.get();
      go.metrics = &s.metrics;
      go.door = ao.door;
      gateway::add_routes(w->router, w->deps, go);
    } else if (cfg.role != Role::worker) {
      http::add_routes(w->router, w->deps, ao);
    }
    if (cfg.role != Role::worker) {
      // A gateway forwards the web front-end's files with everything else.
      if (statics && !is_gateway) w->router.set_fallback(http::StaticFiles::handler(statics));
      http::ServerOptions so;
      so.address = cfg.http_host;
      so.port =
          static_cast<std::uint16_t>(i == 0 ? cfg.http_port : s.workers.front()->server->port());
      so.access_log = cfg.access_log;
      so.request_timeout = std::chrono::milliseconds(cfg.request_timeout_ms);
      so.max_connections = static_cast<std::size_t>(cfg.max_connections);
      so.trusted_proxies = trusted_proxies;
      so.proxy_protocol = cfg.proxy_protocol;
      w->server = std::make_unique<http::Server>(ex, so, w->router, s.metrics, s.conn_limiter);
      if (auto l = w->server->listen(); !l) return l;
    }
    if (i == 0) {
      // Operations listener (loopback by default): /metrics is for the scraper only; the
      // public port answers it 404. Its own small connection cap: a busy public side never
      // locks the scraper out.
      http::add_ops_routes(w->ops_router, ao.ready, &s.metrics, role);
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
    if (auto a = allocator::stats()) {
      m.gauge("allocator_allocated_bytes", "Bytes in live allocations (jemalloc)")
          .set(static_cast<double>(a->allocated));
      m.gauge("allocator_resident_bytes", "Bytes of the allocator's pages in memory (jemalloc)")
          .set(static_cast<double>(a->resident));
    }
    double stalls = 0, rejected = 0, failures = 0;
    for (auto& w : impl_->workers) {
      stalls += static_cast<double>(w->a->redis->stall_drops());
      rejected += static_cast<double>(w->a->redis->rejected());
      failures += static_cast<double>(w->a->redis->failures());
    }
    m.gauge("redis_stall_drops", "Redis connections dropped after a stall").set(stalls);
    m.gauge("redis_rejected", "Redis commands refused: client queue full (503)").set(rejected);
    m.gauge("redis_client_failures", "Redis client coroutines that failed (logged, reconnected)")
        .set(failures);
    double lost[5] = {0, 0, 0, 0, 0};
    for (auto& w : impl_->workers) {
      const auto& c = w->flights.lost_holds.counters();
      lost[0] += static_cast<double>(c.released.load(std::memory_order_relaxed));
      lost[1] += static_cast<double>(c.absent.load(std::memory_order_relaxed));
      lost[2] += static_cast<double>(c.expired.load(std::memory_order_relaxed));
      lost[3] += static_cast<double>(c.skipped.load(std::memory_order_relaxed));
      lost[4] += static_cast<double>(c.failed.load(std::memory_order_relaxed));
    }
    const char* results[5] = {"released", "absent", "expired", "skipped", "failed"};
    for (int i = 0; i < 5; ++i) {
      m.gauge("lost_hold_releases", "Holds whose answer was lost, by how their release ended",
              {{"result", results[i]}})
          .set(lost[i]);
    }
    double pool_waits = 0, pool_timeouts = 0, pool_shed = 0, pool_resumed = 0;
    for (auto& w : impl_->workers) {
      auto st = w->a->pool->stats();
      pool_waits += static_cast<double>(st.waits);
      pool_timeouts += static_cast<double>(st.timeouts);
      pool_shed += static_cast<double>(st.shed);
      pool_resumed += static_cast<double>(st.resumed);
    }
    m.gauge("password_hash_queue", "Password hashes waiting for a hasher thread")
        .set(static_cast<double>(impl_->hasher->pool().queued()));
    m.gauge("password_hash_dummies", "Dummy hashes for unknown e-mails queued or running")
        .set(static_cast<double>(impl_->hasher->pool().spare_in_flight()));
    m.gauge("pg_pool_waits", "Waits for a pooled PostgreSQL connection").set(pool_waits);
    m.gauge("pg_pool_timeouts", "Pool waits that timed out (503)").set(pool_timeouts);
    m.gauge("pg_pool_shed", "Acquires refused at once: the queue could not be served in time (503)")
        .set(pool_shed);
    m.gauge("pg_pool_resumed",
            "Waits of requests that had a connection before: queued first, never shed")
        .set(pool_resumed);
    auto& dropped = m.counter("log_lines_dropped_total",
                              "Log lines dropped because the log writer fell behind");
    dropped.inc(static_cast<double>(log::dropped_lines()) - dropped.value());
  });

  // Background work and the pub/sub listener run on the first worker.
  auto& w0 = *s.workers.front();
  s.consumers = std::make_unique<app::ConsumerRegistry>(*w0.a->processed);
  s.consumers->add(*w0.a->receipt_ledger);
  // Refunds: the provider refund and the seats back on sale (order.refund_requested).
  s.refund = std::make_unique<app::RefundConsumer>(w0.deps);
  s.consumers->add(*s.refund);
  // Derived data fed by the outbox: the search index and the sales rankings.
  s.search_indexer = std::make_unique<app::SearchIndexer>(*w0.a->search);
  s.consumers->add(*s.search_indexer);
  s.rankings =
      std::make_unique<app::RankingConsumer>(*w0.a->rankings, *w0.a->catalog_writer, s.clock);
  s.consumers->add(*s.rankings);
  if (!s.cfg.smtp_url.empty()) {
    mail::SmtpOptions mo;
    mo.url = s.cfg.smtp_url;
    mo.from = s.cfg.mail_from;
    mo.username = s.cfg.smtp_user;
    mo.password = s.cfg.smtp_password;
    mo.timeout = std::chrono::milliseconds(s.cfg.smtp_timeout_ms);
    s.mailer = std::make_unique<mail::SmtpMailer>(mo, s.clock);
    // One PDF e-ticket per ticket, rendered off the I/O threads (the first worker's renderer).
    s.receipt_mail = std::make_unique<app::ReceiptMailConsumer>(
        *w0.a->receipts, w0.a->documents.get(), *s.mailer, s.cfg.mail_from);
    s.consumers->add(*s.receipt_mail);
    s.refund_mail =
        std::make_unique<app::RefundMailConsumer>(*w0.a->receipts, *s.mailer, s.cfg.mail_from);
    s.consumers->add(*s.refund_mail);
    s.waitlist_mail = std::make_unique<app::WaitlistOfferMailConsumer>(
        *w0.a->waitlist, *s.mailer, *s.signer, s.clock, s.cfg.mail_from, s.cfg.public_url);
    s.consumers->add(*s.waitlist_mail);
  } else {
    log::warn("TICKETING_SMTP_URL not set: no receipt e-mails are sent", {});
  }
  workers::BackgroundOptions bo;
  bo.outbox_lease = std::chrono::milliseconds(s.cfg.outbox_lease_ms);
  bo.outbox_retry.max_attempts = s.cfg.outbox_max_attempts;
  bo.outbox_retry.base_ms = s.cfg.outbox_retry_base_ms;
  bo.dispatch_lanes = bo.relay_lanes = s.cfg.outbox_lanes;
  if (cfg.role == Role::api || is_gateway) {
    // The loops that change shared state run in the workers; an API process keeps only its own
    // queue view and settings fresh (the refresher).
    bo.run_ticker = bo.run_dispatcher = bo.run_reconciler = false;
  }
  if (!cfg.amqp_url.empty() && (cfg.role == Role::all || cfg.role == Role::worker)) {
    auto ep = amqp::Endpoint::parse(cfg.amqp_url);
    if (!ep) return Error{app::Errc::invalid_field, {{"field", "TICKETING_AMQP_URL"}}};
    messaging::BusOptions mo;
    // The same "deliveries before parking" as the in-process dispatcher's outbox.
    mo.max_attempts = s.cfg.outbox_max_attempts;
    mo.retry_delay = std::chrono::milliseconds(s.cfg.amqp_retry_delay_ms);
    mo.handlers = s.cfg.amqp_handlers;
    // Room for the next deliveries while all handlers are busy.
    mo.prefetch = static_cast<std::uint16_t>(std::max(16, 2 * s.cfg.amqp_handlers));
    s.bus = std::make_unique<messaging::AmqpBus>(w0.io.get_executor(), *ep, mo);
    bo.bus = s.bus.get();
    // Broker deliveries reach the same consumers as pattern B's in-process dispatch, deduped by
    // the same message id (the outbox id).
    if (!s.handler) {
      s.registry_handler = std::make_unique<messaging::RegistryHandler>(*s.consumers);
      s.handler = s.registry_handler.get();
    }
    s.inbox =
        std::make_unique<messaging::Inbox>(w0.io.get_executor(), *ep, mo, *s.handler, &s.metrics);
    s.inbox_sup = std::make_unique<Supervisor>(w0.io.get_executor(), &s.metrics);
  }
  if (is_gateway) {
    s.gateway_sup = std::make_unique<Supervisor>(w0.io.get_executor(), &s.metrics);
  }
  if (s.read_fresh) s.replica_sup = std::make_unique<Supervisor>(w0.io.get_executor(), &s.metrics);
  s.background =
      std::make_unique<workers::Background>(w0.deps, *w0.a->outbox, *s.consumers, bo, &s.metrics);
  s.subscriber = redis::Subscriber::create(w0.io.get_executor(), *redis_ep);
  s.subscriber->subscribe(redisstore::kTickChannel);
  s.subscriber->on_message([this](std::string_view, std::string_view msg) {
    redisstore::apply_queue_message(msg, impl_->view, impl_->clock.now_ms());
  });
  return {};
}

void Service::stop() {
  auto& s = *impl_;
  if (s.workers.empty() || s.draining.exchange(true)) return;  // from here /readyz answers 503
  log::info("draining", {{"delay_ms", s.cfg.drain_delay_ms}});
  auto& w0 = *s.workers.front();
  asio::co_spawn(w0.io, s.shutdown(), [this](std::exception_ptr e) {
    if (!e) return;
    // The sequence did not finish: stop the event loops anyway so the process exits.
    log_failure("shutdown", &impl_->metrics)(e);
    for (auto& w : impl_->workers) w->io.stop();
  });
}

void Service::run() {
  auto& s = *impl_;
  auto& w0 = *s.workers.front();
  for (auto& w : s.workers)
    if (w->server) w->server->start();
  if (w0.ops_server) w0.ops_server->start();
  s.subscriber->start();
  if (s.bus) s.bus->start();
  if (s.inbox) s.inbox->start(*s.inbox_sup);
  s.background->start(w0.io.get_executor());
  if (s.gateway_sup) {
    s.gateway_sup->spawn_loop("gateway_health", [this]() -> asio::awaitable<void> {
      co_await impl_->upstreams->check_loop(*impl_->gateway_sup);
    });
  }
  if (s.replica_sup) {
    s.replica_sup->spawn_loop("replica_freshness", [this]() -> asio::awaitable<void> {
      auto& s = *impl_;
      auto& w0 = *s.workers.front();
      const std::chrono::milliseconds max_lag(s.cfg.pg_read_max_lag_ms);
      while (!s.replica_sup->stopping()) {
        // Bounded like a request: a replica that hangs (no RST) turns the verdict stale within
        // about max_lag + 1 s instead of the pool's statement guard.
        const auto ex =
            tk::with_deadline(w0.io.get_executor(),
                              std::chrono::steady_clock::now() + max_lag + std::chrono::seconds(1));
        const bool fresh = co_await asio::co_spawn(
            ex, pg::replica_fresh(*w0.a->pool, *w0.a->read_pool, max_lag), asio::use_awaitable);
        if (fresh != s.read_fresh->fresh()) {
          log::info(fresh ? "catalogue reads on the replica" : "catalogue reads on the primary",
                    {{"replica_fresh", fresh}, {"max_lag_ms", s.cfg.pg_read_max_lag_ms}});
        }
        s.read_fresh->set(fresh);
        if (!co_await s.replica_sup->sleep(std::chrono::seconds(1))) break;
      }
    });
  }
  asio::signal_set signals(w0.io, SIGTERM, SIGINT);
  signals.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) stop();
  });
  log::info("listening", {{"role", role_name(s.cfg.role)},
                          {"host", s.cfg.http_host},
                          {"port", port()},
                          {"ops_host", s.cfg.ops_host},
                          {"ops_port", ops_port()},
                          {"threads", s.cfg.threads},
                          {"allocator", allocator::name()}});
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < s.workers.size(); ++i) {
    threads.emplace_back([w = s.workers[i].get()] { w->io.run(); });
  }
  w0.io.run();
  for (auto& t : threads) t.join();
  log::info("stopped", {});
}

}  // namespace tk::service
