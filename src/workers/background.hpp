#pragma once
// Pattern B's in-process background work, run on one io_context of the process:
//  - admission ticker: one tick per live performance and interval (the Redis script's
//    compare-and-set keeps several processes from double-admitting);
//  - view refresh: performance settings and queue counters, a fallback for missed pub/sub;
//  - outbox dispatcher: hands each outbox row to the consumer registry (no broker); deletes it
//    once every consumer of its topic succeeded, retries it with backoff otherwise, and parks it
//    (kept, counted in /metrics) after RetryPolicy::max_attempts deliveries; with a message bus
//    (pattern A) it relays the row to the bus instead and deletes it once the broker confirmed;
//  - payment reconciler and order expiry sweeper.
// Each loop runs under a Supervisor: a loop that throws is logged, counted and started again after
// a backoff, and close() waits until every loop has finished its current round.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "app/consumers.hpp"
#include "app/deps.hpp"
#include "app/ports/messaging.hpp"
#include "common/metrics.hpp"
#include "common/supervisor.hpp"

namespace tk::workers {

struct BackgroundOptions {
  std::chrono::milliseconds tick_poll{50};
  std::chrono::milliseconds refresh{1000};
  // Presence marks gathered from polls are written to Redis this often (the tick's presence
  // window allows for it: domain::presence_window_seconds).
  std::chrono::milliseconds presence_flush{1000};
  std::chrono::milliseconds outbox_poll{200};
  // A claimed row stays invisible to other dispatchers this long (a crashed dispatcher's rows
  // come back after it): longer than the slowest consumer (the SMTP timeout) and than the bus's
  // confirm timeout.
  std::chrono::milliseconds outbox_lease{30000};
  app::RetryPolicy outbox_retry;
  std::chrono::milliseconds reconcile{1000};
  // The waiting list's offer round (seats that came back after sell-out), with the ticker.
  std::chrono::milliseconds waitlist{1000};
  int outbox_batch = 200;
  // Pattern A: relay loops per process, so batches are being published while others are claimed
  // or deleted in PostgreSQL (each claim skips the others' locked rows). One lane reaches about
  // 0.6x of what the broker takes from a bare publisher, four about 0.8-0.9x (docs/BENCHMARKS.md).
  int relay_lanes = 4;
  // Pattern B: dispatcher loops per process, each handing one claimed row at a time to the
  // consumers, so one e-mail's rendering and SMTP dialogue overlap another's (the claims skip each
  // other's locked rows). Order across rows is not kept: every consumer tolerates reordering.
  int dispatch_lanes = 4;
  // Which loops run. Pattern A: an API process runs only the refresher (its queue view and
  // settings), a worker runs them all.
  bool run_ticker = true;
  bool run_refresher = true;
  bool run_dispatcher = true;
  bool run_reconciler = true;
  bool run_presence = true;  // every process that answers polls
  // Pattern A: the dispatcher publishes outbox rows here instead of the consumer registry.
  app::MessageBus* bus = nullptr;
  SupervisorOptions supervision;
  // Called at the start of every round with the loop's name ("ticker", "refresher", "dispatcher",
  // "reconciler", "waitlist"); what it throws fails that round like any other error (tests inject
  // failures).
  std::function<void(std::string_view loop)> on_round;
};

class Background {
 public:
  Background(app::Deps deps, app::OutboxRepo& outbox, app::ConsumerRegistry& consumers,
             BackgroundOptions o = {}, metrics::Registry* m = nullptr)
      : d_(deps), outbox_(outbox), consumers_(consumers), o_(o), metrics_(m) {}
  ~Background();  // close() must have completed if start() ran
  // Spawns every loop on `ex` under the supervisor.
  void start(boost::asio::any_io_executor ex);
  // Thread-safe: loops end after their current round; their sleeps end at once.
  void stop();
  // On the executor given to start(): stops and completes once every loop has returned, so a
  // round in progress (an admission tick being recorded, a payment being settled) finishes.
  boost::asio::awaitable<void> close();

  // One step each, for tests. dispatch_outbox_once returns the rows claimed.
  boost::asio::awaitable<int> dispatch_outbox_once();
  // Pattern A: claims due rows, publishes them to the bus, deletes those the broker confirmed.
  // Returns how many left the outbox. Nothing is claimed while the bus is not connected.
  boost::asio::awaitable<int> relay_outbox_once();
  boost::asio::awaitable<void> tick_all_once();

 private:
  boost::asio::awaitable<void> ticker();
  boost::asio::awaitable<void> presence();
  boost::asio::awaitable<void> waitlist();
  boost::asio::awaitable<void> refresher();
  boost::asio::awaitable<void> dispatcher();
  boost::asio::awaitable<void> reconciler();
  bool stopping() const { return !sup_ || sup_->stopping(); }
  boost::asio::awaitable<void> pause(std::chrono::milliseconds d);
  void round(std::string_view loop) {
    if (o_.on_round) o_.on_round(loop);
  }

  app::Deps d_;
  app::OutboxRepo& outbox_;
  app::ConsumerRegistry& consumers_;
  BackgroundOptions o_;
  metrics::Registry* metrics_;
  std::unique_ptr<Supervisor> sup_;
  // Replaced as a whole by the refresher; loops keep their own reference while they suspend, so a
  // refresh never frees a performance another loop is still using.
  std::shared_ptr<const std::vector<domain::Performance>> live_ =
      std::make_shared<std::vector<domain::Performance>>();
  // The refresher's previous sold count per performance: a round old, so every payment in it has
  // written its Redis markers (the sold-marker reconcile compares with it, not with a count that
  // may include a payment still writing them). Refresher only.
  std::unordered_map<std::string, std::int64_t> sold_last_round_;
};

}  // namespace tk::workers
