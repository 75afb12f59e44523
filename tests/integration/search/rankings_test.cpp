// Sales rankings against the real PostgreSQL and Redis of the CTest fixture: the order.paid
// consumer counts seats per event and time bucket (manual clock), once per message even when the
// registry never recorded it done, and the windows and the top ten read back in order.
#include "app/rankings.hpp"

#include <boost/json.hpp>

#include "integration/app/harness.hpp"

namespace tk::test {
namespace {

constexpr Millis kHour = 3600 * 1000;

// Starts from no rankings: deletes every {rank} key (the fixture's Redis is shared by tests).
void clear_rankings(Harness& h) {
  h.run([&]() -> asio::awaitable<bool> {
    auto keys = co_await h.rclient->exec("KEYS", "{rank}:*");
    if (!keys) Harness::expect_ok(keys.error(), "KEYS");
    for (const auto& k : keys->elements) {
      auto d = co_await h.rclient->exec("DEL", k.str);
      if (!d) Harness::expect_ok(d.error(), "DEL");
    }
    co_return true;
  });
}

// An event with one performance (the consumer maps performance -> event through the catalogue).
struct Show {
  std::string event_id, performance_id;
};

Show make_show(Harness& h, const std::string& title) {
  return h.run([&]() -> asio::awaitable<Show> {
    app::Admin admin(h.deps);
    std::vector<app::NewSection> sections{{"A", {{"1", 4, "R"}}}};
    auto v = co_await admin.create_venue("Hall", sections);
    if (!v) Harness::expect_ok(v.error(), "venue");
    auto e = co_await admin.create_event(title, v->id);
    if (!e) Harness::expect_ok(e.error(), "event");
    app::NewPerformance n;
    n.event_id = *e;
    n.starts_at = h.clock.now_ms() + 86400000;
    n.sale_opens_at = h.clock.now_ms();
    n.price_grades = {{"R", 1000, "KRW"}};
    auto p = co_await admin.create_performance(n);
    if (!p) Harness::expect_ok(p.error(), "performance");
    co_return Show{*e, *p};
  });
}

app::Message paid(const std::string& id, const Show& s, int seats) {
  boost::json::array tickets;
  for (int i = 0; i < seats; ++i) tickets.emplace_back("tkt_" + std::to_string(i));
  return app::Message{
      id, app::kOrderPaid,
      boost::json::serialize(boost::json::object{{"order_id", "ord_" + id},
                                                 {"performance_id", s.performance_id},
                                                 {"ticket_ids", std::move(tickets)}})};
}

app::Message refunded(const std::string& id, const Show& s, int seats) {
  boost::json::array seat_ids;
  for (int i = 0; i < seats; ++i) seat_ids.emplace_back("A-1-" + std::to_string(i + 1));
  return app::Message{
      id, app::kOrderRefunded,
      boost::json::serialize(boost::json::object{{"order_id", "ord_" + id},
                                                 {"performance_id", s.performance_id},
                                                 {"seat_ids", std::move(seat_ids)}})};
}

void consume(Harness& h, app::RankingConsumer& c, const app::Message& m) {
  h.run([&]() -> asio::awaitable<bool> {
    auto r = co_await c.handle(m, 0);
    if (!r) Harness::expect_ok(r.error(), "rankings consumer");
    co_return true;
  });
}

std::vector<app::RankedEvent> top(Harness& h, domain::RankWindow w) {
  return h.run([&]() -> asio::awaitable<std::vector<app::RankedEvent>> {
    app::Rankings r(h.deps);
    auto t = co_await r.top(w);
    if (!t) Harness::expect_ok(t.error(), "rankings");
    co_return *t;
  });
}

// Unique per test run: idempotency marks live in Redis across tests.
std::string msg_id(const std::string& tag) { return "test-" + crypto::new_id("") + "-" + tag; }

TEST(Rankings, WindowsCountSalesByTime) {
  Harness h;
  clear_rankings(h);
  app::RankingConsumer consumer(*h.adapters->rankings, *h.catalog_w, h.clock);
  auto early = make_show(h, "Early show");
  auto late = make_show(h, "Late show");
  const Millis now = h.clock.now_ms();
  h.clock.set(now - 2 * kHour);  // sold two hours ago
  consume(h, consumer, paid(msg_id("e"), early, 3));
  h.clock.set(now - 25 * kHour);  // more than a day ago: in no window
  consume(h, consumer, paid(msg_id("old"), late, 7));
  h.clock.set(now);
  consume(h, consumer, paid(msg_id("l"), late, 2));

  auto hour = top(h, domain::RankWindow::h1);
  ASSERT_EQ(hour.size(), 1u);
  EXPECT_EQ(hour[0].event_id, late.event_id);
  EXPECT_EQ(hour[0].title, "Late show");
  EXPECT_EQ(hour[0].sold, 2);

  auto day = top(h, domain::RankWindow::h24);
  ASSERT_EQ(day.size(), 2u);
  EXPECT_EQ(day[0].event_id, early.event_id);
  EXPECT_EQ(day[0].sold, 3);
  EXPECT_EQ(day[1].event_id, late.event_id);
  EXPECT_EQ(day[1].sold, 2);
}

TEST(Rankings, SameMessageTwiceCountsOnce) {
  Harness h;
  clear_rankings(h);
  app::RankingConsumer consumer(*h.adapters->rankings, *h.catalog_w, h.clock);
  auto s = make_show(h, "Twice");
  auto m = paid(msg_id("dup"), s, 4);
  // Delivered again as after a crash between the count and the registry's "done" record (the
  // registry is bypassed on purpose: the store alone must make the repeat harmless).
  consume(h, consumer, m);
  consume(h, consumer, m);
  consume(h, consumer, paid(msg_id("other"), s, 1));
  auto day = top(h, domain::RankWindow::h24);
  ASSERT_EQ(day.size(), 1u);
  EXPECT_EQ(day[0].sold, 5) << "4 once, plus another order's 1";
}

TEST(Rankings, RefundsSubtractTheirSeatsOnce) {
  Harness h;
  clear_rankings(h);
  app::RankingConsumer consumer(*h.adapters->rankings, *h.catalog_w, h.clock);
  auto kept = make_show(h, "Kept");
  auto returned = make_show(h, "Returned");
  consume(h, consumer, paid(msg_id("k"), kept, 2));
  consume(h, consumer, paid(msg_id("r1"), returned, 3));
  consume(h, consumer, paid(msg_id("r2"), returned, 1));
  auto back = refunded(msg_id("back"), returned, 3);
  consume(h, consumer, back);
  consume(h, consumer, back);  // a redelivered refund subtracts once
  auto day = top(h, domain::RankWindow::h24);
  ASSERT_EQ(day.size(), 2u);
  EXPECT_EQ(day[0].event_id, kept.event_id);
  EXPECT_EQ(day[0].sold, 2);
  EXPECT_EQ(day[1].event_id, returned.event_id);
  EXPECT_EQ(day[1].sold, 1) << "4 bought, 3 refunded once";
}

TEST(Rankings, TopTenHighestFirst) {
  Harness h;
  clear_rankings(h);
  app::RankingConsumer consumer(*h.adapters->rankings, *h.catalog_w, h.clock);
  std::vector<Show> shows;
  for (int i = 1; i <= 12; ++i) {
    shows.push_back(make_show(h, "Show " + std::to_string(i)));
    consume(h, consumer, paid(msg_id(std::to_string(i)), shows.back(), i));
  }
  auto day = top(h, domain::RankWindow::h24);
  ASSERT_EQ(day.size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(day[i].event_id, shows[11 - i].event_id) << i;
    EXPECT_EQ(day[i].sold, 12 - i);
  }
}

TEST(Rankings, LostRankingsReadAsEmpty) {
  Harness h;
  clear_rankings(h);
  EXPECT_TRUE(top(h, domain::RankWindow::h1).empty());
  EXPECT_TRUE(top(h, domain::RankWindow::h24).empty());
}

}  // namespace
}  // namespace tk::test
