#pragma once
// The consumer registry: routes one message to every consumer of its topic, each at most once to
// completion per message id (records in ProcessedLog). Transport-free: the pattern-B outbox
// dispatcher and a broker delivery both call dispatch(id, topic, payload).
#include <string>
#include <vector>

#include "app/ports/consumers.hpp"

namespace tk::app {

class ConsumerRegistry {
 public:
  explicit ConsumerRegistry(ProcessedLog& log) : log_(log) {}
  // Consumers outlive the registry; names are unique.
  void add(Consumer& c) { consumers_.push_back(&c); }
  bool handles(const std::string& topic) const;

  // Runs every consumer of `topic` not yet done for `id`. Ok only when all of them are done (a
  // topic nobody consumes is ok at once). Otherwise the first failure, with details
  // {"consumer", "reason"}; consumers that succeeded are recorded and skipped next time.
  // `traceparent`: of the span handling the delivery, for the consumers' own outbox rows.
  Task<void> dispatch(std::string id, std::string topic, std::string payload,
                      std::string traceparent = {});

 private:
  ProcessedLog& log_;
  std::vector<Consumer*> consumers_;
};

// When a failed message is tried again, and when it is given up on (parked).
struct RetryPolicy {
  int max_attempts = 8;   // deliveries before the message is parked
  Millis base_ms = 1000;  // first retry after this; doubled per attempt
  Millis max_ms = 300000;
};

// Delay before the next try after `attempts` failed tries (attempts >= 1).
Millis retry_delay(const RetryPolicy& p, int attempts);
inline bool should_park(const RetryPolicy& p, int attempts) { return attempts >= p.max_attempts; }

}  // namespace tk::app
