#include "gateway/policy.hpp"

#include <gtest/gtest.h>

#include "gateway/upstreams.hpp"

namespace tk::gateway {
namespace {

using V = bhttp::verb;

TEST(GatewayClassify, RoutesByPathAndMethod) {
  EXPECT_EQ(classify(V::get, "/v1/performances/p1/queue/status"), RouteClass::queue_status);
  EXPECT_EQ(classify(V::get, "/v1/performances/p1/queue/status?x=1"), RouteClass::queue_status);
  EXPECT_EQ(classify(V::post, "/v1/performances/p1/queue/status"), RouteClass::other);
  EXPECT_EQ(classify(V::get, "/v1/performances//queue/status"), RouteClass::other);
  EXPECT_EQ(classify(V::get, "/v1/performances/a/b/queue/status"), RouteClass::other);
  EXPECT_EQ(classify(V::post, "/v1/performances/p1/queue"), RouteClass::other);
  EXPECT_EQ(classify(V::get, "/v1/performances/p1/seats?section=A"), RouteClass::admitted);
  EXPECT_EQ(classify(V::get, "/v1/performances/p1/sections"), RouteClass::admitted);
  EXPECT_EQ(classify(V::post, "/v1/performances/p1/holds"), RouteClass::admitted);
  EXPECT_EQ(classify(V::get, "/v1/performances/p1"), RouteClass::other);
  EXPECT_EQ(classify(V::get, "/v1/admin/performances/p1"), RouteClass::admin);
  EXPECT_EQ(classify(V::post, "/v1/admin/checkin"), RouteClass::admin);
  EXPECT_EQ(classify(V::post, "/v1/test/clock"), RouteClass::admin);
  EXPECT_EQ(classify(V::post, "/v1/accounts"), RouteClass::sign_up);
  EXPECT_EQ(classify(V::get, "/v1/accounts"), RouteClass::other);
  EXPECT_EQ(classify(V::post, "/v1/sessions"), RouteClass::log_in);
  EXPECT_EQ(classify(V::delete_, "/v1/sessions/current"), RouteClass::other);
  EXPECT_EQ(classify(V::get, "/readyz"), RouteClass::health);
  EXPECT_EQ(performance_of("/v1/performances/p9/holds"), "p9");
  EXPECT_EQ(performance_of("/v1/events/e1"), "");
}

TEST(GatewayRetry, OnlyWhatCannotDoASecondThing) {
  // Nothing left: always safe, whatever the method.
  EXPECT_TRUE(may_retry(V::post, false, FailedAt::before_send));
  EXPECT_TRUE(may_retry(V::patch, false, FailedAt::before_send));
  // Sent, answer lost: idempotent methods, or an Idempotency-Key the API replays.
  EXPECT_TRUE(may_retry(V::get, false, FailedAt::after_send));
  EXPECT_TRUE(may_retry(V::head, false, FailedAt::after_send));
  EXPECT_TRUE(may_retry(V::put, false, FailedAt::after_send));
  EXPECT_TRUE(may_retry(V::delete_, false, FailedAt::after_send));
  EXPECT_FALSE(may_retry(V::post, false, FailedAt::after_send));
  EXPECT_FALSE(may_retry(V::patch, false, FailedAt::after_send));
  EXPECT_TRUE(may_retry(V::post, true, FailedAt::after_send));
}

TEST(GatewayHealth, FallAndRise) {
  HealthState h(2, 2);
  EXPECT_TRUE(h.healthy());
  EXPECT_FALSE(h.observe(false));  // one failure is not enough
  EXPECT_TRUE(h.healthy());
  EXPECT_FALSE(h.observe(true));  // and a success resets the count
  EXPECT_FALSE(h.observe(false));
  EXPECT_TRUE(h.observe(false));  // two in a row: out
  EXPECT_FALSE(h.healthy());
  EXPECT_FALSE(h.observe(true));
  EXPECT_FALSE(h.observe(false));  // a failure resets the way back
  EXPECT_FALSE(h.observe(true));
  EXPECT_TRUE(h.observe(true));
  EXPECT_TRUE(h.healthy());
  h.mark_down();  // a failed forward: out at once, back only after `rise` checks
  EXPECT_FALSE(h.healthy());
  EXPECT_FALSE(h.observe(true));
  EXPECT_TRUE(h.observe(true));
}

TEST(GatewayPick, RoundRobinOverHealthyUntried) {
  std::size_t cursor = 0;
  std::vector<bool> healthy{true, true, true}, none(3, false);
  EXPECT_EQ(pick_upstream(healthy, none, cursor), 0u);
  EXPECT_EQ(pick_upstream(healthy, none, cursor), 1u);
  EXPECT_EQ(pick_upstream(healthy, none, cursor), 2u);
  EXPECT_EQ(pick_upstream(healthy, none, cursor), 0u);
  healthy[1] = false;
  EXPECT_EQ(pick_upstream(healthy, none, cursor), 2u);  // 1 skipped
  EXPECT_EQ(pick_upstream(healthy, none, cursor), 0u);
  std::vector<bool> tried{true, false, false};
  EXPECT_EQ(pick_upstream(healthy, tried, cursor), 2u);  // a retry goes elsewhere
  tried[2] = true;
  EXPECT_FALSE(pick_upstream(healthy, tried, cursor));
  EXPECT_FALSE(pick_upstream(std::vector<bool>(3, false), none, cursor));
}

TEST(GatewayUpstreams, ParsesAddressList) {
  auto u = parse_upstreams("127.0.0.1:8081, 127.0.0.1:8082,[::1]:9000");
  ASSERT_TRUE(u);
  ASSERT_EQ(u->size(), 3u);
  EXPECT_EQ((*u)[1].port(), 8082);
  EXPECT_TRUE((*u)[2].address().is_v6());
  EXPECT_FALSE(parse_upstreams(""));
  EXPECT_FALSE(parse_upstreams("localhost:8081"));  // no name resolution on the request path
  EXPECT_FALSE(parse_upstreams("127.0.0.1"));
  EXPECT_FALSE(parse_upstreams("127.0.0.1:0"));
  EXPECT_FALSE(parse_upstreams("127.0.0.1:70000"));
}

}  // namespace
}  // namespace tk::gateway
