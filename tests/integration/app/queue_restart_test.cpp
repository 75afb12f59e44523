// A ticket holder whose request is the first one a Redis restarted empty sees: the queue is
// restored before the place is claimed, so the holder keeps one place, with or without the
// ticket. Real PostgreSQL + Redis, time through the ManualClock.
#include "harness.hpp"

namespace tk::test {
namespace {

// A queue of two places (positions 1 and 2, with room for 100 reserved per process) and `buyers`
// buyers, the first two in line; returns the second's join.
struct TwoHolders {
  domain::Performance p;
  std::vector<app::Principal> b;
  app::JoinResult second;
};
TwoHolders two_holders(Harness& h, int buyers) {
  h.shared.settings.queue_reserve_block = 100;
  TwoHolders t;
  t.p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 4, 600}}); });
  for (int i = 0; i < buyers; ++i) t.b.push_back(h.run([&] { return h.make_buyer(); }));
  (void)join_queue(h, t.b[0], t.p);
  t.second = join_queue(h, t.b[1], t.p);
  EXPECT_EQ(t.second.position, 2);
  return t;
}

TEST(QueueRestart, AJoinWithATicketFirstAfterRedisCameBackEmptyKeepsTheOnePlace) {
  Harness h;
  auto t = two_holders(h, 3);
  const auto& p = t.p;
  const auto& b = t.b;
  const auto& second = t.second;
  flush_redis(h);  // restarted empty; this process's view still has the queue

  // The holder of position 2 is the first to come back, with the ticket, then without it.
  auto with_ticket = join_queue(h, b[1], p, second.ticket);
  EXPECT_EQ(with_ticket.position, 2);
  auto without = join_queue(h, b[1], p);
  EXPECT_EQ(without.position, 2) << "a second place for the same account";
  EXPECT_FALSE(without.created);
  // A new buyer gets a place above everything reserved before the loss, and counts the holder
  // who showed up (1's holder has not yet: that position is passed over for free).
  auto late = join_queue(h, b[2], p);
  EXPECT_EQ(late.position, 101);
  auto st = h.run([&]() -> asio::awaitable<app::QueueStatus> {
    app::WaitingRoom room(h.deps);
    auto s = co_await room.status(p.id, late.ticket);
    if (!s) Harness::expect_ok(s.error(), "status");
    co_return *s;
  });
  EXPECT_EQ(st.ahead, 1);
}

// The ticket's place is answered only once it is in Redis again: a ticket join that cannot claim
// it (here the restore needs PostgreSQL, which is down) is refused, and the account's entry is
// put back by the ticket join that succeeds, so the join without the ticket finds the one place.
TEST(QueueRestart, ATicketJoinThatCannotClaimItsPlaceIsRefusedNotAnswered) {
  Harness h;
  auto t = two_holders(h, 2);
  const auto& p = t.p;
  const auto& b = t.b;
  const auto& second = t.second;
  ASSERT_EQ(second.position, 2);
  flush_redis(h);
  servers("pg-stop");
  auto refused = h.run([&]() -> asio::awaitable<Result<app::JoinResult>> {
    app::WaitingRoom room(h.deps);
    co_return co_await room.join(b[1], p.id, second.ticket);
  });
  servers("pg-start");
  ASSERT_FALSE(refused.ok()) << "answered position " << refused->position
                             << " with the place not claimed";
  EXPECT_EQ(code_of(refused.error()), app::Errc::unavailable);
  // PostgreSQL back: the ticket join restores the queue and claims the place.
  auto with_ticket = h.run([&]() -> asio::awaitable<Result<app::JoinResult>> {
    for (int i = 0; i < 100; ++i) {
      app::WaitingRoom room(h.deps);
      auto r = co_await room.join(b[1], p.id, second.ticket);
      if (r.ok()) co_return r;
      co_await Harness::sleep(100ms);
    }
    co_return app::Errc::unavailable;
  });
  ASSERT_TRUE(with_ticket.ok());
  EXPECT_EQ(with_ticket->position, 2);
  auto without = join_queue(h, b[1], p);
  EXPECT_EQ(without.position, 2) << "a second place for the same account";
  EXPECT_FALSE(without.created);
}

}  // namespace
}  // namespace tk::test
