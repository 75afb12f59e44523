// Pattern A's outbox relay, measured against what the broker allows: messages/s of
//   baseline  a bare rabbitmq-c publisher on one connection: persistent, mandatory messages in
//             windows of --batch, at most --lanes windows unconfirmed (what the relay's publisher
//             must do at least), on the same exchange/queue layout;
//   relay     N committed outbox rows in PostgreSQL, relayed by --lanes concurrent loops of
//             Background::relay_outbox_once (claim a batch, publish with confirms, delete the
//             confirmed rows) until none is left, as the worker's relay lanes do.
// Each run uses queues of its own and deletes them afterwards.
//
//   relay_bench --mode baseline|relay --amqp URL [--pg URL] [--messages N] [--batch B] [--lanes L]
// Prints one line: `<mode> messages=<N> seconds=<s> rate=<messages/s>`.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <string>

#include "infra/amqp/connection.hpp"
#include "infra/postgres/migrate.hpp"
#include "infra/postgres/pool.hpp"
#include "infra/postgres/repos/repos.hpp"
#include "messaging/bus.hpp"
#include "workers/background.hpp"

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "relay_bench: " << msg << "\n";
  std::exit(1);
}

struct Args {
  std::string mode, amqp, pg;
  long n = 20000;
  int batch = 200;
  int lanes = tk::workers::BackgroundOptions{}.relay_lanes;
};

tk::messaging::BusOptions layout(const std::string& mode) {
  tk::messaging::BusOptions o;
  auto suffix = std::to_string(::getpid());
  o.exchange = "bench.events." + mode + "." + suffix;
  o.queue = "bench.worker." + mode + "." + suffix;
  o.topics = {"order.#"};
  return o;
}

void delete_layout(const tk::amqp::Endpoint& ep, const tk::messaging::BusOptions& o) {
  tk::amqp::detail::Connection c;
  if (!c.open(ep, tk::amqp::Options{}, 1)) return;
  for (const auto& q : {o.queue, o.queue + ".retry", o.queue + ".parking"}) {
    amqp_queue_delete(c.get(), 1, tk::amqp::detail::bytes(q), 0, 0);
  }
  for (const auto& x : {o.exchange, o.queue, o.queue + ".dlx"}) {
    amqp_exchange_delete(c.get(), 1, tk::amqp::detail::bytes(x), 0);
  }
}

double baseline(const Args& a, const tk::amqp::Endpoint& ep) {
  using namespace tk::amqp::detail;
  auto o = layout("baseline");
  Connection c;
  if (!c.open(ep, tk::amqp::Options{}, 1)) die("cannot connect to the broker");
  if (!c.declare(tk::messaging::topology(o), 1)) die("declare failed");
  amqp_confirm_select(c.get(), 1);
  if (!c.check("confirm.select")) die("confirm.select failed");
  std::string body = R"({"order_id":"00000000-0000-0000-0000-000000000000","account_id":"x"})";
  auto start = Clock::now();
  long sent = 0;
  std::uint64_t tag = 0, published = 0;
  std::deque<std::uint64_t> windows;  // the last delivery tag of each unconfirmed window
  while (sent < a.n || !windows.empty()) {
    if (sent < a.n && windows.size() < static_cast<std::size_t>(a.lanes)) {
      long window = std::min<long>(a.batch, a.n - sent);
      for (long i = 0; i < window; ++i) {
        std::string id = std::to_string(sent + i + 1);
        amqp_basic_properties_t p{};
        p._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
                   AMQP_BASIC_MESSAGE_ID_FLAG;
        p.content_type = amqp_cstring_bytes("application/json");
        p.delivery_mode = AMQP_DELIVERY_PERSISTENT;
        p.message_id = bytes(id);
        if (amqp_basic_publish(c.get(), 1, bytes(o.exchange), amqp_cstring_bytes("order.paid"), 1,
                               0, &p, bytes(body)) != AMQP_STATUS_OK) {
          die("publish failed");
        }
      }
      sent += window;
      published += static_cast<std::uint64_t>(window);
      windows.push_back(published);
      continue;
    }
    // Every lane has a window out (or nothing is left to send): wait for the oldest's confirms.
    while (tag < windows.front()) {
      amqp_frame_t f;
      if (amqp_simple_wait_frame(c.get(), &f) != AMQP_STATUS_OK) die("wait frame failed");
      if (f.frame_type != AMQP_FRAME_METHOD) continue;
      if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
        auto* m = static_cast<amqp_basic_ack_t*>(f.payload.method.decoded);
        tag = m->multiple ? m->delivery_tag : std::max(tag, m->delivery_tag);
      } else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
        die("nacked");
      }
    }
    while (!windows.empty() && tag >= windows.front()) windows.pop_front();
  }
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  delete_layout(ep, o);
  return s;
}

double relay(const Args& a, const tk::amqp::Endpoint& ep) {
  asio::io_context io;
  tk::pg::PoolOptions po;
  po.conninfo = a.pg;
  po.size = std::max(2, a.lanes);  // a connection per lane, as the worker's pool allows
  po.statement_timeout = std::chrono::milliseconds(60000);
  auto pool = tk::pg::Pool::create(io.get_executor(), po);
  tk::pgrepo::Outbox outbox(pool);
  auto o = layout("relay");
  tk::messaging::AmqpBus bus(io.get_executor(), ep, o);
  tk::workers::BackgroundOptions bo;
  bo.bus = &bus;
  bo.outbox_batch = a.batch;
  tk::pgrepo::ProcessedLog processed(pool);
  tk::app::ConsumerRegistry unused(processed);  // the relay publishes; nothing consumes here
  tk::workers::Background bg(tk::app::Deps{}, outbox, unused, bo);
  double seconds = -1;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        // The service's schema (idempotent): a fresh database works as well as the service's.
        auto mig = co_await tk::pg::migrate(*pool);
        if (!mig) die("migrations failed (is PostgreSQL up at --pg?)");
        auto del = co_await pool->query("DELETE FROM outbox");
        if (!del) die("outbox not reachable (migrated database?)");
        auto ins = co_await pool->query(
            "INSERT INTO outbox (topic, payload) SELECT 'order.paid', jsonb_build_object("
            "'order_id', gen_random_uuid()::text, 'account_id', 'x') FROM generate_series(1, $1)",
            tk::pg::Params(tk::pg::arg(a.n)));
        if (!ins) die("insert failed");
        bus.start();
        for (int i = 0; i < 200 && !bus.ready(); ++i) {
          asio::steady_timer t(io, std::chrono::milliseconds(50));
          co_await t.async_wait(asio::use_awaitable);
        }
        if (!bus.ready()) die("cannot connect to the broker");
        auto start = Clock::now();
        long done = 0;
        int running = a.lanes;
        asio::steady_timer all_done(io, asio::steady_timer::time_point::max());
        for (int lane = 0; lane < a.lanes; ++lane) {
          asio::co_spawn(
              io,
              [&]() -> asio::awaitable<void> {
                // A lane ends when a claim finds nothing: the other lanes hold the rest.
                for (;;) {
                  int k = co_await bg.relay_outbox_once();
                  if (k == 0) break;
                  done += k;
                }
                if (--running == 0) all_done.cancel();
              },
              asio::detached);
        }
        boost::system::error_code ec;
        co_await all_done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (done != a.n) die("relayed " + std::to_string(done) + " of " + std::to_string(a.n));
        seconds = std::chrono::duration<double>(Clock::now() - start).count();
        bus.stop();
        pool->close();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  delete_layout(ep, o);
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + k);
      return argv[++i];
    };
    if (k == "--mode")
      a.mode = next();
    else if (k == "--amqp")
      a.amqp = next();
    else if (k == "--pg")
      a.pg = next();
    else if (k == "--messages")
      a.n = std::atol(next().c_str());
    else if (k == "--batch")
      a.batch = std::atoi(next().c_str());
    else if (k == "--lanes")
      a.lanes = std::atoi(next().c_str());
    else
      die("unknown option " + k);
  }
  auto ep = tk::amqp::Endpoint::parse(a.amqp);
  if (!ep) die("bad --amqp");
  if (a.n <= 0 || a.batch <= 0 || a.lanes <= 0) {
    die("--messages, --batch and --lanes must be positive");
  }
  double s = 0;
  if (a.mode == "baseline") {
    s = baseline(a, *ep);
  } else if (a.mode == "relay") {
    if (a.pg.empty()) die("--pg required");
    s = relay(a, *ep);
  } else {
    die("--mode baseline|relay");
  }
  std::cout << a.mode << " messages=" << a.n << " seconds=" << s << " rate=" << (a.n / s) << "\n";
  return 0;
}
