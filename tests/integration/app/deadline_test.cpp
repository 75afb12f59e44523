// A payment under a request deadline: the provider is only called when its answer and the sale's
// commit both fit in the budget, and a provider slower than its timeout is given up. The
// harness's provider times out after 1 s and payments keep a 1 s margin.
#include <boost/asio.hpp>

#include "harness.hpp"

namespace tk::test {
namespace {

using app::Errc;
using Clock = std::chrono::steady_clock;

Result<app::PaymentAnswer> pay(Harness& h, const Sale& s, const std::string& key,
                               std::chrono::milliseconds limit = 60s) {
  return h.run(
      [&]() -> asio::awaitable<Result<app::PaymentAnswer>> {
        app::Payments p(h.deps);
        app::PaymentRequest r{s.order.id, key, "fp-" + key, "card", "tok_ok"};
        co_return co_await p.pay(s.who, r);
      },
      limit);
}

std::int64_t charges(Harness& h, const std::string& order_id) {
  return h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM provider_charges WHERE order_ref = $1", order_id);
  });
}

TEST(RequestDeadline, PaymentWithoutRoomForTheProviderChargesNothingAndCanBeRetried) {
  Harness h;
  auto sale = order_two_seats(h);
  // 1.5 s left: less than the provider's 1 s timeout plus the 1 s margin.
  h.request_deadline = Clock::now() + 1500ms;
  auto refused = pay(h, sale, "k-short");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(code_of(refused.error()), Errc::unavailable);
  EXPECT_EQ(charges(h, sale.order.id), 0);

  // The attempt was forgotten: the same key with a full budget pays.
  h.request_deadline = no_deadline;
  auto paid = pay(h, sale, "k-short");
  ASSERT_TRUE(paid.ok()) << paid.error().code.message();
  EXPECT_EQ(paid->status, 200);
  EXPECT_EQ(charges(h, sale.order.id), 1);
}

TEST(RequestDeadline, ProviderSlowerThanItsTimeoutIsGivenUp) {
  Harness h(/*provider_latency_ms=*/60000);
  auto sale = order_two_seats(h);
  // Without the provider's timeout the call would wait its full minute and the run fails.
  auto r = pay(h, sale, "k-slow", 15s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(code_of(r.error()), Errc::unavailable);  // outcome unknown: left to the reconciler
  EXPECT_EQ(h.run([&] {
    return count(*h.pool, "SELECT count(*) FROM orders WHERE id = $1 AND status = 'paid'",
                 sale.order.id);
  }),
            0);
}

}  // namespace
}  // namespace tk::test
