// Use-case integration tests over the real PostgreSQL + Redis of the CTest fixture, with the
// service clock under test control.
#include <set>

#include "harness.hpp"

namespace tk::test {
namespace {

using app::Errc;

// A charge retried under a key that was voided in between (a retry taking over an attempt whose
// charge the first try had already voided) must not be approved: the sale would be finalised on
// money that was given back.
TEST(Payments, ProviderRefusesAChargeUnderAVoidedKey) {
  Harness h;
  auto& provider = *h.deps.ports.payments;
  // Named arguments: GCC 12 may destroy temporaries inside a co_await expression twice.
  const std::string key = "k-voided", ref = "ord_x", currency = "KRW", card = "tok_ok";
  h.run([&]() -> asio::awaitable<int> {
    auto first = co_await provider.charge(key, ref, 1000, currency, card);
    EXPECT_TRUE(first.ok() && first->approved());
    auto voided = co_await provider.void_charge(key);
    EXPECT_TRUE(voided.ok());
    auto again = co_await provider.charge(key, ref, 1000, currency, card);
    EXPECT_TRUE(again.ok());
    if (again.ok() && first.ok()) {
      EXPECT_EQ(again->status, app::ChargeStatus::voided);
      EXPECT_EQ(again->charge_id, first->charge_id) << "deduped by key, nothing charged";
    }
    auto found = co_await provider.find_or_close(key);
    EXPECT_TRUE(found.ok() && found->has_value() && (*found)->status == app::ChargeStatus::voided)
        << "a charged key is reported, not closed";
    co_return 0;
  });
}

// Closing (or voiding) a key the provider never charged under refuses any charge that arrives
// later under it; a key already charged is reported and left as it is.
TEST(Payments, ProviderClosesANeverChargedKeyAndRefusesLateCharges) {
  Harness h;
  auto& provider = *h.deps.ports.payments;
  const std::string closed_key = "k-closed", charged_key = "k-charged", ref = "ord_y",
                    currency = "KRW", card = "tok_ok";
  h.run([&]() -> asio::awaitable<int> {
    auto closed = co_await provider.find_or_close(closed_key);
    EXPECT_TRUE(closed.ok() && !closed->has_value()) << "nothing charged: closed";
    auto late = co_await provider.charge(closed_key, ref, 1000, currency, card);
    EXPECT_TRUE(late.ok() && late->status == app::ChargeStatus::closed);
    auto again = co_await provider.find_or_close(closed_key);
    EXPECT_TRUE(again.ok() && !again->has_value()) << "closing twice is harmless";
    // Voiding a key that was never charged closes it as well.
    const std::string voided_key = "k-void-first";
    auto voided = co_await provider.void_charge(voided_key);
    EXPECT_TRUE(voided.ok());
    auto after_void = co_await provider.charge(voided_key, ref, 1000, currency, card);
    EXPECT_TRUE(after_void.ok() && after_void->status == app::ChargeStatus::closed);

    auto charged = co_await provider.charge(charged_key, ref, 1000, currency, card);
    EXPECT_TRUE(charged.ok() && charged->approved());
    auto found = co_await provider.find_or_close(charged_key);
    EXPECT_TRUE(found.ok() && found->has_value() && (*found)->approved());
    co_return 0;
  });
  EXPECT_EQ(h.run([&] {
    return count(*h.pool,
                 "SELECT count(*) FROM provider_charges WHERE order_ref = $1 AND "
                 "status = 'charged'",
                 ref);
  }),
            1);
}

TEST(Payments, TenConcurrentPaymentsWithOneKeyChargeOnce) {
  Harness h(/*provider_latency_ms=*/200);
  auto sale = order_two_seats(h);
  const auto& who = sale.who;
  const auto& order = sale.order;
  std::vector<Result<app::PaymentAnswer>> answers;
  h.run([&]() -> asio::awaitable<int> {
    auto ex = co_await asio::this_coro::executor;
    int done = 0;
    for (int i = 0; i < 10; ++i) {
      asio::co_spawn(
          ex,
          [&]() -> asio::awaitable<void> {
            app::Payments pay(h.deps);
            app::PaymentRequest r{order.id, "same-key", "fp-1", "card", "tok_ok"};
            answers.push_back(co_await pay.pay(who, r));
            ++done;
          },
          asio::detached);
    }
    while (done < 10) co_await Harness::sleep(10ms);
    co_return 0;
  });
  int ok = 0, in_progress = 0;
  std::set<std::string> bodies;
  for (auto& a : answers) {
    if (a.ok()) {
      EXPECT_EQ(a->status, 200);
      bodies.insert(a->body);
      ++ok;
    } else {
      EXPECT_EQ(code_of(a.error()), Errc::idempotency_in_progress);
      ++in_progress;
    }
  }
  EXPECT_GE(ok, 1);
  EXPECT_EQ(ok + in_progress, 10);
  EXPECT_EQ(bodies.size(), 1u) << "identical answers";
  // The retry after the dust settled replays the same answer and charges nothing more.
  auto replay = h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
    app::Payments pay(h.deps);
    app::PaymentRequest req{order.id, "same-key", "fp-1", "card", "tok_ok"};

    co_return co_await pay.pay(who, req);
  });
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->body, *bodies.begin());
  auto charged = h.run([&] {
    return count(
        *h.pool,
        "SELECT count(*) FROM provider_charges WHERE order_ref = $1 AND status = 'charged'",
        order.id);
  });
  auto any = h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM provider_charges WHERE order_ref = $1", order.id);
  });
  auto paid = h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM orders WHERE id = $1 AND status = 'paid'",
                 order.id);
  });
  EXPECT_EQ(charged, 1);
  EXPECT_EQ(any, 1);
  EXPECT_EQ(paid, 1);
  // Another key for the paid order: refused before the provider is called.
  auto again = h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
    app::Payments pay(h.deps);
    app::PaymentRequest req{order.id, "other-key", "fp-2", "card", "tok_ok"};

    co_return co_await pay.pay(who, req);
  });
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 409);
  EXPECT_NE(again->body.find("order_already_paid"), std::string::npos);
  EXPECT_EQ(h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM provider_charges WHERE order_ref = $1", order.id);
  }),
            1);
}

TEST(Holds, ExpiredHoldCannotBeOrderedOrPaidAndSeatsAreFreeAtOnce) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 4, .hold_ttl_seconds = 60}); });
  auto seats = seat_ids(h, p);
  auto a = h.run([&] { return h.make_buyer(); });
  auto b = h.run([&] { return h.make_buyer(); });
  auto acc_a = h.run([&] { return h.admit(a, p); });
  auto acc_b = h.run([&] { return h.admit(b, p); });
  // 1. A hold that expired cannot become an order; its seats show available at once.
  auto hold1 = h.run([&]() -> asio::awaitable<domain::Hold> {
    app::Seats s(h.deps);
    std::vector<std::string> want{seats[0]};
    auto r = co_await s.hold(a, acc_a, p.id, want);
    if (!r) Harness::expect_ok(r.error(), "hold");
    co_return *r;
  });
  EXPECT_EQ(seat_state(h, p.id, seats[0]), "held");
  h.clock.advance(60'000);
  EXPECT_EQ(seat_state(h, p.id, seats[0]), "available");
  auto placed = h.run([&]() -> asio::awaitable<Result<app::PlacedOrder>> {
    app::Orders o(h.deps);
    co_return co_await o.place(a, hold1.id);
  });
  ASSERT_FALSE(placed.ok());
  EXPECT_EQ(code_of(placed.error()), Errc::hold_expired);

  // 2. An order whose hold runs out before the provider could answer is not charged.
  auto order = h.run([&]() -> asio::awaitable<domain::Order> {
    app::Seats s(h.deps);
    std::vector<std::string> want{seats[1]};
    auto r = co_await s.hold(a, acc_a, p.id, want);
    if (!r) Harness::expect_ok(r.error(), "hold 2");
    app::Orders o(h.deps);
    auto pl = co_await o.place(a, r->id);
    if (!pl) Harness::expect_ok(pl.error(), "order");
    co_return pl->order;
  });
  h.clock.advance(59'000);  // 1 s left: less than provider timeout (1 s) + margin (1 s)
  auto paid = h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
    app::Payments pay(h.deps);
    app::PaymentRequest req{order.id, "k", "fp", "card", "tok_ok"};

    co_return co_await pay.pay(a, req);
  });
  ASSERT_TRUE(paid.ok());
  EXPECT_EQ(paid->status, 409);
  EXPECT_NE(paid->body.find("hold_expired"), std::string::npos);
  EXPECT_EQ(h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM provider_charges WHERE order_ref = $1", order.id);
  }),
            0);
  h.clock.advance(1'000);
  // The seat is free for someone else at once, and their order claims it in PostgreSQL.
  auto other = h.run([&]() -> asio::awaitable<Result<app::PlacedOrder>> {
    app::Seats s(h.deps);
    std::vector<std::string> want{seats[1]};
    auto r = co_await s.hold(b, acc_b, p.id, want);
    if (!r) co_return std::move(r).error();
    app::Orders o(h.deps);
    co_return co_await o.place(b, r->id);
  });
  ASSERT_TRUE(other.ok()) << other.error().code.message();
  EXPECT_TRUE(other->created);
}

// The order's fences in PostgreSQL (the account's limit, every seat claimed or none), checked
// after one pipelined round trip that has already claimed what it could: a failed fence must
// leave nothing claimed and no order.
TEST(Orders, AFailedFenceClaimsNoSeatAndPlacesNoOrder) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 4}); });
  auto seats = seat_ids(h, p);
  auto a = h.run([&] { return h.make_buyer(); });
  auto b = h.run([&] { return h.make_buyer(); });
  const Millis now = h.clock.now_ms();
  auto place = [&](const app::Principal& who, std::string id, std::vector<std::string> want,
                   int max_per_account) {
    app::NewOrder n;
    n.order.id = id;
    n.order.account_id = who.account_id;
    n.order.performance_id = p.id;
    n.order.hold_id = p.id + "~hld_" + id;
    n.order.seat_ids = std::move(want);
    n.order.total_cents = 1000;
    n.order.currency = "KRW";
    n.order.expires_at = now + 300'000;
    n.max_per_account = max_per_account;
    return h.run([&]() -> asio::awaitable<Result<app::PlacedOrder>> {
      co_return co_await h.deps.ports.orders->place(n, now);
    });
  };
  auto claimed = [&] {
    return h.run([&] {
      return count(*h.pool,
                   "SELECT count(*) FROM performance_seats WHERE performance_id = $1 AND "
                   "state <> 'available'",
                   p.id);
    });
  };
  auto orders = [&] {
    return h.run([&] {
      return count(*h.pool, "SELECT count(*) FROM orders WHERE performance_id = $1", p.id);
    });
  };
  auto first = place(a, "ord_fence_1", {seats[1]}, 4);
  ASSERT_TRUE(first.ok()) << first.error().code.message();
  ASSERT_EQ(claimed(), 1);

  // Two seats, one of them ordered by someone else: refused naming it, the free one not kept.
  auto taken = place(b, "ord_fence_2", {seats[0], seats[1]}, 4);
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(code_of(taken.error()), Errc::seats_unavailable);
  EXPECT_EQ(boost::json::serialize(taken.error().details.at("seat_ids")), "[\"" + seats[1] + "\"]");
  EXPECT_EQ(claimed(), 1);
  EXPECT_EQ(orders(), 1);

  // Free seats, but over the account's limit with the order it has: refused, nothing claimed.
  auto over = place(a, "ord_fence_3", {seats[2], seats[3]}, 2);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(code_of(over.error()), Errc::seat_limit_reached);
  EXPECT_EQ(claimed(), 1);
  EXPECT_EQ(orders(), 1);

  // Within the limit the same seats are claimed, both, with the order.
  auto within = place(a, "ord_fence_4", {seats[2], seats[3]}, 3);
  ASSERT_TRUE(within.ok()) << within.error().code.message();
  EXPECT_EQ(claimed(), 3);
  EXPECT_EQ(orders(), 2);
}

TEST(Holds, ReleaseByAStaleHoldIdFreesNobodyElsesSeats) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 2, .hold_ttl_seconds = 30}); });
  auto seats = seat_ids(h, p);
  auto a = h.run([&] { return h.make_buyer(); });
  auto b = h.run([&] { return h.make_buyer(); });
  auto acc_a = h.run([&] { return h.admit(a, p); });
  auto acc_b = h.run([&] { return h.admit(b, p); });
  std::vector<std::string> want{seats[0]};
  auto old = h.run([&]() -> asio::awaitable<domain::Hold> {
    app::Seats s(h.deps);
    auto r = co_await s.hold(a, acc_a, p.id, want);
    if (!r) Harness::expect_ok(r.error(), "hold a");
    co_return *r;
  });
  h.clock.advance(31'000);
  auto acc_b2 = h.run([&] { return h.admit(b, p); });
  (void)acc_b;
  h.run([&]() -> asio::awaitable<int> {
    app::Seats s(h.deps);
    auto r = co_await s.hold(b, acc_b2, p.id, want);
    if (!r) Harness::expect_ok(r.error(), "hold b");
    co_return 0;
  });
  auto released = h.run([&]() -> asio::awaitable<Status> {
    app::Seats s(h.deps);
    co_return co_await s.release(a, old.id);
  });
  EXPECT_TRUE(released.ok());                        // A's own (expired) hold is gone...
  EXPECT_EQ(seat_state(h, p.id, seats[0]), "held");  // ...but B's hold on the same seat stands
}

TEST(Queue, AdmitsInPositionOrderNeverOverCapAndRecordsEveryTick) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 10, .queue = {3, 100, 5, 600}}); });
  std::vector<app::Principal> buyers;
  std::vector<std::string> tickets;
  for (int i = 0; i < 12; ++i) {
    buyers.push_back(h.run([&] { return h.make_buyer(); }));
    auto j = h.run([&]() -> asio::awaitable<app::JoinResult> {
      app::WaitingRoom room(h.deps);
      auto r = co_await room.join(buyers.back(), p.id, "");
      if (!r) Harness::expect_ok(r.error(), "join");
      co_return *r;
    });
    EXPECT_EQ(j.position, i + 1);
    tickets.push_back(j.ticket);
  }
  auto tick = [&]() {
    return h.run([&]() -> asio::awaitable<app::TickOutcome> {
      app::WaitingRoom room(h.deps);
      auto perf = co_await h.catalog_w->get_performance(p.id);
      auto t = co_await room.tick(**perf);
      if (!t) Harness::expect_ok(t.error(), "tick");
      co_return *t;
    });
  };
  std::int64_t serving = 0;
  for (int i = 0; i < 6; ++i) {
    h.clock.advance(100);
    auto t = tick();
    // Compare-and-set: a second tick in the same interval (another process) admits nobody.
    auto t2 = tick();
    EXPECT_EQ(t2.kind, app::TickOutcome::Kind::skipped);
    // Both say when the next interval ends: the ticker comes back then, not later.
    EXPECT_EQ(t.next_at, h.clock.now_ms() + 100);
    EXPECT_EQ(t2.next_at, t.next_at);
    EXPECT_GE(t.serving, serving);
    EXPECT_LE(t.serving, 5) << "never over max_active";
    EXPECT_LE(t.serving, t.tail) << "never past the tail";
    serving = t.serving;
  }
  EXPECT_EQ(serving, 5);
  // Two admitted buyers finish (pay or leave): exactly two more get in.
  h.run([&]() -> asio::awaitable<int> {
    (void)co_await h.queue->finish(p.id, 1);
    (void)co_await h.queue->finish(p.id, 2);
    co_return 0;
  });
  h.clock.advance(100);
  EXPECT_EQ(tick().serving, 7);
  // The cap lowered live below the active count: nobody else is admitted.
  app::PerformanceChange lower;
  lower.max_active = 3;
  change_performance(h, p, lower);
  for (int i = 0; i < 3; ++i) {
    h.clock.advance(100);
    EXPECT_EQ(tick().serving, 7);
  }
  // Every admission is recorded, in contiguous position ranges, in tick order.
  auto rows = h.run([&]() -> asio::awaitable<std::vector<std::array<std::int64_t, 3>>> {
    auto params = pg::Params(pg::arg(p.id));
    auto r = co_await h.pool->query(
        "SELECT tick_seq, from_position, to_position FROM admission_ticks WHERE performance_id = "
        "$1 "
        "ORDER BY tick_seq",
        std::move(params));
    std::vector<std::array<std::int64_t, 3>> out;
    for (int i = 0; i < r->size(); ++i)
      out.push_back({r->int64(i, 0), r->int64(i, 1), r->int64(i, 2)});
    co_return out;
  });
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows.front()[1], 0);
  for (std::size_t i = 1; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i][1], rows[i - 1][2]) << "admissions follow position order";
    EXPECT_GT(rows[i][0], rows[i - 1][0]);
  }
  EXPECT_EQ(rows.back()[2], 7);
  // Polls agree: positions 1..7 admitted, 8 waiting with nobody ahead not yet admitted.
  for (int i = 0; i < 12; ++i) {
    auto st = h.run([&]() -> asio::awaitable<app::QueueStatus> {
      app::WaitingRoom room(h.deps);
      auto s = co_await room.status(p.id, tickets[i]);
      if (!s) Harness::expect_ok(s.error(), "status");
      co_return *s;
    });
    EXPECT_EQ(st.state, i < 7 ? app::QueueState::admitted : app::QueueState::waiting) << i;
    if (i >= 7) {
      EXPECT_EQ(st.ahead, i - 7);
    } else {
      EXPECT_FALSE(st.access_token.empty());
    }
  }
}

TEST(Tokens, ForgedOrForeignAccessTokensAreRefused) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 2}); });
  auto q = h.run([&] { return h.make_performance({.seats = 2}); });
  auto a = h.run([&] { return h.make_buyer(); });
  auto b = h.run([&] { return h.make_buyer(); });
  auto acc = h.run([&] { return h.admit(a, p); });
  auto token = crypto::encode(*h.signer, acc);
  auto check = [&](const app::Principal& who, const std::string& perf, std::string tok) {
    return h.run([&]() -> asio::awaitable<Errc> {
      app::Seats s(h.deps);
      auto r = co_await s.check_access(who, perf, tok);
      co_return r.ok() ? Errc::internal : code_of(r.error());
    });
  };
  EXPECT_EQ(h.run([&]() -> asio::awaitable<bool> {
    app::Seats s(h.deps);
    co_return (co_await s.check_access(a, p.id, token)).ok();
  }),
            true);
  std::string altered = token;
  altered[altered.size() / 2] = altered[altered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(check(a, p.id, altered), Errc::not_admitted);
  EXPECT_EQ(check(a, q.id, token), Errc::not_admitted) << "token of another performance";
  EXPECT_EQ(check(b, p.id, token), Errc::not_admitted) << "token of another account";
  h.clock.advance(600'001);
  EXPECT_EQ(check(a, p.id, token), Errc::not_admitted) << "expired by the clock";
  // A queue ticket is not an access token (typed tokens, per-purpose keys).
  auto j = h.run([&]() -> asio::awaitable<std::string> {
    app::WaitingRoom room(h.deps);
    auto r = co_await room.join(b, p.id, "");
    co_return r->ticket;
  });
  EXPECT_EQ(check(b, p.id, j), Errc::not_admitted);
  auto st = h.run([&]() -> asio::awaitable<Errc> {
    app::WaitingRoom room(h.deps);
    auto r = co_await room.status(p.id, token);
    co_return r.ok() ? Errc::internal : code_of(r.error());
  });
  EXPECT_EQ(st, Errc::invalid_ticket) << "an access token is not a queue ticket";
}

}  // namespace
}  // namespace tk::test
