#pragma once
// Sales rankings: the consumer of order.paid that counts seats per event and time bucket, and the
// public read of the best sellers of a window.
#include <string>
#include <vector>

#include "app/deps.hpp"
#include "app/ports/consumers.hpp"
#include "domain/rankings.hpp"

namespace tk::app {

inline constexpr const char* kOrderPaid = "order.paid";
// A refund subtracts the order's seats in the bucket of the refund: "popular now" follows what
// was bought and kept.
inline constexpr const char* kOrderRefunded = "order.refunded";

// An idempotency mark outlives every redelivery of a message (retries end within the retry
// policy's horizon, minutes); a mark that expired would let a very late copy count again.
inline constexpr Millis kRankMarkTtlMs = 48LL * 3600 * 1000;
inline constexpr int kRankingSize = 10;
// How long one union of buckets serves every reader (Redis) and one body every request of a
// process (HTTP cache).
inline constexpr Millis kRankingCacheMs = 5000;

struct RankedEvent {
  std::string event_id;
  std::string title;
  std::int64_t sold = 0;
};

// Consumer "rankings" of order.paid {"performance_id", "ticket_ids"} and order.refunded
// {"performance_id", "seat_ids"}: adds (or, for a refund, subtracts) the order's seats to its event
// in the bucket of the current time (the injected clock). The store's script makes the count
// and the message's mark one step, so a crash before the registry's "done" record never counts an
// order twice.
class RankingConsumer final : public Consumer {
 public:
  RankingConsumer(RankingStore& store, CatalogWriter& catalogue, const Clock& clock)
      : store_(store), catalogue_(catalogue), clock_(clock) {}
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& topics() const override { return topics_; }
  Task<void> handle(const Message& m, int prior_attempts) override;

 private:
  RankingStore& store_;
  CatalogWriter& catalogue_;
  const Clock& clock_;
  std::string name_ = "rankings";
  std::vector<std::string> topics_ = {kOrderPaid, kOrderRefunded};
};

class Rankings {
 public:
  explicit Rankings(Deps d) : d_(d) {}
  // The top kRankingSize events of the window. Rankings lost with Redis's data read as fewer (or
  // no) events: derived data, rebuilt by later sales.
  Task<std::vector<RankedEvent>> top(domain::RankWindow w);

 private:
  Deps d_;
};

}  // namespace tk::app
