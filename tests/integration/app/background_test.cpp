// Background loops under supervision: a loop that throws is logged, counted in /metrics and runs
// again (here: the admission ticker still admits the buyer), and close() waits for every loop.
#include "workers/background.hpp"

#include <boost/json/parse.hpp>
#include <mutex>

#include "common/log.hpp"
#include "harness.hpp"

namespace tk::test {
namespace {

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

  // Only the background ticker admits: the test moves the clock and waits for the state.
  auto state = h.run([&]() -> asio::awaitable<app::QueueState> {
    app::WaitingRoom room(h.deps);
    for (int i = 0; i < 500; ++i) {
      auto st = co_await room.status(p.id, ticket);
      if (!st) h.expect_ok(st.error(), "status");
      if (st->state == app::QueueState::admitted) co_return st->state;
      h.clock.advance(p.queue.interval_ms);
      co_await Harness::sleep(10ms);
    }
    co_return app::QueueState::waiting;
  });
  EXPECT_EQ(state, app::QueueState::admitted) << "the ticker runs again after its failure";
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

}  // namespace
}  // namespace tk::test
