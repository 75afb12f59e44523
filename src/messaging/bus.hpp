#pragma once
// Pattern A's message bus on RabbitMQ: the outbox relay's publisher side (AmqpBus) and the
// worker's consumer side (Inbox), both over the AMQP adapter (src/infra/amqp), which runs the
// blocking rabbitmq-c calls on threads of its own: nothing here blocks an I/O thread.
//
// Layout (declared by both sides after every connect, idempotent):
//   exchange EXCHANGE (topic) --each binding key--> quorum queue QUEUE (the workers')
//   QUEUE's retry and parking path: amqp::WorkQueue (delayed retry, then QUEUE.parking)
// A message's routing key is its topic; the topic also travels in the x-tk-topic header because a
// retried message comes back through the default exchange with the queue's name as routing key.
#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>
#include <vector>

#include "app/consumers.hpp"
#include "app/ports/messaging.hpp"
#include "common/metrics.hpp"
#include "common/supervisor.hpp"
#include "common/trace.hpp"
#include "infra/amqp/consumer.hpp"
#include "infra/amqp/publisher.hpp"

namespace tk::messaging {

struct BusOptions {
  std::string exchange = "ticketing.events";  // topic exchange; routing key = the outbox topic
  std::string queue = "ticketing.worker";     // quorum queue shared by every worker process
  std::vector<std::string> topics = {"#"};    // binding keys of the queue
  int max_attempts = 5;                       // handler failures before the message is parked
  std::chrono::milliseconds retry_delay{5000};
  std::uint16_t prefetch = 16;  // unacked deliveries per worker process
  // Deliveries handled at once per worker process (at most `prefetch`), so one e-mail's rendering
  // and SMTP dialogue overlap another's. Order across messages is not kept (the relay's lanes and
  // the retry queue reorder them anyway): every consumer tolerates reordering.
  int handlers = 8;
  // A publish not confirmed within this fails; its row stays in the outbox and is published
  // again once its claim lapses (OutboxRepo::claim_due's retry_after, longer than this).
  std::chrono::milliseconds confirm_timeout{10000};
  amqp::Options amqp;
};

inline constexpr const char* kTopicHeader = "x-tk-topic";
// W3C Trace Context over AMQP (the header name of the W3C's AMQP binding draft).
inline constexpr const char* kTraceHeader = "traceparent";

// What both sides declare.
amqp::Topology topology(const BusOptions& o);
amqp::WorkQueue work_queue(const BusOptions& o);
// Pure mappings between an outbox row, the wire message and what a handler sees. `relay`: the
// relay's span of a traced row, the parent the message carries to the worker.
amqp::Message to_message(const app::OutboxRow& row, const BusOptions& o,
                         const trace::Span* relay = nullptr);
app::BusMessage from_delivery(const amqp::Delivery& d);

class AmqpBus final : public app::MessageBus {
 public:
  // `ex`: where publish completions run when the caller's token has none (the relay's thread).
  AmqpBus(boost::asio::any_io_executor ex, amqp::Endpoint ep, BusOptions o);
  ~AmqpBus() override;
  void start();
  void stop();  // joins the publisher's thread; what is unconfirmed fails (rows stay in PG)

  boost::asio::awaitable<std::vector<bool>> publish(
      const std::vector<app::OutboxRow>& rows) override;
  bool ready() const override;
  std::size_t in_flight() const override;
  amqp::Publisher& publisher() { return *pub_; }

 private:
  BusOptions o_;
  std::shared_ptr<amqp::Publisher> pub_;
};

// The worker's consumer: takes deliveries from QUEUE, hands each to the handler, acks after the
// handler succeeded, and sends a failed one down the retry path (parked after max_attempts).
class Inbox {
 public:
  Inbox(boost::asio::any_io_executor ex, amqp::Endpoint ep, BusOptions o,
        app::MessageHandler& handler, metrics::Registry* m = nullptr);
  ~Inbox();
  // Starts the consumer thread and `handlers` delivery loops under `sup` (task "inbox").
  void start(Supervisor& sup);
  void stop();  // after the supervisor closed: unacked deliveries return to the queue
  amqp::Consumer& consumer() { return *con_; }
  std::uint64_t handled() const { return handled_; }
  std::uint64_t failed() const { return failed_; }

 private:
  boost::asio::awaitable<void> loop(Supervisor& sup);

  BusOptions o_;
  std::shared_ptr<amqp::Consumer> con_;
  app::MessageHandler& handler_;
  metrics::Registry* metrics_;
  std::uint64_t handled_ = 0, failed_ = 0;  // on the loop's executor only
};

// The worker's handler: every broker delivery goes to the consumer registry, the same one pattern
// B's in-process dispatcher feeds, so the consumers' records dedupe across both transports.
class RegistryHandler final : public app::MessageHandler {
 public:
  explicit RegistryHandler(app::ConsumerRegistry& registry) : registry_(registry) {}
  app::Task<void> deliver(const app::BusMessage& m) override {
    co_return co_await registry_.dispatch(m.id, m.topic, m.payload, m.traceparent);
  }

 private:
  app::ConsumerRegistry& registry_;
};

}  // namespace tk::messaging
