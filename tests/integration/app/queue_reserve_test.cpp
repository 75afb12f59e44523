// Position reservations under a burst of joins, on the real PostgreSQL + Redis.
#include <set>

#include "harness.hpp"

namespace tk::test {
namespace {

TEST(QueueReserve, ABurstOfJoinsSharesReservationRoundTripsAndGetsDistinctPlaces) {
  Harness h;
  constexpr int kBlock = 16, kBuyers = 40;
  h.shared.settings.queue_reserve_block = kBlock;
  auto p = h.run([&]() { return h.make_performance(PerfSpec{}); });
  std::vector<app::Principal> buyers;
  for (int i = 0; i < kBuyers; ++i) buyers.push_back(h.run([&]() { return h.make_buyer(); }));

  // Every join at once: the queue starts with nothing reserved, so all of them need a block.
  std::vector<std::int64_t> positions;
  int failed = 0;
  h.run([&]() -> asio::awaitable<int> {
    auto ex = co_await asio::this_coro::executor;
    int done = 0;
    for (const auto& b : buyers) {
      asio::co_spawn(
          ex,
          [&, b]() -> asio::awaitable<void> {
            app::WaitingRoom room(h.deps);
            auto j = co_await room.join(b, p.id, "");
            if (j) {
              positions.push_back(j->position);
            } else {
              ++failed;
            }
            ++done;
          },
          asio::detached);
    }
    for (int i = 0; i < 1000 && done < kBuyers; ++i) co_await Harness::sleep(10ms);
    co_return done;
  });
  EXPECT_EQ(failed, 0);
  ASSERT_EQ(positions.size(), static_cast<std::size_t>(kBuyers));
  std::set<std::int64_t> distinct(positions.begin(), positions.end());
  EXPECT_EQ(distinct.size(), positions.size());
  EXPECT_EQ(*distinct.begin(), 1);
  EXPECT_EQ(*distinct.rbegin(), kBuyers);  // no gaps while Redis keeps its state

  // Joins waiting on a reservation share it: a few blocks, not one per join (40 x 16 = 640).
  auto reserved = h.run([&]() -> asio::awaitable<std::int64_t> {
    pg::Params params(pg::arg(p.id));
    auto r = co_await h.pool->query(
        "SELECT tail_reserved FROM queue_state WHERE performance_id = $1", std::move(params));
    if (!r || r->empty()) throw std::runtime_error("queue_state");
    co_return r->int64(0, 0);
  });
  EXPECT_GE(reserved, kBuyers);
  EXPECT_LE(reserved, (kBuyers / kBlock + 2) * kBlock);
}

}  // namespace
}  // namespace tk::test
