// Public catalogue reads through the real handlers on the real PostgreSQL: served from this
// thread's memory (no pool acquire per request) with an ETag, 304 on a match, and a new ETag as
// soon as the operator changes the resource or the freshness bound passes.
#include "harness.hpp"
#include "http/handlers/api.hpp"

namespace tk::test {
namespace {

namespace bhttp = boost::beast::http;

class CatalogueCache : public ::testing::Test {
 protected:
  CatalogueCache() { http::add_routes(router, h.deps, http::ApiOptions{}); }

  // PostgreSQL connections leased so far, on either pool (the catalogue reads a replica pool).
  std::uint64_t pg_acquires() {
    auto n = h.adapters->pool->stats().acquires;
    if (h.adapters->read_pool != h.adapters->pool) n += h.adapters->read_pool->stats().acquires;
    return n;
  }

  http::Response get(const std::string& target, const std::string& if_none_match = "") {
    return h.run([&]() -> asio::awaitable<http::Response> {
      http::Request req{bhttp::verb::get, target, 11};
      if (!if_none_match.empty()) req.set(bhttp::field::if_none_match, if_none_match);
      http::RequestContext ctx{req};
      auto m = router.match(req.method(), req.target(), ctx.params);
      if (!m.handler) throw std::runtime_error("no route for " + target);
      co_return co_await (*m.handler)(ctx);
    });
  }

  Harness h;
  http::Router router;
};

TEST_F(CatalogueCache, PerformanceIsServedFromMemoryWithAnEtagUntilItChanges) {
  auto p = h.run([&] { return h.make_performance({}); });
  const std::string target = "/v1/performances/" + p.id;

  auto first = get(target);
  ASSERT_EQ(first.result(), bhttp::status::ok);
  std::string etag(first[bhttp::field::etag]);
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(first[bhttp::field::cache_control], "public, max-age=5");
  EXPECT_NE(first.body().find("\"on_sale\""), std::string::npos);

  auto before = pg_acquires();
  for (int i = 0; i < 20; ++i) {
    auto again = get(target);
    ASSERT_EQ(again.result(), bhttp::status::ok);
    EXPECT_EQ(again[bhttp::field::etag], etag);
    EXPECT_EQ(again.body(), first.body());
  }
  EXPECT_EQ(pg_acquires(), before) << "PostgreSQL was read per request";

  auto not_modified = get(target, etag);
  EXPECT_EQ(not_modified.result(), bhttp::status::not_modified);
  EXPECT_TRUE(not_modified.body().empty());
  EXPECT_EQ(not_modified[bhttp::field::etag], etag);

  // The operator pauses the sale: the next read shows it, under a new ETag.
  set_sale_status(h, p, domain::SaleStatus::paused);
  auto changed = get(target, etag);
  ASSERT_EQ(changed.result(), bhttp::status::ok);
  EXPECT_NE(changed[bhttp::field::etag], etag);
  EXPECT_NE(changed.body().find("\"paused\""), std::string::npos);
}

TEST_F(CatalogueCache, FreshnessIsBoundedByTheServiceClock) {
  auto p = h.run([&] { return h.make_performance({}); });
  const std::string target = "/v1/performances/" + p.id;
  get(target);
  auto before = pg_acquires();
  h.clock.advance(999);
  get(target);
  EXPECT_EQ(pg_acquires(), before);
  h.clock.advance(1);  // a change made by another process shows here within a second
  get(target);
  EXPECT_GT(pg_acquires(), before);
}

TEST_F(CatalogueCache, EventsListIsServedFromMemoryAndANewEventChangesIt) {
  auto p = h.run([&] { return h.make_performance({}); });
  auto first = get("/v1/events");
  ASSERT_EQ(first.result(), bhttp::status::ok);
  std::string etag(first[bhttp::field::etag]);
  auto before = pg_acquires();
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(get("/v1/events", etag).result(), bhttp::status::not_modified);
  EXPECT_EQ(pg_acquires(), before);
  h.run([&] { return h.make_performance({}); });  // the operator adds an event
  auto after = get("/v1/events", etag);
  ASSERT_EQ(after.result(), bhttp::status::ok);
  EXPECT_NE(after[bhttp::field::etag], etag);
  EXPECT_NE(after.body().find(p.event_id), std::string::npos);
}

TEST_F(CatalogueCache, LayoutIsImmutableAndReadOnce) {
  auto p = h.run([&] { return h.make_performance({.seats = 12}); });
  const std::string target = "/v1/venues/" + p.venue_id + "/layout";
  auto first = get(target);
  ASSERT_EQ(first.result(), bhttp::status::ok);
  EXPECT_EQ(first[bhttp::field::cache_control], "public, max-age=31536000, immutable");
  h.clock.advance(3600 * 1000);
  h.run([&] { return h.make_performance({}); });  // other catalogue changes leave layouts alone
  auto before = pg_acquires();
  auto again = get(target, std::string(first[bhttp::field::etag]));
  EXPECT_EQ(again.result(), bhttp::status::not_modified);
  EXPECT_EQ(pg_acquires(), before);
  EXPECT_EQ(get("/v1/venues/ven_missing/layout").result(), bhttp::status::not_found);
}

}  // namespace
}  // namespace tk::test
