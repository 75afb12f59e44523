#pragma once
// Pattern A's message bus, seen from the use cases and the background loops: the outbox relay
// hands committed outbox rows to a bus, and the worker's consumer hands each message it receives
// to a handler. Transport-independent: the RabbitMQ implementation is in src/messaging.
#include <cstdint>
#include <string>
#include <vector>

#include "app/async.hpp"
#include "app/ports/orders.hpp"

namespace tk::app {

// One message as a consumer sees it. `id` is the outbox id (decimal): the dedupe key.
struct BusMessage {
  std::string id;
  std::string topic;  // e.g. "order.paid"
  std::string payload;
  int attempt = 1;          // 1 + earlier failed handlings that went through the retry path
  std::string traceparent;  // W3C traceparent header of the message (empty: none)
};

class MessageBus {
 public:
  virtual ~MessageBus() = default;
  // Publishes every row (message id = outbox id, persistent) and completes once each has been
  // settled by the broker. confirmed[i]: rows[i] is stored by the broker; only those may leave
  // the outbox. A false entry stays in PostgreSQL and is published again after its lease.
  virtual boost::asio::awaitable<std::vector<bool>> publish(const std::vector<OutboxRow>& rows) = 0;
  // Connected to the broker: the relay claims rows only then, so while the broker is down they
  // simply stay in PostgreSQL.
  virtual bool ready() const = 0;
  // Messages accepted but not yet confirmed (a gauge).
  virtual std::size_t in_flight() const = 0;
};

// "Deliver this message": what the worker's consumer calls for each message. Ok: done (the
// message is acknowledged); an error: retried later through the broker's retry path and parked
// after the last attempt. Delivery is at least once: a handler dedupes by message id.
class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  virtual Task<void> deliver(const BusMessage& m) = 0;
};

}  // namespace tk::app
