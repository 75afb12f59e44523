// Pattern A's outbox relay and worker consumer against the real PostgreSQL, Redis and RabbitMQ of
// the CTest fixtures: a committed outbox row reaches the handler once although the broker was
// down between the commit and the publish, a row leaves the outbox only after the broker's
// confirm, a failed handling comes back through the retry path, and a worker handles several
// deliveries at once, and a paid order's message carries the paying request's trace to the worker.
#include <unistd.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <mutex>

#include "integration/app/harness.hpp"
#include "messaging/bus.hpp"

namespace tk::test {
namespace {

std::atomic<int> g_names{0};

messaging::BusOptions bus_options(const std::string& base) {
  // Names of their own, so one test's leftovers never reach another's consumer.
  auto n = std::to_string(::getpid()) + "." + std::to_string(++g_names);
  messaging::BusOptions o;
  o.exchange = "t.events." + base + "." + n;
  o.queue = "t.worker." + base + "." + n;
  o.topics = {"test.#"};
  o.retry_delay = 200ms;
  o.amqp.reconnect_min = 50ms;
  o.amqp.reconnect_max = 500ms;
  o.amqp.connect_timeout = 2000ms;
  return o;
}

amqp::Endpoint broker() {
  auto ep = amqp::Endpoint::parse(env("TICKETING_AMQP_URL"));
  if (!ep) throw std::runtime_error("bad TICKETING_AMQP_URL");
  return *ep;
}

// Counts what the worker's consumer hands over, by message id.
struct Recorder final : app::MessageHandler {
  std::mutex mu;
  std::map<std::string, int> seen;
  std::map<std::string, int> attempts;
  std::map<std::string, std::string> traces;  // the traceparent the worker's handling passes on
  std::string topic;
  int fail_first = 0;  // fail this many handlings before succeeding
  app::Task<void> deliver(const app::BusMessage& m) override {
    std::lock_guard lk(mu);
    ++seen[m.id];
    attempts[m.id] = m.attempt;
    traces[m.id] = m.traceparent;
    topic = m.topic;
    if (fail_first > 0) {
      --fail_first;
      co_return Error{app::Errc::unavailable};
    }
    co_return Status{};
  }
  int count(const std::string& id) {
    std::lock_guard lk(mu);
    auto it = seen.find(id);
    return it == seen.end() ? 0 : it->second;
  }
};

std::int64_t insert_row(Harness& h, const std::string& topic) {
  return h.run([&]() -> asio::awaitable<std::int64_t> {
    auto r = co_await h.pool->query(
        "INSERT INTO outbox (topic, payload) VALUES ($1, '{\"test\": true}'::jsonb) RETURNING id",
        pg::Params(pg::arg(topic)));
    if (!r) throw std::runtime_error("insert outbox row");
    co_return r->int64(0, 0);
  });
}

std::int64_t rows_with_id(Harness& h, std::int64_t id) {
  return h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM outbox WHERE id = $1::bigint", std::to_string(id));
  });
}

void clear_outbox(Harness& h) {
  h.run([&]() -> asio::awaitable<bool> {
    auto r = co_await h.pool->query("DELETE FROM outbox");
    co_return r.ok();
  });
}

workers::BackgroundOptions relay_only(app::MessageBus* bus) {
  workers::BackgroundOptions o;
  o.run_ticker = o.run_refresher = o.run_reconciler = false;
  o.outbox_poll = 20ms;
  o.outbox_lease = 30000ms;
  o.bus = bus;
  return o;
}

// Polls `pred` while the io_context runs, up to `limit`.
template <class Pred>
bool eventually(Harness& h, Pred pred, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    h.io.run_for(50ms);
  }
  return pred();
}

TEST(Relay, CommittedRowIsDeliveredOnceAlthoughTheBrokerWasDownBeforeThePublish) {
  Harness h;
  clear_outbox(h);
  auto o = bus_options("restart");
  Recorder rec;
  messaging::AmqpBus bus(h.io.get_executor(), broker(), o);
  messaging::Inbox inbox(h.io.get_executor(), broker(), o, rec);
  Supervisor sup(h.io.get_executor());
  bus.start();
  inbox.start(sup);
  ASSERT_TRUE(eventually(
      h, [&] { return bus.ready() && inbox.consumer().connected(); }, 20s));

  // The row is committed; then the broker goes away before the relay runs.
  auto id = insert_row(h, "test.restart");
  tk::test::servers("rabbitmq-halt");
  app::ConsumerRegistry unused(
      *h.adapters->processed);  // the relay publishes; nothing consumes here
  workers::Background bg(h.deps, *h.adapters->outbox, unused, relay_only(&bus));
  bg.start(h.io.get_executor());
  ASSERT_TRUE(eventually(
      h, [&] { return !bus.ready(); }, 20s));
  h.io.run_for(1000ms);
  EXPECT_EQ(rows_with_id(h, id), 1) << "while the broker is down the row waits in PostgreSQL";
  EXPECT_EQ(rec.count(std::to_string(id)), 0);

  tk::test::servers("rabbitmq-resume");
  EXPECT_TRUE(eventually(
      h, [&] { return rec.count(std::to_string(id)) >= 1; }, 60s));
  EXPECT_TRUE(eventually(
      h, [&] { return rows_with_id(h, id) == 0; }, 10s))
      << "confirmed rows leave the outbox";
  h.io.run_for(1500ms);  // a duplicate would show up by now
  EXPECT_EQ(rec.count(std::to_string(id)), 1);
  EXPECT_EQ(rec.topic, "test.restart");

  h.run([&]() -> asio::awaitable<bool> {
    co_await bg.close();
    co_await sup.close();
    co_return true;
  });
  inbox.stop();
  bus.stop();
}

TEST(Relay, RowIsNotDeletedBeforeTheBrokerConfirmed) {
  Harness h;
  clear_outbox(h);
  auto o = bus_options("confirm");
  o.confirm_timeout = 30000ms;
  messaging::AmqpBus bus(h.io.get_executor(), broker(), o);
  bus.start();
  ASSERT_TRUE(eventually(
      h, [&] { return bus.ready(); }, 20s));
  // A consumer declares the queue the topic is bound to (else the message is unroutable).
  Recorder rec;
  messaging::Inbox inbox(h.io.get_executor(), broker(), o, rec);
  Supervisor sup(h.io.get_executor());
  inbox.start(sup);
  ASSERT_TRUE(eventually(
      h, [&] { return inbox.consumer().connected(); }, 20s));

  auto id = insert_row(h, "test.confirm");
  app::ConsumerRegistry unused(
      *h.adapters->processed);  // the relay publishes; nothing consumes here
  workers::Background bg(h.deps, *h.adapters->outbox, unused, relay_only(&bus));
  // The broker stops answering (SIGSTOP): the message is written to its socket, no confirm comes.
  struct Thaw {  // however the test ends, the broker answers the tests that follow
    ~Thaw() { tk::test::servers("rabbitmq-thaw"); }
  } thaw;
  tk::test::servers("rabbitmq-pause");
  std::optional<int> relayed;
  asio::co_spawn(
      h.io, [&]() -> asio::awaitable<void> { relayed = co_await bg.relay_outbox_once(); },
      asio::detached);
  h.io.run_for(1500ms);
  EXPECT_FALSE(relayed.has_value()) << "the relay waits for the confirm";
  EXPECT_EQ(rows_with_id(h, id), 1) << "no confirm yet: the row must still be in the outbox";

  tk::test::servers("rabbitmq-thaw");
  EXPECT_TRUE(eventually(
      h, [&] { return relayed.has_value(); }, 30s));
  EXPECT_EQ(relayed.value_or(-1), 1);
  EXPECT_EQ(rows_with_id(h, id), 0) << "confirmed: deleted";
  EXPECT_TRUE(eventually(
      h, [&] { return rec.count(std::to_string(id)) == 1; }, 20s));

  h.run([&]() -> asio::awaitable<bool> {
    co_await sup.close();
    co_return true;
  });
  inbox.stop();
  bus.stop();
}

TEST(Relay, FailedHandlingIsRetriedThroughTheBrokerThenAcknowledged) {
  Harness h;
  clear_outbox(h);
  auto o = bus_options("retry");
  Recorder rec;
  rec.fail_first = 1;
  messaging::AmqpBus bus(h.io.get_executor(), broker(), o);
  messaging::Inbox inbox(h.io.get_executor(), broker(), o, rec);
  Supervisor sup(h.io.get_executor());
  bus.start();
  inbox.start(sup);
  ASSERT_TRUE(eventually(
      h, [&] { return bus.ready() && inbox.consumer().connected(); }, 20s));
  auto id = insert_row(h, "test.retry");
  app::ConsumerRegistry unused(
      *h.adapters->processed);  // the relay publishes; nothing consumes here
  workers::Background bg(h.deps, *h.adapters->outbox, unused, relay_only(&bus));
  bg.start(h.io.get_executor());
  EXPECT_TRUE(eventually(
      h, [&] { return rec.count(std::to_string(id)) == 2; }, 20s));
  {
    std::lock_guard lk(rec.mu);
    EXPECT_EQ(rec.attempts[std::to_string(id)], 2) << "the second handling is the retry";
  }
  EXPECT_EQ(rec.topic, "test.retry") << "the topic survives the retry queue's re-routing";
  h.io.run_for(1000ms);
  EXPECT_EQ(rec.count(std::to_string(id)), 2) << "acknowledged after the success";
  EXPECT_EQ(inbox.handled(), 1u);
  EXPECT_EQ(inbox.failed(), 1u);
  h.run([&]() -> asio::awaitable<bool> {
    co_await bg.close();
    co_await sup.close();
    co_return true;
  });
  inbox.stop();
  bus.stop();
}

// The payment request's span writes its traceparent on the order.paid row; the relay publishes it
// as a child span, and the worker's handling is a span of the same trace again.
TEST(Relay, PaidOrderCarriesTheRequestsTraceToTheWorker) {
  Harness h;
  clear_outbox(h);
  auto o = bus_options("trace");
  o.topics = {"order.paid"};
  Recorder rec;
  messaging::AmqpBus bus(h.io.get_executor(), broker(), o);
  messaging::Inbox inbox(h.io.get_executor(), broker(), o, rec);
  Supervisor sup(h.io.get_executor());
  bus.start();
  inbox.start(sup);
  ASSERT_TRUE(eventually(
      h, [&] { return bus.ready() && inbox.consumer().connected(); }, 20s));

  auto sale = order_two_seats(h);
  const auto request = trace::Span::child_of(
      std::string_view("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  auto paid = h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
    app::Payments pay(h.deps);
    app::PaymentRequest r{sale.order.id, "trace-key", "fp", "card", "tok_ok"};
    r.traceparent = request.traceparent();
    co_return co_await pay.pay(sale.who, r);
  });
  ASSERT_TRUE(paid.ok());
  ASSERT_EQ(paid->status, 200);
  auto row = h.run([&]() -> asio::awaitable<std::pair<std::int64_t, std::string>> {
    auto r = co_await h.pool->query(
        "SELECT id, COALESCE(traceparent, '') FROM outbox WHERE topic = 'order.paid'");
    if (!r || r->size() != 1) throw std::runtime_error("one order.paid row");
    co_return std::pair{r->int64(0, 0), std::string(r->text(0, 1))};
  });
  EXPECT_EQ(row.second, request.traceparent()) << "the row continues the request's span";

  app::ConsumerRegistry unused(*h.adapters->processed);
  workers::Background bg(h.deps, *h.adapters->outbox, unused, relay_only(&bus));
  bg.start(h.io.get_executor());
  const auto id = std::to_string(row.first);
  ASSERT_TRUE(eventually(
      h, [&] { return rec.count(id) == 1; }, 20s));
  std::string seen;
  {
    std::lock_guard lk(rec.mu);
    seen = rec.traces[id];
  }
  auto worker = trace::parse(seen);
  ASSERT_TRUE(worker) << seen;
  EXPECT_EQ(std::string_view(worker->trace_id.data(), 32), request.trace_id());
  // Two hops (the relay, the worker's handling) after the request: neither is the request's span.
  EXPECT_NE(std::string_view(worker->parent_id.data(), 16), request.span_id());
  EXPECT_EQ(worker->flags, 1);
  h.run([&]() -> asio::awaitable<bool> {
    co_await bg.close();
    co_await sup.close();
    co_return true;
  });
  inbox.stop();
  bus.stop();
}

// Finishes a delivery only once `want` are in its hands at the same time.
struct Overlap final : app::MessageHandler, OverlapProbe {
  app::Task<void> deliver(const app::BusMessage&) override {
    co_await pass();
    co_return Status{};
  }
};

TEST(Relay, WorkerHandlesSeveralDeliveriesAtOnce) {
  Harness h;
  clear_outbox(h);
  auto o = bus_options("overlap");
  o.handlers = 4;
  Overlap probe;
  probe.want = o.handlers;
  messaging::AmqpBus bus(h.io.get_executor(), broker(), o);
  messaging::Inbox inbox(h.io.get_executor(), broker(), o, probe);
  Supervisor sup(h.io.get_executor());
  bus.start();
  inbox.start(sup);
  ASSERT_TRUE(eventually(
      h, [&] { return bus.ready() && inbox.consumer().connected(); }, 20s));
  for (int i = 0; i < o.handlers; ++i) insert_row(h, "test.overlap");
  app::ConsumerRegistry unused(*h.adapters->processed);
  workers::Background bg(h.deps, *h.adapters->outbox, unused, relay_only(&bus));
  bg.start(h.io.get_executor());
  EXPECT_TRUE(eventually(
      h, [&] { return probe.done == o.handlers; }, 20s));
  EXPECT_EQ(probe.most, o.handlers) << "deliveries handled one after another";
  EXPECT_EQ(inbox.handled(), static_cast<std::uint64_t>(o.handlers));
  h.run([&]() -> asio::awaitable<bool> {
    co_await bg.close();
    co_await sup.close();
    co_return true;
  });
  inbox.stop();
  bus.stop();
}

}  // namespace
}  // namespace tk::test
