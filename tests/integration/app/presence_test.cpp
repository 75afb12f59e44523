// Leaving the waiting room and presence: a place given up is passed over (or gives its capacity
// back once admitted), and with a presence timeout a ticket that stopped polling is passed over
// when its turn comes; with an idle timeout an admitted buyer who stopped using the access gives
// the place back. Real PostgreSQL + Redis, time through the ManualClock.
#include <functional>

#include "harness.hpp"

namespace tk::test {
namespace {

using app::QueueState;

void give_up(Harness& h, const domain::Performance& p, const std::string& ticket) {
  h.run([&]() -> asio::awaitable<int> {
    app::WaitingRoom room(h.deps);
    auto r = co_await room.leave(p.id, ticket);
    if (!r) Harness::expect_ok(r.error(), "leave");
    co_return 0;
  });
}

// `n` new buyers join the queue of `p`, in order.
struct Crowd {
  std::vector<app::Principal> buyers;
  std::vector<app::JoinResult> joins;
};
Crowd join_buyers(Harness& h, const domain::Performance& p, int n) {
  Crowd c;
  for (int i = 0; i < n; ++i) {
    c.buyers.push_back(h.run([&] { return h.make_buyer(); }));
    c.joins.push_back(join_queue(h, c.buyers.back(), p));
  }
  return c;
}

TEST(Presence, AWaitingPlaceGivenUpIsPassedOverAndTheAccountJoinsAgainAtTheBack) {
  Harness h;
  // 2 admitted per 100 ms.
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {2, 100, 10, 600}}); });
  std::vector<app::Principal> b;
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 4; ++i) {
    b.push_back(h.run([&] { return h.make_buyer(); }));
    j.push_back(join_queue(h, b[i], p));
  }
  give_up(h, p, j[1].ticket);
  give_up(h, p, j[1].ticket);  // twice: nothing more happens
  // Its polls answer abandoned at once, here and in a process that loads the queue afresh.
  EXPECT_EQ(queue_status(h, p, j[1].ticket).state, QueueState::abandoned);
  Process other(h);
  EXPECT_EQ(queue_status(h, other.deps, p, j[1].ticket).state, QueueState::abandoned);
  EXPECT_EQ(queue_status(h, other.deps, p, j[2].ticket).state, QueueState::waiting);
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  auto t = tick_fresh(h, ticker, p);
  EXPECT_EQ(t.serving, 3) << "1 and 3 take the two slots; 2 is passed over";
  EXPECT_EQ(t.active, 2);
  EXPECT_EQ(t.tick.abandoned, 1);
  EXPECT_EQ(queue_status(h, p, j[0].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, j[1].ticket).state, QueueState::abandoned);
  EXPECT_EQ(queue_status(h, p, j[2].ticket).state, QueueState::admitted);
  // Joining again is a new place behind everyone, not the place given up.
  auto again = join_queue(h, b[1], p);
  EXPECT_TRUE(again.created);
  EXPECT_EQ(again.position, 5);
  // The admission log counts the place given up as skipped: the batch stays within its rate.
  auto log = admission_log(h, p);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].to - log[0].from - log[0].skipped, 2);
}

TEST(Presence, AnAdmittedBuyerWhoLeavesGivesTheCapacityBackAndCanHoldNoMore) {
  Harness h;
  // At most 2 active.
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {5, 100, 2, 600}}); });
  auto crowd = join_buyers(h, p, 3);  // named references, not structured bindings (GCC 12)
  const auto& b = crowd.buyers;
  const auto& j = crowd.joins;
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);
  auto st = queue_status(h, p, j[0].ticket);
  ASSERT_EQ(st.state, QueueState::admitted);
  auto access = crypto::decode_access_token(*h.signer, st.access_token, h.clock.now_ms());
  ASSERT_TRUE(access.ok());
  h.clock.advance(100);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2) << "the cap holds";

  give_up(h, p, j[0].ticket);
  h.clock.advance(100);
  auto t = tick_fresh(h, ticker, p);
  EXPECT_EQ(t.serving, 3) << "the capacity came back at once";
  EXPECT_EQ(t.active, 2);
  EXPECT_EQ(queue_status(h, p, j[2].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, j[0].ticket).state, QueueState::abandoned);
  Process other(h);
  EXPECT_EQ(queue_status(h, other.deps, p, j[0].ticket).state, QueueState::abandoned);
  // The access token of the place given up holds nothing any more.
  auto seats = seat_ids(h, p);
  auto held = h.run([&]() -> asio::awaitable<Result<domain::Hold>> {
    app::Seats s(h.deps);
    std::vector<std::string> one(1, seats[0]);  // not a braced list inside co_await (GCC 12)
    co_return co_await s.hold(b[0], *access, p.id, std::move(one));
  });
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(code_of(held.error()), app::Errc::not_admitted);
}

// A performance with a 10 s presence timeout, paused while three buyers wait: two keep polling,
// one closed the tab. When the sale resumes, the tick passes the silent one over.
TEST(Presence, ATicketThatStoppedPollingIsPassedOverWhenItsTurnComes) {
  Harness h;
  domain::QueueSettings q{10, 100, 10, 600};
  q.presence_timeout_seconds = 10;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = q}); });
  set_sale_status(h, p, domain::SaleStatus::paused);
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 3; ++i) j.push_back(join_queue(h, h.run([&] { return h.make_buyer(); }), p));
  // A waiting ticket is asked to poll at least three times per timeout.
  auto first = queue_status(h, p, j[0].ticket);
  EXPECT_EQ(first.state, QueueState::waiting);
  EXPECT_LE(first.retry_after_seconds, 3);
  app::WaitingRoom ticker(h.deps);
  for (int s = 0; s < 15; ++s) {  // 15 s: 1 and 3 poll every second, 2 never again
    h.clock.advance(1000);
    queue_status(h, p, j[0].ticket);
    queue_status(h, p, j[2].ticket);
    write_presence_marks(h);
    tick_fresh(h, ticker, p);  // paused: nobody is admitted, nobody judged
  }
  set_sale_status(h, p, domain::SaleStatus::on_sale);
  h.clock.advance(100);
  auto t = tick_fresh(h, ticker, p);
  EXPECT_EQ(t.serving, 3);
  EXPECT_EQ(t.active, 2) << "the silent ticket took no slot";
  EXPECT_EQ(t.tick.abandoned, 1);
  EXPECT_EQ(queue_status(h, p, j[0].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, j[1].ticket).state, QueueState::abandoned);
  EXPECT_EQ(queue_status(h, p, j[2].ticket).state, QueueState::admitted);
}

// Marks that stopped arriving (Redis unreachable, no process flushing) judge nobody: after the
// outage, nobody is taken for gone before the polls' marks are written again.
TEST(Presence, StaleMarksAbandonNobody) {
  Harness h;
  domain::QueueSettings q{10, 100, 10, 600};
  q.presence_timeout_seconds = 10;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = q}); });
  set_sale_status(h, p, domain::SaleStatus::paused);
  std::vector<app::JoinResult> j;
  for (int i = 0; i < 3; ++i) j.push_back(join_queue(h, h.run([&] { return h.make_buyer(); }), p));
  write_presence_marks(h);
  h.clock.advance(30000);  // 30 s without a flush: the marks are not fresh
  set_sale_status(h, p, domain::SaleStatus::on_sale);
  app::WaitingRoom ticker(h.deps);
  auto t = tick_fresh(h, ticker, p);
  EXPECT_EQ(t.serving, 3);
  EXPECT_EQ(t.tick.abandoned, 0);
  EXPECT_EQ(queue_status(h, p, j[1].ticket).state, QueueState::admitted);
}

// The buyer's use of the access token (seat map, sections, holds: every route that checks it).
void use_access(Harness& h, const app::Principal& who, const domain::Performance& p,
                const std::string& token) {
  h.run([&]() -> asio::awaitable<int> {
    app::Seats seats(h.deps);
    auto a = co_await seats.check_access(who, p.id, token);
    if (!a) Harness::expect_ok(a.error(), "access");
    co_return 0;
  });
}

// Two of three buyers admitted, at most 2 active: runs `seconds` seconds, each one `each_second`
// (the buyers' polls and uses of the access), the presence flush and a tick. Place 2 must be
// released once, its capacity going to the third buyer in the same tick, and nobody before it.
// Returns the second it was released in (0: never).
int second_place_released(Harness& h, app::WaitingRoom& ticker, const domain::Performance& p,
                          int seconds, const std::function<void(int)>& each_second) {
  int released_at = 0;
  for (int s = 1; s <= seconds; ++s) {
    h.clock.advance(1000);
    each_second(s);
    write_presence_marks(h);
    auto t = tick_fresh(h, ticker, p);
    if (!t.released.empty()) {
      EXPECT_EQ(released_at, 0) << "released twice";
      EXPECT_EQ(t.released, std::vector<std::int64_t>{2});
      released_at = s;
      EXPECT_EQ(t.serving, 3) << "the capacity came back in the same tick";
    } else if (released_at == 0) {
      EXPECT_EQ(t.serving, 2) << "second " << s;
    }
  }
  return released_at;
}

struct Admitted {
  domain::Performance p;
  std::vector<app::Principal> buyers;
  std::vector<app::JoinResult> joins;
  std::vector<app::QueueStatus> first;  // the admitted buyers' first polls
  app::TickOutcome tick;
};

// Presence timeout 10 s (window 12 s), at most 2 active: three buyers join, the first two are
// admitted a second later; both poll their access token, only the first uses it.
Admitted two_admitted_one_uses_the_token(Harness& h) {
  Admitted a;
  domain::QueueSettings q{2, 100, 2, 600};
  q.presence_timeout_seconds = 10;
  a.p = h.run([&] { return h.make_performance({.seats = 10, .queue = q}); });
  auto crowd = join_buyers(h, a.p, 3);
  a.buyers = std::move(crowd.buyers);
  a.joins = std::move(crowd.joins);
  write_presence_marks(h);
  h.clock.advance(1000);  // admitted in a later second than the joins' marks
  app::WaitingRoom ticker(h.deps);
  a.tick = tick_fresh(h, ticker, a.p);
  for (int i = 0; i < 2; ++i) a.first.push_back(queue_status(h, a.p, a.joins[i].ticket));
  use_access(h, a.buyers[0], a.p, a.first[0].access_token);
  return a;
}

TEST(Presence, AnAdmittedBuyerWhoNeverUsesTheAccessTokenGivesTheCapacityBack) {
  Harness h;
  auto a = two_admitted_one_uses_the_token(h);
  EXPECT_EQ(a.tick.serving, 2);
  ASSERT_EQ(a.first[1].state, QueueState::admitted);
  app::WaitingRoom ticker(h.deps);
  // The third buyer keeps polling; the cap holds until the second place is released.
  int released_at = second_place_released(h, ticker, a.p, 14,
                                          [&](int) { queue_status(h, a.p, a.joins[2].ticket); });
  EXPECT_EQ(released_at, 12)
      << "judged once the window (timeout + 2 s) after the admission ran out";
  EXPECT_EQ(queue_status(h, a.p, a.joins[0].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, a.p, a.joins[1].ticket).state, QueueState::abandoned);
  EXPECT_EQ(queue_status(h, a.p, a.joins[2].ticket).state, QueueState::admitted);
  Process other(h);
  EXPECT_EQ(queue_status(h, other.deps, a.p, a.joins[1].ticket).state, QueueState::abandoned);
  // The released token holds nothing; the one in use still does.
  auto seats = seat_ids(h, a.p);
  auto hold_with = [&](int i, std::string seat) {
    auto access = crypto::decode_access_token(*h.signer, a.first[i].access_token, h.clock.now_ms());
    EXPECT_TRUE(access.ok());
    return h.run([&]() -> asio::awaitable<Result<domain::Hold>> {
      app::Seats s(h.deps);
      std::vector<std::string> one(1, seat);
      co_return co_await s.hold(a.buyers[i], *access, a.p.id, std::move(one));
    });
  };
  auto refused = hold_with(1, seats[0]);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(code_of(refused.error()), app::Errc::not_admitted);
  EXPECT_TRUE(hold_with(0, seats[1]).ok());
}

// Idle timeout 30 s (window 32 s), presence off, at most 2 active: three buyers join, the first
// two are admitted. The first keeps using the access (every 5 s, as the sale pages do); the second
// holds a seat, looks at the seat map once more at second 10, then goes quiet. Once it has not
// used the access for the window its place goes to the third buyer; its hold stays its own.
TEST(Presence, AnAdmittedBuyerWhoStopsUsingTheAccessGivesThePlaceBackButKeepsItsHold) {
  Harness h;
  domain::QueueSettings q{2, 100, 2, 600};
  q.idle_timeout_seconds = 30;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = q}); });
  auto crowd = join_buyers(h, p, 3);  // named references, not structured bindings (GCC 12)
  const auto& b = crowd.buyers;
  const auto& j = crowd.joins;
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(100);
  ASSERT_EQ(tick_fresh(h, ticker, p).serving, 2);
  std::vector<std::string> tokens;
  std::vector<crypto::AccessToken> access;
  for (int i = 0; i < 2; ++i) {
    auto st = queue_status(h, p, j[i].ticket);
    ASSERT_EQ(st.state, QueueState::admitted);
    tokens.push_back(st.access_token);
    auto a = crypto::decode_access_token(*h.signer, st.access_token, h.clock.now_ms());
    ASSERT_TRUE(a.ok());
    access.push_back(*a);
  }
  auto seats = seat_ids(h, p);
  auto hold = [&](int i, std::string seat) {
    use_access(h, b[i], p, tokens[i]);  // the hold route checks the access first
    return h.run([&]() -> asio::awaitable<Result<domain::Hold>> {
      app::Seats s(h.deps);
      std::vector<std::string> one(1, seat);
      co_return co_await s.hold(b[i], access[i], p.id, std::move(one));
    });
  };
  auto kept = hold(1, seats[0]);
  ASSERT_TRUE(kept.ok());
  int released_at = second_place_released(h, ticker, p, 50, [&](int s) {
    if (s % 5 == 0) use_access(h, b[0], p, tokens[0]);
    if (s == 10) use_access(h, b[1], p, tokens[1]);
  });
  EXPECT_EQ(released_at, 43) << "the window (timeout + 2 s) after the last use ran out";
  EXPECT_EQ(queue_status(h, p, j[0].ticket).state, QueueState::admitted);
  EXPECT_EQ(queue_status(h, p, j[1].ticket).state, QueueState::abandoned);
  EXPECT_EQ(queue_status(h, p, j[2].ticket).state, QueueState::admitted);
  auto refused = hold(1, seats[1]);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(code_of(refused.error()), app::Errc::not_admitted);
  EXPECT_TRUE(hold(0, seats[2]).ok());
  // The hold made while the buyer was active is still theirs to pay for.
  auto paid = h.run([&]() -> asio::awaitable<bool> {
    app::Orders o(h.deps);
    auto placed = co_await o.place(b[1], kept->id);
    if (!placed) Harness::expect_ok(placed.error(), "order");
    app::Payments pay(h.deps);
    app::PaymentRequest r{placed->order.id, "key-" + placed->order.id, "fp", "card", "tok_ok", ""};
    auto done = co_await pay.pay(b[1], r);
    if (!done) Harness::expect_ok(done.error(), "payment");
    co_return done.ok();
  });
  EXPECT_TRUE(paid);
}

// Without fresh marks (no process wrote any for 5 s), or for places admitted before Redis lost
// data (their marks may be gone with it), nobody admitted is released.
TEST(Presence, StaleOrLostMarksReleaseNoAdmittedBuyer) {
  Harness h;
  auto a = two_admitted_one_uses_the_token(h);
  app::WaitingRoom ticker(h.deps);
  h.clock.advance(20000);  // no marks written meanwhile
  auto t = tick_fresh(h, ticker, a.p);
  EXPECT_TRUE(t.released.empty());
  EXPECT_EQ(t.serving, 2);
  EXPECT_EQ(queue_status(h, a.p, a.joins[1].ticket).state, QueueState::admitted);

  auto b = two_admitted_one_uses_the_token(h);
  flush_redis(h);
  for (int s = 1; s <= 14; ++s) {
    h.clock.advance(1000);
    queue_status(h, b.p, b.joins[2].ticket);
    write_presence_marks(h);
    EXPECT_TRUE(tick_fresh(h, ticker, b.p).released.empty()) << "second " << s;
  }
  EXPECT_EQ(queue_status(h, b.p, b.joins[1].ticket).state, QueueState::admitted);
}

}  // namespace
}  // namespace tk::test
