#include "app/consumers.hpp"

#include <algorithm>

#include "app/errors.hpp"

namespace tk::app {

bool ConsumerRegistry::handles(const std::string& topic) const {
  return std::any_of(consumers_.begin(), consumers_.end(), [&](const Consumer* c) {
    const auto& t = c->topics();
    return std::find(t.begin(), t.end(), topic) != t.end();
  });
}

Task<void> ConsumerRegistry::dispatch(std::string id, std::string topic, std::string payload,
                                      std::string traceparent) {
  const Message m{std::move(id), std::move(topic), std::move(payload), std::move(traceparent)};
  std::optional<Error> first;
  for (Consumer* c : consumers_) {
    const auto& t = c->topics();
    if (std::find(t.begin(), t.end(), m.topic) == t.end()) continue;
    auto fail = [&](Error e) {
      e.details["consumer"] = c->name();
      if (!first) first = std::move(e);
    };
    // The attempt is recorded before the consumer runs, so a retry after a crash knows that a
    // side effect may already have happened.
    auto begin = co_await log_.begin(c->name(), m.id);
    if (!begin) {
      fail(std::move(begin).error());
      continue;
    }
    if (begin->done) continue;
    auto r = co_await c->handle(m, begin->prior_attempts);
    if (!r) {
      fail(std::move(r).error());
      continue;
    }
    if (c->marks_done_itself()) continue;
    auto d = co_await log_.done(c->name(), m.id);
    if (!d) fail(std::move(d).error());
  }
  if (first) co_return std::move(*first);
  co_return Status{};
}

Millis retry_delay(const RetryPolicy& p, int attempts) {
  Millis d = p.base_ms;
  for (int i = 1; i < attempts && d < p.max_ms; ++i) d *= 2;
  return std::min(d, p.max_ms);
}

}  // namespace tk::app
