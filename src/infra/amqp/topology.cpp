#include "infra/amqp/topology.hpp"

namespace tk::amqp {

void Topology::merge(const Topology& other) {
  exchanges.insert(exchanges.end(), other.exchanges.begin(), other.exchanges.end());
  queues.insert(queues.end(), other.queues.begin(), other.queues.end());
  bindings.insert(bindings.end(), other.bindings.begin(), other.bindings.end());
}

Topology WorkQueue::topology() const {
  Topology t;
  t.exchanges.push_back(ExchangeSpec{exchange(), "direct"});
  t.exchanges.push_back(ExchangeSpec{dead_letter_exchange(), "direct"});

  QueueSpec main;
  main.name = name;
  main.kind = QueueSpec::Kind::quorum;
  main.dead_letter_exchange = dead_letter_exchange();
  main.dead_letter_routing_key = "retry";
  main.max_length = max_length;
  main.delivery_limit = delivery_limit;
  t.queues.push_back(main);

  QueueSpec retry;
  retry.name = retry_queue();
  retry.kind = QueueSpec::Kind::classic;  // TTL dead-lettering from the head, well established
  retry.message_ttl = retry_delay;
  retry.dead_letter_exchange = "";  // the default exchange routes by queue name
  retry.dead_letter_routing_key = name;
  retry.replace_when_empty = true;
  t.queues.push_back(retry);

  QueueSpec parking;
  parking.name = parking_queue();
  parking.kind = QueueSpec::Kind::quorum;
  t.queues.push_back(parking);

  t.bindings.push_back(BindingSpec{name, exchange(), routing_key()});
  t.bindings.push_back(BindingSpec{retry_queue(), dead_letter_exchange(), "retry"});
  t.bindings.push_back(BindingSpec{parking_queue(), dead_letter_exchange(), "parking"});
  return t;
}

}  // namespace tk::amqp
