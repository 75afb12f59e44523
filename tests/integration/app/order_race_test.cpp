// Races around one order, each ordered step by step through hooks on the real adapters: two
// payments under two Idempotency-Keys, and a hold released while its payment commits.
#include "harness.hpp"
#include "hooks.hpp"

namespace tk::test {
namespace {

using app::Errc;

// The real provider; every charge waits at the door until the test opens it.
class HeldCharges final : public ForwardingGateway {
 public:
  HeldCharges(app::PaymentGateway& real, asio::any_io_executor ex)
      : ForwardingGateway(real), open(ex) {}
  app::Task<app::ChargeResult> charge(std::string key, std::string order_ref,
                                      std::int64_t amount_cents, std::string currency,
                                      std::string card_token) override {
    ++arrived;
    co_await open.wait();
    co_return co_await g_.charge(std::move(key), std::move(order_ref), amount_cents,
                                 std::move(currency), std::move(card_token));
  }
  int arrived = 0;
  Event open;
};

std::int64_t ledger_entries(Harness& h, const std::string& order_id) {
  return h.run([&] {
    return count(*h.pool,
                 "SELECT count(*) FROM provider_charges WHERE order_ref = $1 AND status IN "
                 "('charged', 'voided')",
                 order_id);
  });
}

// Two payments of one order under two keys (a double click with a fresh key each time, two
// tabs): both are in flight at once. Only one may reach the provider; the other is told the
// order is being paid, and never "nothing was charged" next to a charge.
TEST(OrderRaces, TwoKeysPayingOneOrderChargeOnce) {
  Harness h;
  auto s = order_two_seats(h);
  HeldCharges provider(*h.deps.ports.payments, h.io.get_executor());
  app::Deps d = h.deps;
  d.ports.payments = &provider;
  std::optional<Result<app::PaymentAnswer>> a, b;
  auto spawn_pay = [&](std::string key, std::optional<Result<app::PaymentAnswer>>& out) {
    asio::co_spawn(
        h.io,
        [&d, &s, &out, key = std::move(key)]() -> asio::awaitable<void> {
          app::Payments pay(d);
          app::PaymentRequest r{s.order.id, key, "fp-" + key, "card", "tok_ok"};
          out.emplace(co_await pay.pay(s.who, r));
        },
        asio::detached);
  };
  spawn_pay("k-a", a);
  until(h, [&] { return provider.arrived == 1; });  // the first is at the provider's door
  spawn_pay("k-b", b);
  until(h, [&] { return b.has_value() || provider.arrived == 2; });
  provider.open.set();
  until(h, [&] { return a.has_value() && b.has_value(); });

  ASSERT_TRUE(a->ok()) << a->error().code.message();
  EXPECT_EQ((*a)->status, 200) << (*a)->body;
  // The second never got to charge: it answers one of the two 409s, not an answer of its own.
  ASSERT_FALSE(b->ok()) << "second key answered " << (*b)->status << " " << (*b)->body;
  const auto second = code_of(b->error());
  EXPECT_TRUE(second == Errc::idempotency_in_progress || second == Errc::order_already_paid)
      << b->error().code.message();
  EXPECT_EQ(ledger_entries(h, s.order.id), 1) << "the provider saw two charges for one order";

  // Once paid, a third key hears so and charges nothing.
  auto c = h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
    app::Payments pay(h.deps);
    app::PaymentRequest r{s.order.id, "k-c", "fp-c", "card", "tok_ok"};
    co_return co_await pay.pay(s.who, r);
  });
  if (c.ok()) {
    EXPECT_EQ(c->status, 409);
    EXPECT_NE(c->body.find("order_already_paid"), std::string::npos) << c->body;
  } else {
    EXPECT_EQ(code_of(c.error()), Errc::order_already_paid);
  }
  EXPECT_EQ(ledger_entries(h, s.order.id), 1);
}

// A declined attempt does not block the order: another key may try again.
TEST(OrderRaces, AnotherKeyMayPayAfterADecline) {
  Harness h;
  auto s = order_two_seats(h);
  auto pay = [&](std::string key, std::string card) {
    return h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
      app::Payments p(h.deps);
      app::PaymentRequest r{s.order.id, key, "fp-" + key, "card", card};
      co_return co_await p.pay(s.who, r);
    });
  };
  auto declined = pay("k-1", "tok_declined");
  ASSERT_TRUE(declined.ok());
  EXPECT_EQ(declined->status, 402);
  auto paid = pay("k-2", "tok_ok");
  ASSERT_TRUE(paid.ok()) << paid.error().code.message();
  EXPECT_EQ(paid->status, 200) << paid->body;
}

// The real repository; the payment's finalising transaction waits for `go`, commits, announces
// it, and then waits for `resume` before the payment writes its sold markers to Redis.
class HeldFinalise final : public ForwardingOrderRepo {
 public:
  HeldFinalise(app::OrderRepo& real, asio::any_io_executor ex)
      : ForwardingOrderRepo(real), reached(ex), go(ex), committed(ex), resume(ex) {}
  app::Task<bool> finalise(const app::FinalSale& s) override {
    reached.set();
    co_await go.wait();
    auto r = co_await r_.finalise(s);
    committed.set();
    co_await resume.wait();
    co_return r;
  }
  Event reached, go, committed, resume;
};

// The release's view of the repository: just before it cancels the hold's order, the payment
// commits (the release has already looked at the order and seen it pending).
class CommitBeforeCancel final : public ForwardingOrderRepo {
 public:
  CommitBeforeCancel(app::OrderRepo& real, HeldFinalise& pay)
      : ForwardingOrderRepo(real), p_(pay) {}
  app::Task<HoldOrder> cancel_for_hold(std::string hold_id) override {
    p_.go.set();
    co_await p_.committed.wait();
    co_return co_await r_.cancel_for_hold(std::move(hold_id));
  }

 private:
  HeldFinalise& p_;
};

// DELETE /v1/holds/{id} while the hold's payment commits: the release must not answer 204 (seats
// available again) for a hold whose order was just paid.
TEST(OrderRaces, ReleasingAHoldWhoseOrderJustCommittedIsRefused) {
  Harness h;
  auto s = order_two_seats(h);
  HeldFinalise pay_repo(*h.deps.ports.orders, h.io.get_executor());
  CommitBeforeCancel release_repo(*h.deps.ports.orders, pay_repo);
  app::Deps paying = h.deps, releasing = h.deps;
  paying.ports.orders = &pay_repo;
  releasing.ports.orders = &release_repo;

  std::optional<Result<app::PaymentAnswer>> paid;
  asio::co_spawn(
      h.io,
      [&]() -> asio::awaitable<void> {
        app::Payments pay(paying);
        app::PaymentRequest r{s.order.id, "k-race", "fp-race", "card", "tok_ok"};
        paid.emplace(co_await pay.pay(s.who, r));
      },
      asio::detached);
  h.run([&]() -> asio::awaitable<int> {
    co_await pay_repo.reached.wait();  // charged; the commit is next
    co_return 0;
  });
  auto released = h.run([&]() -> asio::awaitable<Status> {
    app::Seats seats(releasing);
    co_return co_await seats.release(s.who, s.order.hold_id);
  });
  pay_repo.resume.set();
  until(h, [&] { return paid.has_value(); });

  ASSERT_TRUE(paid->ok()) << paid->error().code.message();
  EXPECT_EQ((*paid)->status, 200) << (*paid)->body;
  ASSERT_FALSE(released.ok()) << "the hold of a paid order was released (204)";
  EXPECT_EQ(code_of(released.error()), Errc::not_found);
  for (const auto& seat : s.order.seat_ids) {
    EXPECT_EQ(seat_state(h, s.order.performance_id, seat), "sold") << seat;
  }
  EXPECT_EQ(h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM orders WHERE id = $1 AND status = 'paid'",
                 s.order.id);
  }),
            1);
}

}  // namespace
}  // namespace tk::test
