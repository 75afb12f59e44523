#pragma once
// Exchanges, queues and bindings a client declares after every (re)connect. Declarations are
// idempotent; a queue that exists with other arguments fails the declaration (406
// PRECONDITION_FAILED), which the client reports as a failed connect.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tk::amqp {

struct ExchangeSpec {
  std::string name;
  std::string type = "direct";  // direct, fanout, topic, headers
};

struct QueueSpec {
  enum class Kind { quorum, classic };
  std::string name;
  Kind kind = Kind::quorum;  // always durable
  std::optional<std::string> dead_letter_exchange;
  std::optional<std::string> dead_letter_routing_key;
  std::optional<std::chrono::milliseconds> message_ttl;
  // Bound on ready messages; past it the broker refuses new ones (basic.nack to a confirming
  // publisher: x-overflow reject-publish) instead of growing.
  std::optional<std::int64_t> max_length;
  // Quorum queues: deliveries (returns by nack/requeue or a dropped consumer) before the message
  // is dead-lettered; the safety net against a message that crashes its consumer.
  std::optional<std::int64_t> delivery_limit;
  // Declared with other arguments than the broker's copy (406), the queue is deleted if it is
  // empty and declared again; if it holds messages the declare fails and the client retries later.
  // For queues whose arguments are settings (the retry queue's TTL is the retry delay).
  bool replace_when_empty = false;
};

struct BindingSpec {
  std::string queue;
  std::string exchange;
  std::string routing_key;
};

struct Topology {
  std::vector<ExchangeSpec> exchanges;  // always durable
  std::vector<QueueSpec> queues;
  std::vector<BindingSpec> bindings;

  void merge(const Topology& other);
};

// A work queue with delayed retries and a parking queue, all durable:
//   exchange NAME (direct) --NAME--> quorum queue NAME
//     dead-letters (reject without requeue, delivery limit) --> exchange NAME.dlx, key "retry"
//   NAME.dlx --retry--> classic queue NAME.retry: waits retry_delay (TTL), then dead-letters
//     through the default exchange back to NAME; a changed retry_delay takes effect once the
//     queue is empty (replace_when_empty; until then the client cannot connect and retries)
//   NAME.dlx --parking--> quorum queue NAME.parking: where Consumer::retry() moves a message after
//     max_attempts deliveries; nobody consumes it (operators inspect and replay).
// Publish to exchange NAME with routing key NAME.
struct WorkQueue {
  std::string name;
  int max_attempts = 5;
  std::chrono::milliseconds retry_delay{5000};
  std::optional<std::int64_t> max_length;  // bound of NAME (reject-publish)
  std::int64_t delivery_limit = 20;        // redeliveries without a verdict before a retry cycle

  std::string exchange() const { return name; }
  std::string routing_key() const { return name; }
  std::string dead_letter_exchange() const { return name + ".dlx"; }
  std::string retry_queue() const { return name + ".retry"; }
  std::string parking_queue() const { return name + ".parking"; }
  Topology topology() const;
};

}  // namespace tk::amqp
