#pragma once
// Pattern B's in-process background work, run on one io_context of the process:
//  - admission ticker: one tick per live performance and interval (the Redis script's
//    compare-and-set keeps several processes from double-admitting);
//  - view refresh: performance settings and queue counters, a fallback for missed pub/sub;
//  - outbox dispatcher: delivers each outbox row at least once to the receipt consumer;
//  - payment reconciler and order expiry sweeper.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "app/deps.hpp"
#include "common/metrics.hpp"

namespace tk::workers {

struct BackgroundOptions {
  std::chrono::milliseconds tick_poll{50};
  std::chrono::milliseconds refresh{1000};
  std::chrono::milliseconds outbox_poll{200};
  std::chrono::milliseconds reconcile{1000};
};

class Background {
 public:
  Background(app::Deps deps, app::OutboxRepo& outbox, app::ReceiptSink& sink,
             BackgroundOptions o = {}, metrics::Registry* m = nullptr)
      : d_(deps), outbox_(outbox), sink_(sink), o_(o), metrics_(m) {}
  // Spawns every loop on `ex`; they stop when stop() is called.
  void start(boost::asio::any_io_executor ex);
  void stop() { stopping_ = true; }

  // One step each, for tests.
  boost::asio::awaitable<int> dispatch_outbox_once();
  boost::asio::awaitable<void> tick_all_once();

 private:
  boost::asio::awaitable<void> ticker();
  boost::asio::awaitable<void> refresher();
  boost::asio::awaitable<void> dispatcher();
  boost::asio::awaitable<void> reconciler();

  app::Deps d_;
  app::OutboxRepo& outbox_;
  app::ReceiptSink& sink_;
  BackgroundOptions o_;
  metrics::Registry* metrics_;
  std::atomic<bool> stopping_{false};
  // Replaced as a whole by the refresher; loops keep their own reference while they suspend, so a
  // refresh never frees a performance another loop is still using.
  std::shared_ptr<const std::vector<domain::Performance>> live_ =
      std::make_shared<std::vector<domain::Performance>>();
};

}  // namespace tk::workers
