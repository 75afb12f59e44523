#include "messaging/bus.hpp"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <charconv>
#include <optional>

#include "app/errors.hpp"
#include "common/log.hpp"

namespace tk::messaging {

namespace asio = boost::asio;

amqp::WorkQueue work_queue(const BusOptions& o) {
  amqp::WorkQueue wq;
  wq.name = o.queue;
  wq.max_attempts = o.max_attempts;
  wq.retry_delay = o.retry_delay;
  return wq;
}

amqp::Topology topology(const BusOptions& o) {
  amqp::Topology t = work_queue(o).topology();
  t.exchanges.push_back(amqp::ExchangeSpec{o.exchange, "topic"});
  for (const auto& key : o.topics)
    t.bindings.push_back(amqp::BindingSpec{o.queue, o.exchange, key});
  return t;
}

amqp::Message to_message(const app::OutboxRow& row, const BusOptions& o,
                         const trace::Span* relay) {
  amqp::Message m;
  m.exchange = o.exchange;
  m.routing_key = row.topic;
  m.message_id = std::to_string(row.id);
  m.body = row.payload;
  m.headers[kTopicHeader] = row.topic;
  if (relay) m.headers[kTraceHeader] = relay->traceparent();
  m.persistent = true;
  m.mandatory = true;  // a topic no queue is bound to is reported, not silently dropped
  return m;
}

app::BusMessage from_delivery(const amqp::Delivery& d) {
  app::BusMessage m;
  m.id = d.message_id;
  auto h = d.headers.find(kTopicHeader);
  m.topic = h != d.headers.end() ? h->second : d.routing_key;
  m.payload = d.body;
  m.attempt = d.attempt;
  if (auto t = d.headers.find(kTraceHeader); t != d.headers.end()) m.traceparent = t->second;
  return m;
}

// ---- AmqpBus

AmqpBus::AmqpBus(asio::any_io_executor ex, amqp::Endpoint ep, BusOptions o) : o_(std::move(o)) {
  amqp::PublisherOptions po;
  static_cast<amqp::Options&>(po) = o_.amqp;
  po.topology = topology(o_);
  po.confirm_timeout = o_.confirm_timeout;
  pub_ = amqp::Publisher::create(std::move(ex), std::move(ep), std::move(po));
}

AmqpBus::~AmqpBus() { stop(); }
void AmqpBus::start() { pub_->start(); }
void AmqpBus::stop() { pub_->stop(); }
bool AmqpBus::ready() const { return pub_->connected(); }
std::size_t AmqpBus::in_flight() const { return pub_->pending(); }

asio::awaitable<std::vector<bool>> AmqpBus::publish(const std::vector<app::OutboxRow>& rows) {
  // Every row is handed to the publisher at once (its thread pipelines them and confirms come
  // back in batches); the coroutine then waits until each one is settled.
  struct State {
    std::vector<bool> ok;
    std::size_t left;
    asio::steady_timer done;
  };
  auto ex = co_await asio::this_coro::executor;
  auto st = std::make_shared<State>(
      State{std::vector<bool>(rows.size(), false), rows.size(), asio::steady_timer(ex)});
  if (rows.empty()) co_return st->ok;
  st->done.expires_at(asio::steady_timer::time_point::max());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    // A traced row's relay is a span of its trace: logged once the broker confirmed it.
    std::optional<trace::Span> relay;
    if (!rows[i].traceparent.empty()) relay = trace::Span::child_of(rows[i].traceparent);
    pub_->publish(to_message(rows[i], o_, relay ? &*relay : nullptr),
                  asio::bind_executor(ex, [st, i, id = rows[i].id, relay](tk::Status s) {
                    st->ok[i] = s.ok();
                    if (!s.ok()) {
                      log::warn("outbox publish not confirmed",
                                {{"outbox_id", id}, {"error", s.code().message()}});
                    } else if (relay) {
                      boost::json::object f;
                      f["outbox_id"] = id;
                      relay->add_fields(f);
                      log::info("outbox relayed", f);
                    }
                    if (--st->left == 0) st->done.cancel();
                  }));
  }
  while (st->left > 0) {
    boost::system::error_code ec;
    co_await st->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_return st->ok;
}

// ---- Inbox

Inbox::Inbox(asio::any_io_executor ex, amqp::Endpoint ep, BusOptions o,
             app::MessageHandler& handler, metrics::Registry* m)
    : o_(std::move(o)), handler_(handler), metrics_(m) {
  auto co = amqp::ConsumerOptions::for_work_queue(work_queue(o_), o_.prefetch);
  static_cast<amqp::Options&>(co) = o_.amqp;
  co.topology = topology(o_);
  con_ = amqp::Consumer::create(std::move(ex), std::move(ep), std::move(co));
}

Inbox::~Inbox() { stop(); }

void Inbox::start(Supervisor& sup) {
  con_->start();
  const int loops = std::clamp(o_.handlers, 1, std::max<int>(1, o_.prefetch));
  for (int i = 0; i < loops; ++i) sup.spawn_loop("inbox", [this, &sup] { return loop(sup); });
}

void Inbox::stop() { con_->stop(); }

asio::awaitable<void> Inbox::loop(Supervisor& sup) {
  using namespace std::chrono_literals;
  while (!sup.stopping()) {
    // A bounded wait, so stop is noticed while the queue is idle.
    auto d = co_await con_->next(500ms);
    if (!d) {
      if (d.code() == amqp::Errc::stopped) co_return;
      continue;  // timeout: nothing to do
    }
    auto msg = from_delivery(*d);
    // The handling is a span: of the message's trace when it carries one, else a trace of its
    // own; the consumers' outbox rows continue it.
    const auto span = trace::Span::child_of(msg.traceparent);
    msg.traceparent = span.traceparent();
    auto r = co_await handler_.deliver(msg);
    // The consumer parks the message itself on the last attempt (Consumer::retry).
    const bool parks = !r && msg.attempt >= o_.max_attempts;
    if (r) {
      con_->ack(*d);
      ++handled_;
      boost::json::object fields;
      fields["message_id"] = msg.id;
      fields["topic"] = msg.topic;
      fields["attempt"] = msg.attempt;
      span.add_fields(fields);
      log::info("message handled", fields);
    } else {
      // The broker's retry path (delayed), then the parking queue after max_attempts.
      con_->retry(*d);
      ++failed_;
      boost::json::object fields;
      fields["message_id"] = msg.id;
      fields["topic"] = msg.topic;
      fields["attempt"] = msg.attempt;
      fields["error"] = r.code().message();
      span.add_fields(fields);
      if (parks) {
        log::error("message parked", fields);
      } else {
        log::warn("message handling failed", fields);
      }
    }
    if (metrics_) {
      const char* result = r ? "ok" : parks ? "parked" : "retry";
      metrics_
          ->counter("bus_messages_handled_total", "Messages the worker handled, by outcome",
                    {{"topic", msg.topic}, {"result", result}})
          .inc();
      if (parks) {
        metrics_
            ->counter("bus_messages_parked_total",
                      "Messages moved to the parking queue after their last attempt",
                      {{"topic", msg.topic}})
            .inc();
      }
    }
  }
}

}  // namespace tk::messaging
