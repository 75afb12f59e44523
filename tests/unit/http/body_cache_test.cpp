#include "http/body_cache.hpp"

#include <gtest/gtest.h>

namespace tk::http {
namespace {

TEST(BodyCache, FreshUntilItsTimeAndOnlyUnderItsVersion) {
  BodyCache c;
  c.put("events", "{\"events\":[]}", 2000, 7);
  ASSERT_NE(c.get("events", 1999, 7), nullptr);
  EXPECT_EQ(c.get("events", 1999, 7)->body, "{\"events\":[]}");
  EXPECT_EQ(c.get("events", 2000, 7), nullptr);  // stale
  EXPECT_EQ(c.get("events", 1000, 8), nullptr);  // an operator change since
  EXPECT_EQ(c.get("other", 1000, 7), nullptr);
}

TEST(BodyCache, StaysBoundedByStartingAgain) {
  BodyCache c(3);
  for (int i = 0; i < 10; ++i) c.put("k" + std::to_string(i), "b", 100, 0);
  EXPECT_LE(c.size(), 3u);
  ASSERT_NE(c.get("k9", 0, 0), nullptr);
}

TEST(Etag, FollowsTheBody) {
  EXPECT_EQ(etag_of("a"), etag_of("a"));
  EXPECT_NE(etag_of("a"), etag_of("b"));
  EXPECT_EQ(etag_of("a").size(), 34u);
  EXPECT_EQ(etag_of("a").front(), '"');
}

TEST(IfNoneMatch, ListsStarAndWeakTags) {
  std::string t = etag_of("x");
  EXPECT_TRUE(if_none_match(t, t));
  EXPECT_TRUE(if_none_match("\"zz\", " + t, t));
  EXPECT_TRUE(if_none_match("W/" + t, t));
  EXPECT_TRUE(if_none_match("*", t));
  EXPECT_FALSE(if_none_match("\"zz\"", t));
  EXPECT_FALSE(if_none_match("", t));
}

TEST(CachedResponse, Answers304WithoutABodyOnAMatch) {
  CachedBody b{"{\"id\":1}", etag_of("{\"id\":1}"), 0, 0};
  Request req{beast::http::verb::get, "/v1/events", 11};
  auto full = cached_response(req, b, "public, max-age=5");
  EXPECT_EQ(full.result(), beast::http::status::ok);
  EXPECT_EQ(full.body(), b.body);
  EXPECT_EQ(full[beast::http::field::etag], b.etag);
  EXPECT_EQ(full[beast::http::field::cache_control], "public, max-age=5");
  req.set(beast::http::field::if_none_match, b.etag);
  auto nm = cached_response(req, b, "public, max-age=5");
  EXPECT_EQ(nm.result(), beast::http::status::not_modified);
  EXPECT_TRUE(nm.body().empty());
  EXPECT_EQ(nm[beast::http::field::etag], b.etag);
  req.set(beast::http::field::if_none_match, etag_of("older"));
  EXPECT_EQ(cached_response(req, b, "x").result(), beast::http::status::ok);
}

}  // namespace
}  // namespace tk::http
