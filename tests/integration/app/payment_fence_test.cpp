// A payment attempt that outlives its lease (a slow pool, a stalled provider call) runs on while
// the reconciler resolves the same attempt. Whatever the interleaving, a charge must end up either
// paying its order or voided: never live with nobody left to look at it.
#include "harness.hpp"
#include "hooks.hpp"

namespace tk::test {
namespace {

using app::Errc;

// The real repository, except that the finalising transaction fails as if its connection dropped
// (or the pool shed it): the attempt that charged gives up with "unavailable", like a process that
// died after its charge.
class FinaliseFails final : public ForwardingOrderRepo {
 public:
  using ForwardingOrderRepo::ForwardingOrderRepo;
  app::Task<bool> finalise(const app::FinalSale&) override {
    ++finalise_calls;
    co_return Errc::unavailable;
  }
  int finalise_calls = 0;
};

// The real provider, except that a charge waits at the door until the test opens it: the call
// is on its way (its attempt's row committed, the provider not reached yet) for exactly as long
// as the test needs, whatever the machine's speed.
class HeldCharge final : public ForwardingGateway {
 public:
  HeldCharge(app::PaymentGateway& real, asio::any_io_executor ex)
      : ForwardingGateway(real), started(ex), open(ex) {}
  app::Task<app::ChargeResult> charge(std::string key, std::string order_ref,
                                      std::int64_t amount_cents, std::string currency,
                                      std::string card_token) override {
    started.set();
    co_await open.wait();
    co_return co_await g_.charge(std::move(key), std::move(order_ref), amount_cents,
                                 std::move(currency), std::move(card_token));
  }
  Event started, open;
};

std::int64_t live_charges(Harness& h, const std::string& order_id) {
  return h.run([&] {
    return count(
        *h.pool,
        "SELECT count(*) FROM provider_charges WHERE order_ref = $1 AND status = 'charged'",
        order_id);
  });
}

// The first attempt's charge is on its way to the provider when its lease runs out and the
// reconciler, finding nothing at the provider yet, gives the attempt up. The charge then lands and
// the attempt dies before it can finalise. Without a fence the charge is live, its attempt is
// forgotten, and nothing ever voids it.
Result<app::PaymentAnswer> stall_past_lease_then_reconcile(Harness& h, const Sale& s,
                                                           app::OrderRepo& first_attempts_repo) {
  HeldCharge provider(*h.deps.ports.payments, h.io.get_executor());
  app::Deps first = h.deps;
  first.ports.orders = &first_attempts_repo;
  first.ports.payments = &provider;
  std::optional<Result<app::PaymentAnswer>> answer;
  Event answered(h.io.get_executor());
  h.run([&]() -> asio::awaitable<int> {
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          app::Payments pay(first);
          app::PaymentRequest r{s.order.id, "k-stall", "fp-1", "card", "tok_ok"};
          answer.emplace(co_await pay.pay(s.who, r));
          answered.set();
        },
        asio::detached);
    co_await provider.started.wait();  // the attempt's row is committed, its charge on its way
    // Lease = provider timeout (1 s) + margin (1 s).
    h.clock.advance(2'001);
    app::Payments reconciler(h.deps);
    auto n = co_await reconciler.reconcile(10);
    EXPECT_TRUE(n.ok());
    EXPECT_FALSE(answer.has_value()) << "the provider call must still be on its way";
    provider.open.set();  // the late charge reaches the provider
    co_await answered.wait();
    co_return 0;
  });
  return std::move(*answer);
}

TEST(PaymentFence, AChargeLandingAfterTheReconcilerGaveItsAttemptUpIsNeverLeftLive) {
  Harness h;
  auto s = order_two_seats(h);
  FinaliseFails repo(*h.deps.ports.orders);
  auto first = stall_past_lease_then_reconcile(h, s, repo);
  EXPECT_FALSE(first.ok()) << "the first attempt cannot have paid";
  // The buyer gives up. Whatever is left in doubt, the reconciler settles once its leases are out;
  // the order then expires with its hold.
  h.clock.advance(60'000);
  h.run([&]() -> asio::awaitable<int> {
    app::Payments reconciler(h.deps);
    auto n = co_await reconciler.reconcile(10);
    EXPECT_TRUE(n.ok());
    co_return 0;
  });
  h.clock.advance(300'000);
  h.run([&]() -> asio::awaitable<int> {
    auto expired = co_await h.deps.ports.orders->expire_due(h.clock.now_ms(), 10);
    EXPECT_TRUE(expired.ok());
    app::Payments reconciler(h.deps);
    auto n = co_await reconciler.reconcile(10);
    EXPECT_TRUE(n.ok());
    co_return 0;
  });
  EXPECT_EQ(live_charges(h, s.order.id), 0) << "a charge without a paid order was left live";
  EXPECT_EQ(h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM orders WHERE id = $1 AND status = 'paid'",
                 s.order.id);
  }),
            0);
}

// The buyer retries with the same Idempotency-Key after the reconciler gave the first attempt up:
// the retry is a new attempt under its own provider key, so it can pay, and pays once.
TEST(PaymentFence, ARetryWithTheSameKeyAfterTheAttemptWasGivenUpPaysOnce) {
  Harness h;
  auto s = order_two_seats(h);
  FinaliseFails repo(*h.deps.ports.orders);
  auto first = stall_past_lease_then_reconcile(h, s, repo);
  EXPECT_FALSE(first.ok());
  auto retry = h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
    app::Payments pay(h.deps);
    app::PaymentRequest r{s.order.id, "k-stall", "fp-1", "card", "tok_ok"};
    co_return co_await pay.pay(s.who, r);
  });
  ASSERT_TRUE(retry.ok()) << retry.error().code.message();
  EXPECT_EQ(retry->status, 200) << retry->body;
  EXPECT_EQ(live_charges(h, s.order.id), 1);
  EXPECT_EQ(h.run([&] {
    return count(*h.pool,
                 "SELECT count(*) FROM orders o JOIN provider_charges c ON c.id = "
                 "o.charge_id WHERE o.id = $1 AND o.status = 'paid' AND "
                 "c.status = 'charged'",
                 s.order.id);
  }),
            1)
      << "paid with its live charge";
  // A later replay answers the same and charges nothing more.
  auto replay = h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
    app::Payments pay(h.deps);
    app::PaymentRequest r{s.order.id, "k-stall", "fp-1", "card", "tok_ok"};
    co_return co_await pay.pay(s.who, r);
  });
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->body, retry->body);
  EXPECT_EQ(live_charges(h, s.order.id), 1);
}

// The first try charged and then died before it could finalise. The buyer retries with the same
// key after the hold ran out: the retry takes the attempt over and refuses (the hold expired). It
// never charged itself, yet the attempt did: it must give that money back, not answer "nothing was
// charged" over a live charge.
TEST(PaymentFence, AResumedAttemptThatRefusesVoidsWhatItsFirstTryCharged) {
  Harness h;
  auto s = order_two_seats(h);
  FinaliseFails repo(*h.deps.ports.orders);
  app::Deps first = h.deps;
  first.ports.orders = &repo;
  auto pay = [&](app::Deps& d) {
    return h.run([&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
      app::Payments p(d);
      app::PaymentRequest r{s.order.id, "k-resume", "fp-1", "card", "tok_ok"};
      co_return co_await p.pay(s.who, r);
    });
  };
  auto died = pay(first);
  EXPECT_FALSE(died.ok());
  EXPECT_EQ(repo.finalise_calls, 1);
  EXPECT_EQ(live_charges(h, s.order.id), 1) << "charged before it died";
  h.clock.advance(300'000);  // the hold, the order and the attempt's lease have all run out
  auto retry = pay(h.deps);
  ASSERT_TRUE(retry.ok()) << retry.error().code.message();
  EXPECT_EQ(retry->status, 409);
  EXPECT_NE(retry->body.find("hold_expired"), std::string::npos) << retry->body;
  EXPECT_EQ(live_charges(h, s.order.id), 0) << "answered 'nothing was charged' over a live charge";
}

// The finalising transaction's fences, on the real repository: an attempt that no longer owns
// its key's row (given up, taken over) or an order whose seat claims ran out finalises nothing
// (no ticket, no sold seat, no outbox row, no sales count, the order still pending), although
// its writes and COMMIT go in one round trip after the fences. The owner finalises all, once.
TEST(PaymentFence, OnlyTheAttemptOwningItsKeyFinalisesAndThenAllOfIt) {
  Harness h;
  auto s = order_two_seats(h);
  app::OrderRepo& repo = *h.deps.ports.orders;
  const Millis now = h.clock.now_ms();
  auto begun = h.run([&] {
    return repo.begin_payment(s.who.account_id, "k-fence", "fp-1", s.order.id, "att-1", now,
                              10'000);
  });
  ASSERT_TRUE(begun.ok()) << begun.error().code.message();
  ASSERT_EQ(begun->kind, app::IdempotencyBegin::Kind::started);
  auto finalise = [&](std::string attempt, Millis at) {
    app::FinalSale f;
    f.order_id = s.order.id;
    f.account_id = s.who.account_id;
    f.idempotency_key = "k-fence";
    f.attempt = std::move(attempt);
    f.charge_id = "ch_fence";
    for (std::size_t i = 0; i < s.order.seat_ids.size(); ++i) {
      domain::Ticket t;
      t.id = "tkt_fence_" + std::to_string(i);
      t.seat_id = s.order.seat_ids[i];
      t.code = "code-" + std::to_string(i);
      f.tickets.push_back(std::move(t));
    }
    f.response_body = R"({"status":"paid"})";
    f.outbox_payload = R"({"order_id":")" + s.order.id + R"("})";
    f.now = at;
    return h.run([&] { return repo.finalise(f); });
  };
  // Everything a finalised order writes, summed: tickets, the paid order, sold seats, the
  // outbox row, the sales count and the completed idempotency row.
  auto written = [&] {
    return h.run([&] {
      return count(*h.pool,
                   "SELECT (SELECT count(*) FROM tickets WHERE order_id = $1) + "
                   "(SELECT count(*) FROM orders WHERE id = $1 AND status = 'paid') + "
                   "(SELECT count(*) FROM performance_seats WHERE order_id = $1 AND "
                   "state = 'sold') + "
                   "(SELECT count(*) FROM outbox WHERE payload->>'order_id' = $1) + "
                   "(SELECT COALESCE(sum(sold), 0) FROM performance_sales WHERE performance_id "
                   "= (SELECT performance_id FROM orders WHERE id = $1)) + "
                   "(SELECT count(*) FROM idempotency_keys WHERE order_id = $1 AND "
                   "state = 'completed')",
                   s.order.id);
    });
  };
  auto other = finalise("att-2", now);
  ASSERT_TRUE(other.ok()) << other.error().code.message();
  EXPECT_FALSE(*other) << "an attempt that does not own the key finalised the order";
  EXPECT_EQ(written(), 0);

  auto late = finalise("att-1", now + 7LL * 24 * 3600 * 1000);  // past the seats' claims
  ASSERT_TRUE(late.ok()) << late.error().code.message();
  EXPECT_FALSE(*late) << "finalised over claims that had run out";
  EXPECT_EQ(written(), 0);

  auto owner = finalise("att-1", now);
  ASSERT_TRUE(owner.ok()) << owner.error().code.message();
  EXPECT_TRUE(*owner);
  const auto seats = static_cast<std::int64_t>(s.order.seat_ids.size());
  EXPECT_EQ(written(), seats + 1 + seats + 1 + seats + 1);

  auto again = finalise("att-1", now);
  ASSERT_TRUE(again.ok()) << again.error().code.message();
  EXPECT_FALSE(*again) << "finalised twice";
  EXPECT_EQ(written(), seats + 1 + seats + 1 + seats + 1);
}

}  // namespace
}  // namespace tk::test
