// Background loops under supervision: a loop that throws is logged, counted in /metrics and runs
// again (here: the admission ticker still admits the buyer), and close() waits for every loop.
// The outbox dispatcher's lanes hand several rows to the consumers at once.
#include "workers/background.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>
#include <mutex>

#include "common/log.hpp"
#include "harness.hpp"

namespace tk::test {
namespace {

// Only the background ticker admits: the test moves the clock one interval every 10 ms and
// polls the ticket until it is admitted or `limit` (real time) has passed.
app::QueueState admitted_by_ticker(Harness& h, const domain::Performance& p,
                                   const std::string& ticket, std::chrono::seconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  return h.run(
      [&]() -> asio::awaitable<app::QueueState> {
        app::WaitingRoom room(h.deps);
        while (std::chrono::steady_clock::now() < until) {
          auto st = co_await room.status(p.id, ticket);
          if (!st) h.expect_ok(st.error(), "status");
          if (st->state == app::QueueState::admitted) co_return st->state;
          h.clock.advance(p.queue.interval_ms);
          co_await Harness::sleep(10ms);
        }
        co_return app::QueueState::waiting;
      },
      limit + 5s);
}

TEST(Background, ThrowingLoopIsLoggedCountedAndRestarted) {
  std::mutex mu;
  std::vector<std::string> lines;
  log::set_sink([&](std::string_view l) {
    std::lock_guard lock(mu);
    lines.emplace_back(l);
  });
  struct RestoreSink {
    ~RestoreSink() { log::set_sink(nullptr); }
  } restore;

  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 4}); });
  auto who = h.run([&] { return h.make_buyer(); });
  auto ticket = h.run([&]() -> asio::awaitable<std::string> {
    app::WaitingRoom room(h.deps);
    auto j = co_await room.join(who, p.id, "");
    if (!j) h.expect_ok(j.error(), "join");
    co_return j->ticket;
  });

  metrics::Registry m;
  workers::BackgroundOptions o;
  o.tick_poll = 5ms;
  o.refresh = 20ms;
  o.outbox_poll = 20ms;
  o.reconcile = 20ms;
  o.supervision.backoff_min = 5ms;
  o.supervision.backoff_max = 50ms;
  int ticker_rounds = 0;
  o.on_round = [&](std::string_view loop) {
    if (loop != "ticker") return;
    if (++ticker_rounds == 1) throw std::runtime_error("injected ticker failure");
  };
  app::ConsumerRegistry consumers(*h.adapters->processed);
  workers::Background bg(h.deps, *h.adapters->outbox, consumers, o, &m);
  bg.start(h.io.get_executor());

  EXPECT_EQ(admitted_by_ticker(h, p, ticket, 10s), app::QueueState::admitted)
      << "the ticker runs again after its failure";
  EXPECT_GE(ticker_rounds, 2);

  bool logged = false;
  {
    std::lock_guard lock(mu);
    for (const auto& l : lines) {
      auto v = boost::json::parse(l).as_object();
      if (v.at("msg").as_string() != "background task failed") continue;
      EXPECT_EQ(v.at("level").as_string(), "error");
      EXPECT_EQ(v.at("task").as_string(), "ticker");
      EXPECT_EQ(v.at("error").as_string(), "injected ticker failure");
      EXPECT_TRUE(v.contains("restart_in_ms"));
      logged = true;
    }
  }
  EXPECT_TRUE(logged);
  EXPECT_NE(m.render().find("background_task_failures_total{task=\"ticker\"} 1\n"),
            std::string::npos)
      << m.render();

  // close() returns once every loop has finished its round; none runs afterwards.
  h.run([&]() -> asio::awaitable<bool> {
    co_await bg.close();
    co_return true;
  });
  int rounds_at_close = ticker_rounds;
  h.io.run_for(50ms);
  EXPECT_EQ(ticker_rounds, rounds_at_close);
}

// The ticker comes back when the script says the next interval ends, not at its polling period:
// polled every 2 s, five intervals of 100 ms (the test's clock moves 100 ms every 10 ms) admit
// five buyers in well under five polls.
TEST(Background, TickerComesBackWhenTheNextIntervalEnds) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {1, 100, 10, 600}}); });
  std::string last;
  for (int i = 0; i < 5; ++i) {
    auto who = h.run([&] { return h.make_buyer(); });
    last = h.run([&]() -> asio::awaitable<std::string> {
      app::WaitingRoom room(h.deps);
      auto j = co_await room.join(who, p.id, "");
      if (!j) h.expect_ok(j.error(), "join");
      co_return j->ticket;
    });
  }
  workers::BackgroundOptions o;
  o.tick_poll = 2s;
  o.refresh = 20ms;
  o.run_dispatcher = o.run_reconciler = o.run_presence = false;
  app::ConsumerRegistry consumers(*h.adapters->processed);
  workers::Background bg(h.deps, *h.adapters->outbox, consumers, o);
  bg.start(h.io.get_executor());
  // The first round may find no live sale yet (the refresher loads them) and waits one poll.
  EXPECT_EQ(admitted_by_ticker(h, p, last, 6s), app::QueueState::admitted)
      << "the fifth buyer waited for polls, not intervals";
  h.run([&]() -> asio::awaitable<bool> {
    co_await bg.close();
    co_return true;
  });
}

// A consumer that finishes only once `want` messages are in its hands at the same time.
struct Overlap final : app::Consumer, OverlapProbe {
  std::string name_ = "overlap_probe";
  std::vector<std::string> topics_ = {"test.overlap"};
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& topics() const override { return topics_; }
  app::Task<void> handle(const app::Message&, int) override {
    co_await pass();
    co_return Status{};
  }
};

TEST(Background, DispatcherLanesHandSeveralRowsToTheConsumersAtOnce) {
  Harness h;
  h.run([&]() -> asio::awaitable<bool> {
    auto r = co_await h.pool->query("DELETE FROM outbox");
    co_return r.ok();
  });
  workers::BackgroundOptions o;
  o.run_ticker = o.run_refresher = o.run_reconciler = false;
  o.outbox_poll = 20ms;
  o.dispatch_lanes = 4;
  for (int i = 0; i < o.dispatch_lanes; ++i) {
    h.run([&]() -> asio::awaitable<bool> {
      auto r = co_await h.pool->query(
          "INSERT INTO outbox (topic, payload) VALUES ('test.overlap', '{}'::jsonb)");
      co_return r.ok();
    });
  }
  Overlap probe;
  probe.want = o.dispatch_lanes;
  app::ConsumerRegistry consumers(*h.adapters->processed);
  consumers.add(probe);
  workers::Background bg(h.deps, *h.adapters->outbox, consumers, o);
  bg.start(h.io.get_executor());
  for (int i = 0; i < 200 && probe.done < o.dispatch_lanes; ++i) h.io.run_for(50ms);
  EXPECT_EQ(probe.done, o.dispatch_lanes);
  EXPECT_EQ(probe.most, o.dispatch_lanes) << "rows handled one after another";
  h.run([&]() -> asio::awaitable<bool> {
    co_await bg.close();
    co_return true;
  });
}

}  // namespace
}  // namespace tk::test
