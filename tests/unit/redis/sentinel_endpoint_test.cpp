// redis-sentinel:// URLs: the sentinels, the master name, the data node's credentials and db.
#include <gtest/gtest.h>

#include "infra/redis/endpoint.hpp"

namespace tk::redis {
namespace {

TEST(RedisSentinelEndpoint, ParsesSentinelsMasterCredentialsAndDb) {
  auto ep = Endpoint::parse(
      "redis-sentinel://app:s%40cret@10.0.0.1:26380,sent-b,[::1]:26400/tk-main/2"
      "?sentinel_password=p%26q");
  ASSERT_TRUE(ep.ok());
  ASSERT_EQ(ep->sentinels.size(), 3u);
  EXPECT_EQ(ep->sentinels[0].host, "10.0.0.1");
  EXPECT_EQ(ep->sentinels[0].port, 26380);
  EXPECT_EQ(ep->sentinels[1].host, "sent-b");
  EXPECT_EQ(ep->sentinels[1].port, 26379);  // the sentinel default, not 6379
  EXPECT_EQ(ep->sentinels[2].host, "::1");
  EXPECT_EQ(ep->sentinels[2].port, 26400);
  EXPECT_EQ(ep->master_name, "tk-main");
  EXPECT_EQ(ep->username, "app");
  EXPECT_EQ(ep->password, "s@cret");
  EXPECT_EQ(ep->sentinel_password, "p&q");
  EXPECT_EQ(ep->db, 2);
  EXPECT_TRUE(ep->host.empty());  // the data node is found at connect time

  ep = Endpoint::parse("redis-sentinel://127.0.0.1:5000/mymaster");
  ASSERT_TRUE(ep.ok());
  ASSERT_EQ(ep->sentinels.size(), 1u);
  EXPECT_EQ(ep->sentinels[0].port, 5000);
  EXPECT_EQ(ep->master_name, "mymaster");
  EXPECT_TRUE(ep->password.empty());
  EXPECT_TRUE(ep->sentinel_password.empty());
  EXPECT_EQ(ep->db, 0);

  ep = Endpoint::parse("redis-sentinel://:pw@h1,h2/m/");  // trailing slash: db 0
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->sentinels.size(), 2u);
  EXPECT_EQ(ep->password, "pw");
  EXPECT_EQ(ep->db, 0);
}

TEST(RedisSentinelEndpoint, PlainUrlsHaveNoSentinels) {
  auto ep = Endpoint::parse("redis://127.0.0.1:6380/1");
  ASSERT_TRUE(ep.ok());
  EXPECT_TRUE(ep->sentinels.empty());
  EXPECT_TRUE(ep->master_name.empty());
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, 6380);
}

TEST(RedisSentinelEndpoint, RejectsBadUrls) {
  for (const char* url : {
           "redis-sentinel://h1:26379",                  // no master name
           "redis-sentinel://h1:26379/",                 // empty master name
           "redis-sentinel:///m",                        // no sentinel
           "redis-sentinel://h1,,h2/m",                  // empty entry
           "redis-sentinel://h1,/m",                     // trailing comma
           "redis-sentinel://h1:0/m",                    // port 0
           "redis-sentinel://h1:70000/m",                // port out of range
           "redis-sentinel://h1:2x/m",                   // junk port
           "redis-sentinel://[::1/m",                    // unterminated ipv6
           "redis-sentinel://h1/m/x",                    // bad db
           "redis-sentinel://h1/m/-1",                   // negative db
           "redis-sentinel://:%zz@h1/m",                 // bad percent-encoding
           "redis-sentinel://h1/m?password=x",           // unknown parameter
           "redis-sentinel://h1/m?sentinel_password",    // parameter without a value
           "redis-sentinel://h1/m?sentinel_password=%",  // bad percent-encoding
           "redis+sentinel://h1/m",                      // another scheme
           "sentinel://h1/m",
       }) {
    auto ep = Endpoint::parse(url);
    EXPECT_FALSE(ep.ok()) << url;
    if (!ep.ok()) {
      EXPECT_EQ(ep.code(), std::errc::invalid_argument) << url;
    }
  }
}

}  // namespace
}  // namespace tk::redis
