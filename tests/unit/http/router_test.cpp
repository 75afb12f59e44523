#include "http/router.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/responses.hpp"

namespace tk::http {
namespace {

namespace bhttp = beast::http;

Handler h() {
  return [](RequestContext&) -> asio::awaitable<Response> {
    co_return json_response(bhttp::status::ok, boost::json::object{});
  };
}

TEST(Router, MatchesLiteralAndCaptures) {
  Router r;
  r.add(bhttp::verb::get, "/v1/events", h());
  r.add(bhttp::verb::get, "/v1/events/{event_id}", h());
  r.add(bhttp::verb::get, "/v1/performances/{pid}/queue/status", h());
  PathParams p;

  auto m = r.match(bhttp::verb::get, "/v1/events", p);
  EXPECT_EQ(m.status, bhttp::status::ok);
  EXPECT_EQ(m.route, "/v1/events");
  EXPECT_EQ(p.size(), 0u);

  m = r.match(bhttp::verb::get, "/v1/events/e42?x=1&y=/2", p);
  ASSERT_EQ(m.status, bhttp::status::ok);
  EXPECT_NE(m.handler, nullptr);
  EXPECT_EQ(m.route, "/v1/events/{event_id}");
  EXPECT_EQ(p.get("event_id"), "e42");  // query string ignored

  m = r.match(bhttp::verb::get, "/v1/performances/p-7/queue/status", p);
  ASSERT_EQ(m.status, bhttp::status::ok);
  EXPECT_EQ(p.get("pid"), "p-7");
  EXPECT_EQ(p.get("nope"), "");
}

TEST(Router, UnknownPathsAre404) {
  Router r;
  r.add(bhttp::verb::get, "/v1/events/{event_id}", h());
  PathParams p;
  for (const char* path : {"/v1/events", "/v1/events/", "/v1/events/a/b", "/", "", "v1/events/a",
                           "/v2/events/a", "//v1/events/a"}) {
    auto m = r.match(bhttp::verb::get, path, p);
    EXPECT_EQ(m.status, bhttp::status::not_found) << path;
    EXPECT_EQ(m.handler, nullptr) << path;
    EXPECT_TRUE(m.route.empty()) << path;
  }
  auto res = Router::error_for(r.match(bhttp::verb::get, "/nope", p));
  EXPECT_EQ(res.result(), bhttp::status::not_found);
  EXPECT_EQ(boost::json::parse(res.body()).at("error").at("code").as_string(), "not_found");
}

TEST(Router, WrongVerbIs405WithAllow) {
  Router r;
  r.add(bhttp::verb::post, "/v1/performances/{pid}/queue", h());
  r.add(bhttp::verb::get, "/v1/performances/{pid}/queue", h());
  r.add(bhttp::verb::patch, "/v1/admin/performances/{pid}", h());
  PathParams p;
  auto m = r.match(bhttp::verb::delete_, "/v1/performances/p1/queue", p);
  EXPECT_EQ(m.status, bhttp::status::method_not_allowed);
  EXPECT_EQ(m.route, "/v1/performances/{pid}/queue");
  EXPECT_EQ(m.allow, "POST, GET");
  auto res = Router::error_for(m);
  EXPECT_EQ(res.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(res[bhttp::field::allow], "POST, GET");
  EXPECT_EQ(boost::json::parse(res.body()).at("error").at("code").as_string(),
            "method_not_allowed");
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
}

TEST(Router, LiteralSegmentBeatsCapture) {
  Router r;
  int which = 0;
  auto tag = [&which](int n) -> Handler {
    return [&which, n](RequestContext&) -> asio::awaitable<Response> {
      which = n;
      co_return Response{};
    };
  };
  r.add(bhttp::verb::get, "/v1/sessions/{sid}", tag(1));
  r.add(bhttp::verb::delete_, "/v1/sessions/current", tag(2));
  r.add(bhttp::verb::get, "/v1/{a}/x", tag(3));
  r.add(bhttp::verb::get, "/{a}/{b}/x", tag(4));
  PathParams p;
  auto m = r.match(bhttp::verb::delete_, "/v1/sessions/current", p);
  ASSERT_EQ(m.status, bhttp::status::ok);
  EXPECT_EQ(m.route, "/v1/sessions/current");
  // GET falls back to the capture route, which has the verb.
  m = r.match(bhttp::verb::get, "/v1/sessions/current", p);
  ASSERT_EQ(m.status, bhttp::status::ok);
  EXPECT_EQ(m.route, "/v1/sessions/{sid}");
  EXPECT_EQ(p.get("sid"), "current");
  m = r.match(bhttp::verb::get, "/v1/y/x", p);
  EXPECT_EQ(m.route, "/v1/{a}/x");
  m = r.match(bhttp::verb::get, "/v2/y/x", p);
  EXPECT_EQ(m.route, "/{a}/{b}/x");
  EXPECT_EQ(p.get("a"), "v2");
  EXPECT_EQ(p.get("b"), "y");
  // POST exists nowhere on this path: 405 lists both verbs of both matching routes.
  m = r.match(bhttp::verb::post, "/v1/sessions/current", p);
  EXPECT_EQ(m.status, bhttp::status::method_not_allowed);
  EXPECT_EQ(m.allow, "GET, DELETE");
}

TEST(Router, RejectsBadPatterns) {
  Router r;
  EXPECT_THROW(r.add(bhttp::verb::get, "v1/x", h()), std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/v1//x", h()), std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/v1/{}", h()), std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/v1/{a", h()), std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/v1/a{b}", h()), std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/{a}/{a}", h()), std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", h()),
               std::invalid_argument);
  EXPECT_THROW(r.add(bhttp::verb::get, "/x", Handler{}), std::invalid_argument);
  r.add(bhttp::verb::get, "/x", h());
  EXPECT_THROW(r.add(bhttp::verb::get, "/x", h()), std::logic_error);
  r.add(bhttp::verb::post, "/x", h());  // another verb on the same path is fine
  EXPECT_EQ(r.size(), 1u);
}

TEST(Router, ADoorYieldsOnlyToDoorsDeclaredBeforeIt) {
  Router r;
  DoorOptions o;
  int sale = r.add_door("sale", o);
  EXPECT_THROW(r.add_door("entry", o, {sale + 1}), std::invalid_argument);  // itself, or later
  EXPECT_THROW(r.add_door("entry", o, {-1}), std::invalid_argument);
  int entry = r.add_door("entry", o, {sale});
  ASSERT_EQ(r.doors().size(), 2u);
  EXPECT_EQ(r.doors()[static_cast<std::size_t>(entry)].yields_to, std::vector<int>{sale});
  EXPECT_THROW(r.add(bhttp::verb::get, "/x", h(), Budget::request, entry + 1),
               std::invalid_argument);
}

TEST(Router, RootRoute) {
  Router r;
  r.add(bhttp::verb::get, "/", h());
  PathParams p;
  EXPECT_EQ(r.match(bhttp::verb::get, "/", p).status, bhttp::status::ok);
  EXPECT_EQ(r.match(bhttp::verb::get, "/?q=1", p).status, bhttp::status::ok);
  EXPECT_EQ(r.match(bhttp::verb::get, "/a", p).status, bhttp::status::not_found);
}

TEST(Responses, ErrorFormat) {
  boost::json::object d;
  d["seat_ids"] = boost::json::array{"s1", "s2"};
  auto res = error_response(bhttp::status::conflict, "seats_unavailable", "taken", d);
  EXPECT_EQ(res.result(), bhttp::status::conflict);
  EXPECT_EQ(res[bhttp::field::content_type], "application/json");
  EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
  auto v = boost::json::parse(res.body());
  EXPECT_EQ(v.at("error").at("code").as_string(), "seats_unavailable");
  EXPECT_EQ(v.at("error").at("message").as_string(), "taken");
  EXPECT_EQ(v.at("error").at("details").at("seat_ids").as_array().size(), 2u);
  auto plain = error_response(bhttp::status::not_found, "not_found", "x");
  EXPECT_TRUE(boost::json::parse(plain.body()).at("error").at("details").as_object().empty());
  set_retry_after(plain, 0);
  EXPECT_EQ(plain[bhttp::field::retry_after], "1");
}

}  // namespace
}  // namespace tk::http
