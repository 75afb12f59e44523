// An operator's pause stops admissions at the next tick of this process, whatever copy of the
// performance the ticker holds: its list of live performances is reloaded only once a second.
// Real PostgreSQL + Redis, time through the ManualClock.
#include "harness.hpp"

namespace tk::test {
namespace {

app::TickOutcome tick_listed(Harness& h, app::WaitingRoom& ticker,
                             const domain::Performance& listed) {
  return h.run([&]() -> asio::awaitable<app::TickOutcome> {
    auto t = co_await ticker.tick(listed);
    if (!t) Harness::expect_ok(t.error(), "tick");
    co_return *t;
  });
}

// The browser scenario's sale: opened, paused at once, three buyers join, then a fourth, who
// must see three people ahead. The ticker still has the performance as it listed it while the
// sale was open.
TEST(QueuePause, APausedSaleAdmitsNobodyWhileTheTickersListStillSaysOnSale) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {10, 100, 1000, 600}}); });
  const domain::Performance listed = p;  // the ticker's copy: on sale
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_listed(h, ticker, listed).serving, 0);
  const auto read_before_pause = h.view.changes();

  set_sale_status(h, p, domain::SaleStatus::paused);
  std::vector<app::Principal> b;
  for (int i = 0; i < 4; ++i) b.push_back(h.run([&] { return h.make_buyer(); }));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(join_queue(h, b[i], p).position, i + 1);
  h.clock.advance(100);
  EXPECT_EQ(tick_listed(h, ticker, listed).serving, 0) << "admitted after the pause";
  auto fourth = join_queue(h, b[3], p);
  EXPECT_EQ(fourth.position, 4);
  EXPECT_EQ(queue_status(h, p, fourth.ticket).ahead, 3);

  // The refresher applies a list it read before the pause: the pause stays.
  h.view.update_perf(listed, read_before_pause);
  h.clock.advance(100);
  EXPECT_EQ(tick_listed(h, ticker, listed).serving, 0) << "a list read before the pause undid it";

  // A repair of the queue (here: Redis restarted, the queue carries another run id) publishes
  // the repaired counters without taking the ticker's copy of the performance into the view.
  auto cmd = std::vector<std::string>{"HSET", "{p:" + p.id + "}:q", "run", std::string(40, '0')};
  h.run([&]() -> asio::awaitable<int> {
    auto r = co_await h.rclient->exec(std::move(cmd));
    if (!r) Harness::expect_ok(r.error(), "HSET");
    co_return 0;
  });
  h.clock.advance(100);
  EXPECT_EQ(tick_listed(h, ticker, listed).kind, app::TickOutcome::Kind::not_loaded);
  h.clock.advance(100);
  EXPECT_EQ(tick_listed(h, ticker, listed).serving, 0) << "admitted after a repair";
  EXPECT_EQ(queue_status(h, p, fourth.ticket).ahead, 3);

  // Resumed: the ticker admits again: 1-4, and passes over for free the positions above 4 that
  // the repair set aside (a Redis process that had not checked the queue may have lost joins).
  set_sale_status(h, p, domain::SaleStatus::on_sale);
  h.clock.advance(100);
  EXPECT_EQ(tick_listed(h, ticker, listed).serving, h.shared.settings.queue_reserve_block);
  EXPECT_EQ(queue_status(h, p, fourth.ticket).state, app::QueueState::admitted);
}

}  // namespace
}  // namespace tk::test
