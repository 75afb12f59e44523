// Admission tied to the inventory: the ticker admits no more buyers than the unsold seats could
// serve, and the sale that takes the last seat tells every process's view at once, through the
// tick channel, so waiting tickets poll sold_out without waiting for the periodic reload.
// Real PostgreSQL + Redis, time through the ManualClock.
#include "harness.hpp"
#include "infra/redis/stores/queue_messages.hpp"
#include "infra/redis/subscriber.hpp"

namespace tk::test {
namespace {

using app::QueueState;

// The admitted holder of `ticket` holds `seats` and pays for them.
void buy(Harness& h, const app::Principal& who, const domain::Performance& p,
         const std::string& ticket, std::vector<std::string> seats) {
  auto st = queue_status(h, p, ticket);
  ASSERT_EQ(st.state, QueueState::admitted);
  auto access = crypto::decode_access_token(*h.signer, st.access_token, h.clock.now_ms());
  ASSERT_TRUE(access.ok());
  h.run([&]() -> asio::awaitable<int> {
    app::Seats s(h.deps);
    auto hold = co_await s.hold(who, *access, p.id, seats);
    if (!hold) Harness::expect_ok(hold.error(), "hold");
    app::Orders o(h.deps);
    auto placed = co_await o.place(who, hold->id);
    if (!placed) Harness::expect_ok(placed.error(), "order");
    app::Payments pay(h.deps);
    app::PaymentRequest r{placed->order.id, "key-" + placed->order.id, "fp", "card", "tok_ok", ""};
    auto paid = co_await pay.pay(who, r);
    if (!paid) Harness::expect_ok(paid.error(), "payment");
    co_return 0;
  });
}

TEST(InventoryAdmission, NoMoreBuyersThanTheSeatsLeftAndTheLastSaleTurnsTheQueueSoldOutAtOnce) {
  Harness h;
  h.shared.settings.admission_inventory_percent = 100;
  // This process's view hears the tick channel, as a service process does.
  auto ep = redis::Endpoint::parse(env("TICKETING_REDIS_URL"));
  ASSERT_TRUE(ep.ok());
  auto sub = redis::Subscriber::create(h.io.get_executor(), *ep);
  bool connected = false;
  sub->subscribe(redisstore::kTickChannel);
  sub->on_connect([&] { connected = true; });
  sub->on_message([&](std::string_view, std::string_view msg) {
    redisstore::apply_queue_message(msg, h.view, h.clock.now_ms());
  });
  sub->start();
  struct Stop {
    std::shared_ptr<redis::Subscriber> s;
    ~Stop() { s->stop(); }
  } stop{sub};
  until(h, [&] { return connected; });

  // 4 seats, 2 per order; up to 10 admitted per 100 ms, 100 at once.
  auto p = h.run([&] {
    return h.make_performance(
        {.seats = 4, .max_per_order = 2, .max_per_account = 2, .queue = {10, 100, 100, 600}});
  });
  auto seats = seat_ids(h, p);
  std::vector<app::Principal> b;
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 6; ++i) {
    b.push_back(h.run([&] { return h.make_buyer(); }));
    j.push_back(join_queue(h, b[i], p));
  }
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  auto t1 = tick_fresh(h, ticker, p);
  EXPECT_EQ(t1.serving, 4) << "one seat each before the first sale: 4 buyers, not 6";
  EXPECT_EQ(t1.inventory_room, 4);

  buy(h, b[0], p, j[0].ticket, {seats[0], seats[1]});
  h.clock.advance(100);
  auto t2 = tick_fresh(h, ticker, p);
  // 3 admitted buyers have not bought; 2 seats left at 2 per order serve 1 of them.
  EXPECT_EQ(t2.serving, 4);
  EXPECT_EQ(t2.inventory_room, 0);
  EXPECT_EQ(queue_status(h, p, j[4].ticket).state, QueueState::waiting);

  buy(h, b[1], p, j[1].ticket, {seats[2], seats[3]});
  // No reload runs in this test: only the sale's message can turn the view sold out.
  h.run(
      [&]() -> asio::awaitable<int> {
        while (true) {
          auto q = h.view.get(p.id);
          if (q && q->perf.sold_count >= q->perf.seat_count) co_return 0;
          co_await Harness::sleep(std::chrono::milliseconds(2));
        }
      },
      std::chrono::seconds(5));
  EXPECT_EQ(queue_status(h, p, j[4].ticket).state, QueueState::sold_out);
  EXPECT_EQ(queue_status(h, p, j[5].ticket).state, QueueState::sold_out);
  auto late = h.run([&] { return h.make_buyer(); });
  auto refused = h.run([&]() -> asio::awaitable<Result<app::JoinResult>> {
    app::WaitingRoom room(h.deps);
    co_return co_await room.join(late, p.id, "");
  });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(code_of(refused.error()), app::Errc::sold_out);
}

}  // namespace
}  // namespace tk::test
