// Pure tests of the Redis module: URL parsing, RESP encoding and the reply parser.
#include "infra/redis/protocol.hpp"

#include <gtest/gtest.h>

#include "infra/redis/endpoint.hpp"
#include "infra/redis/errors.hpp"

namespace tk::redis {
namespace {

TEST(RedisEndpoint, ParsesFullAndMinimalUrls) {
  auto ep = Endpoint::parse("redis://:s%40cret@cache.local:6380/3");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "cache.local");
  EXPECT_EQ(ep->port, 6380);
  EXPECT_EQ(ep->password, "s@cret");
  EXPECT_EQ(ep->username, "");
  EXPECT_EQ(ep->db, 3);

  ep = Endpoint::parse("redis://10.0.0.1");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "10.0.0.1");
  EXPECT_EQ(ep->port, 6379);
  EXPECT_TRUE(ep->password.empty());
  EXPECT_EQ(ep->db, 0);

  ep = Endpoint::parse("redis://app:pw@[::1]:7000/");
  ASSERT_TRUE(ep.ok());
  EXPECT_EQ(ep->host, "::1");
  EXPECT_EQ(ep->port, 7000);
  EXPECT_EQ(ep->username, "app");
  EXPECT_EQ(ep->password, "pw");
}

TEST(RedisEndpoint, RejectsBadUrls) {
  for (const char* url :
       {"http://h:1", "redis://", "redis://h:0", "redis://h:99999", "redis://h:12x", "redis://h/-1",
        "redis://h/x", "redis://:%zz@h", "redis://[::1"}) {
    auto ep = Endpoint::parse(url);
    EXPECT_FALSE(ep.ok()) << url;
    if (!ep.ok()) {
      EXPECT_EQ(ep.code(), std::errc::invalid_argument) << url;
    }
  }
}

TEST(RedisProtocol, EncodesBinarySafeRespArrays) {
  std::string out;
  std::vector<std::string> args{"SET", std::string("k\0", 2), ""};
  detail::append_command(out, args);
  EXPECT_EQ(out, std::string("*3\r\n$3\r\nSET\r\n$2\r\nk\0\r\n$0\r\n\r\n", 27));
  out.clear();
  std::vector<std::string> keys{"a"}, argv{"1", "22"};
  detail::append_evalsha(out, "abc", keys, argv);
  EXPECT_EQ(out,
            "*6\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n1\r\n$2\r\n22\r\n");
}

TEST(RedisProtocol, ParsesEveryReplyTypeFedByteByByte) {
  using namespace std::string_literals;
  const std::string bytes =
      "+OK\r\n-ERR boom\r\n:-42\r\n$5\r\nh\0\r\no\r\n$-1\r\n*-1\r\n*0\r\n"
      "*3\r\n:1\r\n*2\r\n$1\r\na\r\n$-1\r\n-WRONGTYPE x\r\n"s;
  detail::Parser p;
  std::vector<Reply> got;
  Reply r;
  for (char ch : bytes) {
    p.feed(&ch, 1);
    while (true) {
      auto st = p.next(r);
      ASSERT_NE(st, detail::Parser::Next::error) << p.error();
      if (st == detail::Parser::Next::need_more) break;
      got.push_back(std::move(r));
    }
  }
  ASSERT_EQ(got.size(), 8u);
  EXPECT_TRUE(got[0].is_ok());
  EXPECT_TRUE(got[1].is_error());
  EXPECT_EQ(got[1].str, "ERR boom");
  EXPECT_EQ(got[2], Reply::from_int(-42));
  EXPECT_EQ(got[3], Reply::from_string(std::string("h\0\r\no", 5)));
  EXPECT_TRUE(got[4].is_nil());
  EXPECT_TRUE(got[5].is_nil());
  EXPECT_EQ(got[6], Reply::from_array({}));
  EXPECT_EQ(got[7], Reply::from_array({Reply::from_int(1),
                                       Reply::from_array({Reply::from_string("a"), Reply::nil()}),
                                       Reply::from_error("WRONGTYPE x")}));
}

TEST(RedisProtocol, ReportsGarbageAsErrorAndRecoversAfterReset) {
  detail::Parser p;
  Reply r;
  p.feed("?what\r\n", 7);
  EXPECT_EQ(p.next(r), detail::Parser::Next::error);
  EXPECT_FALSE(p.error().empty());
  p.reset();
  p.feed(":7\r\n", 4);
  ASSERT_EQ(p.next(r), detail::Parser::Next::reply);
  EXPECT_EQ(r.integer, 7);
}

// An announced count is not a promise: 13 bytes must not buy gigabytes of empty replies (the old
// builder sized the array up front, 7.2 GB for this one).
TEST(RedisProtocol, AnnouncedArrayCountCostsNothingUntilElementsArrive) {
  detail::Parser p;
  Reply r;
  p.feed("*100000000\r\n:1\r\n*2\r\n$1\r\nx\r\n", 27);
  EXPECT_EQ(p.next(r), detail::Parser::Next::need_more);
  p.reset();
  p.feed("*3\r\n*2\r\n:1\r\n$-1\r\n+OK\r\n*0\r\n", 26);
  ASSERT_EQ(p.next(r), detail::Parser::Next::reply);
  EXPECT_EQ(r, Reply::from_array({Reply::from_array({Reply::from_int(1), Reply::nil()}),
                                  Reply::from_status("OK"), Reply::from_array({})}));
}

TEST(RedisReply, ToIntAcceptsIntegersAndDecimalStrings) {
  EXPECT_EQ(Reply::from_int(5).to_int(), 5);
  EXPECT_EQ(Reply::from_string("-12").to_int(), -12);
  EXPECT_EQ(Reply::from_string("12a").to_int(), std::nullopt);
  EXPECT_EQ(Reply::from_string("").to_int(), std::nullopt);
  EXPECT_EQ(Reply::nil().to_int(), std::nullopt);
}

TEST(RedisErrors, CategoryAndMessages) {
  std::error_code ec = Errc::timeout;
  EXPECT_STREQ(ec.category().name(), "redis");
  EXPECT_EQ(ec.message(), "redis command timed out");
  EXPECT_EQ(ec, Errc::timeout);
}

}  // namespace
}  // namespace tk::redis
