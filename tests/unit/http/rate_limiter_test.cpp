#include "http/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tk::http {
namespace {

TEST(RateLimiter, AllowsTheBurstThenRefusesUntilRefilled) {
  RateLimiter lim(5, 20);  // the poll limit: 5/s, burst 20
  Millis t = 1'000'000;
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(lim.allow("ticket-a", t)) << i;
  EXPECT_FALSE(lim.allow("ticket-a", t));
  EXPECT_FALSE(lim.allow("ticket-a", t + 199));  // 0.995 tokens
  EXPECT_TRUE(lim.allow("ticket-a", t + 200));   // one token after 200 ms at 5/s
  EXPECT_FALSE(lim.allow("ticket-a", t + 200));
}

TEST(RateLimiter, KeysHaveTheirOwnBuckets) {
  RateLimiter lim(1, 2);
  Millis t = 5'000;
  EXPECT_TRUE(lim.allow("a", t));
  EXPECT_TRUE(lim.allow("a", t));
  EXPECT_FALSE(lim.allow("a", t));
  EXPECT_TRUE(lim.allow("b", t));
  // Same bytes, same bucket, whatever the string object.
  std::string a = "a";
  EXPECT_FALSE(lim.allow(std::string_view(a), t));
}

TEST(RateLimiter, ExhaustedLooksWithoutSpending) {
  RateLimiter lim(1, 2);
  Millis t = 7'000;
  EXPECT_FALSE(lim.exhausted("x", t));  // unknown key: a full bucket
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(lim.exhausted("x", t));
  EXPECT_TRUE(lim.allow("x", t));
  EXPECT_TRUE(lim.allow("x", t));  // looking spent nothing: the whole burst was still there
  EXPECT_TRUE(lim.exhausted("x", t));
  EXPECT_TRUE(lim.exhausted("x", t + 999));
  EXPECT_FALSE(lim.exhausted("x", t + 1000));  // one token back at 1/s
}

TEST(RateLimiter, ClockGoingBackwardsNeverMintsTokens) {
  RateLimiter lim(1, 1);
  EXPECT_TRUE(lim.allow("k", 10'000));
  EXPECT_FALSE(lim.allow("k", 5'000));
  EXPECT_FALSE(lim.allow("k", 10'500));
}

TEST(RateLimiter, ForgetsIdleBucketsSoMemoryStaysBounded) {
  RateLimiter lim(5, 20, /*min_sweep=*/64);  // 64 shards x 64: sweeps start near 4k buckets
  Millis t = 0;
  for (int i = 0; i < 20'000; ++i) lim.allow("crowd-" + std::to_string(i), t);
  EXPECT_GE(lim.size(), 20'000u);
  // Four seconds later every bucket has refilled; a new crowd of the same size must not make
  // the limiter hold both crowds.
  t += 4'000;
  for (int i = 0; i < 20'000; ++i) lim.allow("next-" + std::to_string(i), t);
  EXPECT_LT(lim.size(), 30'000u);
  // A bucket still being drained is not forgotten by a sweep.
  for (int i = 0; i < 20; ++i) lim.allow("busy", t);
  for (int i = 0; i < 40'000; ++i) lim.allow("late-" + std::to_string(i), t + 100);
  EXPECT_FALSE(lim.allow("busy", t + 100));
}

}  // namespace
}  // namespace tk::http
