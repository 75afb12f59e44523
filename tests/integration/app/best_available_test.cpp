// "Best available": the server chooses adjacent seats, and the hold script takes the first of
// several candidate groups that is still wholly free, so buyers asking at once from the same
// seat map get different seats instead of a conflict. Real PostgreSQL + Redis.
#include <set>

#include "app/seats.hpp"
#include "harness.hpp"

namespace tk::test {
namespace {

Result<domain::Hold> hold_best(Harness& h, const app::Principal& who,
                               const crypto::AccessToken& access, const domain::Performance& p,
                               domain::BestAvailableRequest want) {
  return h.run([&]() -> asio::awaitable<Result<domain::Hold>> {
    app::Seats s(h.deps);
    co_return co_await s.hold_best(who, access, p.id, want);
  });
}

struct Buyer {
  app::Principal who;
  crypto::AccessToken access;
};

Buyer admitted(Harness& h, const domain::Performance& p) {
  auto who = h.run([&] { return h.make_buyer(); });
  auto access = h.run([&] { return h.admit(who, p); });
  return {who, access};
}

TEST(BestAvailable, AdjacentSeatsFromTheCentreOutThenScatteredThenNone) {
  Harness h;
  // One row of 10 seats, numbered 1..10 in layout order.
  auto p = h.run([&] { return h.make_performance({.seats = 10}); });
  auto ids = seat_ids(h, p);
  auto a = admitted(h, p);
  auto first = hold_best(h, a.who, a.access, p, {.count = 2});
  ASSERT_TRUE(first.ok()) << first.error().code.message();
  EXPECT_EQ(first->seat_ids, (std::vector<std::string>{ids[4], ids[5]}));
  auto b = admitted(h, p);
  auto second = hold_best(h, b.who, b.access, p, {.count = 4});
  ASSERT_TRUE(second.ok());
  // 5-6 taken: four adjacent on one side, the one nearer the centre first (7-10 and 1-4 tie;
  // the first in the row wins).
  EXPECT_EQ(second->seat_ids, (std::vector<std::string>{ids[0], ids[1], ids[2], ids[3]}));
  auto c = admitted(h, p);
  // Left: 7, 8, 9, 10 adjacent. Then a request the row cannot seat together gets what is left.
  auto third = hold_best(h, c.who, c.access, p, {.count = 3});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->seat_ids, (std::vector<std::string>{ids[6], ids[7], ids[8]}));
  auto d = admitted(h, p);
  auto none = hold_best(h, d.who, d.access, p, {.count = 2});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(code_of(none.error()), app::Errc::seats_unavailable);
  auto last = hold_best(h, d.who, d.access, p, {.count = 1});
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->seat_ids, (std::vector<std::string>{ids[9]}));
}

TEST(BestAvailable, RefusesWhatThePerformanceCannotOffer) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .max_per_order = 4}); });
  auto a = admitted(h, p);
  auto code = [&](domain::BestAvailableRequest want) {
    auto r = hold_best(h, a.who, a.access, p, want);
    return r.ok() ? app::Errc{} : code_of(r.error());
  };
  EXPECT_EQ(code({.count = 5}), app::Errc::too_many_seats);
  EXPECT_EQ(code({.count = 1, .grade = "VIP"}), app::Errc::invalid_field);
  EXPECT_EQ(code({.count = 1, .section = "Z"}), app::Errc::invalid_field);
  EXPECT_EQ(code({.count = 2, .grade = "R", .section = "A"}), app::Errc{});
}

TEST(BestAvailable, BuyersAskingAtOnceGetDisjointSeats) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 20, .max_per_order = 2}); });
  std::vector<Buyer> buyers;
  for (int i = 0; i < 8; ++i) buyers.push_back(admitted(h, p));
  std::vector<Result<domain::Hold>> got(buyers.size(), app::Errc::unavailable);
  h.run([&]() -> asio::awaitable<int> {
    auto ex = co_await asio::this_coro::executor;
    std::size_t done = 0;
    for (std::size_t i = 0; i < buyers.size(); ++i) {
      asio::co_spawn(
          ex,
          [&, i]() -> asio::awaitable<void> {
            app::Seats s(h.deps);
            got[i] = co_await s.hold_best(buyers[i].who, buyers[i].access, p.id, {.count = 2});
            ++done;
          },
          asio::detached);
    }
    while (done < buyers.size()) co_await Harness::sleep(std::chrono::milliseconds(5));
    co_return 0;
  });
  std::set<std::string> seats;
  for (auto& g : got) {
    ASSERT_TRUE(g.ok()) << g.error().code.message();
    EXPECT_EQ(g->seat_ids.size(), 2u);
    seats.insert(g->seat_ids.begin(), g->seat_ids.end());
  }
  EXPECT_EQ(seats.size(), 2 * buyers.size()) << "no seat held twice";
}

TEST(BestAvailable, TheHoldScriptTakesTheFirstWhollyFreeGroup) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 10}); });
  auto ids = seat_ids(h, p);
  auto a = admitted(h, p);
  auto b = admitted(h, p);
  auto hold = [&](const Buyer& who, std::vector<std::vector<std::string>> groups) {
    return h.run([&]() -> asio::awaitable<app::HoldOutcome> {
      app::HoldRequest r;
      r.hold_id = app::make_hold_id(p.id);
      r.account_id = who.who.account_id;
      r.position = who.access.position;
      r.seat_ids = groups.front();
      r.alternatives.assign(groups.begin() + 1, groups.end());
      r.now = h.clock.now_ms();
      r.expires_at = r.now + 300'000;
      r.max_per_account = 4;
      r.seat_count = 10;
      r.gc_ttl_ms = 600'000;
      auto out = co_await h.deps.ports.holds->hold(p.id, r);
      if (!out) Harness::expect_ok(out.error(), "hold");
      co_return *out;
    });
  };
  // The sold markers go to Redis before any hold (Seats does this on `not_loaded`).
  h.run([&]() -> asio::awaitable<int> {
    app::Seats s(h.deps);
    auto r = co_await s.reload_markers(p.id);
    if (!r) Harness::expect_ok(r.error(), "markers");
    co_return 0;
  });
  auto first = hold(a, {{ids[0], ids[1]}});
  ASSERT_EQ(first.kind, app::HoldOutcome::Kind::held);
  EXPECT_EQ(first.group, 0u);
  // The first candidate overlaps A's hold, the second does not: the second is held.
  auto second = hold(b, {{ids[1], ids[2]}, {ids[3], ids[4]}, {ids[5], ids[6]}});
  ASSERT_EQ(second.kind, app::HoldOutcome::Kind::held);
  EXPECT_EQ(second.group, 1u);
  EXPECT_EQ(seat_state(h, p.id, ids[2]), "available");
  EXPECT_EQ(seat_state(h, p.id, ids[3]), "held");
  EXPECT_EQ(seat_state(h, p.id, ids[5]), "available");
  // Every candidate taken: unavailable, naming the first group's taken seats.
  auto third = hold(a, {{ids[0], ids[9]}, {ids[4], ids[8]}});
  ASSERT_EQ(third.kind, app::HoldOutcome::Kind::unavailable);
  EXPECT_EQ(third.unavailable_seats, (std::vector<std::string>{ids[0]}));
  EXPECT_EQ(seat_state(h, p.id, ids[9]), "available");
}

}  // namespace
}  // namespace tk::test
