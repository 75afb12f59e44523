// The shared rate limit's GCRA script on the fixture's real Redis: two limiters on two
// connections (two front processes) together allow the configured burst and rate, not twice it;
// time is the caller's clock, so the test moves it instead of sleeping.
#include "infra/redis/stores/rate_limit.hpp"

#include "integration/redis/redis_test_util.hpp"

namespace tk::redis::testing {
namespace {

class SharedRateLimit : public RedisTest {};

TEST_F(SharedRateLimit, TwoProcessesTogetherGetTheRateNotTwiceIt) {
  run([]() -> asio::awaitable<void> {
    auto c1 = co_await connected_client();
    StopOnExit<Client> stop1{c1};
    auto c2 = co_await connected_client();
    StopOnExit<Client> stop2{c2};
    // 10 requests/s, bursts of 10: at one instant exactly 10 pass, whoever asks.
    redisstore::SharedRateLimiter a(c1, "rl:", 10, 10), b(c2, "rl:", 10, 10);
    const Millis t0 = 1'700'000'000'000;
    int allowed = 0;
    for (int i = 0; i < 20; ++i) {
      auto& lim = i % 2 ? a : b;
      auto d = co_await lim.check("203.0.113.7", t0);
      CO_ASSERT(d.ok());
      if (d->allowed) ++allowed;
    }
    EXPECT_EQ(allowed, 10) << "the burst is shared, not one per process";

    auto refused = co_await a.check("203.0.113.7", t0);
    CO_ASSERT(refused.ok());
    EXPECT_FALSE(refused->allowed);
    EXPECT_EQ(refused->retry_after_ms, 100) << "one emission interval until the next fits";

    // Another subject has its own bucket.
    auto other = co_await b.check("198.51.100.1", t0);
    CO_ASSERT(other.ok());
    EXPECT_TRUE(other->allowed);

    // Over one second at a steady pace: 10 more, alternating processes.
    allowed = 0;
    for (int ms = 100; ms <= 1000; ms += 20) {
      auto& lim = (ms / 20) % 2 ? a : b;
      auto d = co_await lim.check("203.0.113.7", t0 + ms);
      CO_ASSERT(d.ok());
      if (d->allowed) ++allowed;
    }
    EXPECT_EQ(allowed, 10) << "the sustained rate is shared too";

    // Idle long enough: the full burst is back.
    allowed = 0;
    for (int i = 0; i < 12; ++i) {
      auto d = co_await a.check("203.0.113.7", t0 + 10'000);
      CO_ASSERT(d.ok());
      if (d->allowed) ++allowed;
    }
    EXPECT_EQ(allowed, 10);
  });
}

TEST_F(SharedRateLimit, KeyExpiresOnlyAsGarbageCollection) {
  run([]() -> asio::awaitable<void> {
    auto c = co_await connected_client();
    StopOnExit<Client> stop{c};
    redisstore::SharedRateLimiter lim(c, "rl:", 2, 2);
    const Millis t0 = 1'700'000'000'000;
    auto d = co_await lim.check("x", t0);
    CO_ASSERT(d.ok() && d->allowed);
    auto ttl = co_await c->exec("PTTL", "rl:x");
    CO_ASSERT(ttl.ok());
    // TAT - now (500 ms) + 1 s of slack: the key outlives every decision it can still change.
    EXPECT_GT(ttl->integer, 1000);
    EXPECT_LE(ttl->integer, 1500);
  });
}

}  // namespace
}  // namespace tk::redis::testing
