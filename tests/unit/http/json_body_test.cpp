#include "http/json_body.hpp"

#include <gtest/gtest.h>

#include "http/handlers/support.hpp"

namespace tk::http {
namespace {

TEST(JsonBody, ParsesAnObjectWithDistinctKeys) {
  auto b = parse_json_body(R"({"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]})");
  ASSERT_FALSE(b.malformed);
  ASSERT_FALSE(b.duplicate);
  EXPECT_EQ(b.value.at("b").at("a").as_int64(), 2);
}

TEST(JsonBody, RefusesADuplicateKeyAtTheTop) {
  auto b = parse_json_body(R"({"hold_id":"h1","hold_id":"h2"})");
  ASSERT_TRUE(b.duplicate);
  EXPECT_EQ(*b.duplicate, "hold_id");
}

TEST(JsonBody, RefusesADuplicateKeyInANestedObject) {
  auto b = parse_json_body(R"({"queue":{"max_active":1,"interval_ms":100,"max_active":9}})");
  ASSERT_TRUE(b.duplicate);
  EXPECT_EQ(*b.duplicate, "max_active");
}

TEST(JsonBody, EscapedSpellingsOfOneKeyAreTheSameKey) {
  auto b = parse_json_body(R"({"email":"a@x","em\u0061il":"b@x"})");
  ASSERT_TRUE(b.duplicate);
  EXPECT_EQ(*b.duplicate, "email");
}

TEST(JsonBody, MalformedIsNotADuplicate) {
  auto b = parse_json_body(R"({"a":1,)");
  EXPECT_TRUE(b.malformed);
  EXPECT_FALSE(b.duplicate);
  EXPECT_TRUE(parse_json_body(R"({"a":1} x)").malformed);
}

TEST(JsonBody, ParseObjectAnswers400InvalidFieldNamingTheKey) {
  Request req{beast::http::verb::post, "/v1/orders", 11};
  req.body() = R"({"hold_id":"h1","hold_id":"h2"})";
  auto r = parse_object(req);
  ASSERT_FALSE(r.ok());
  auto res = error_to_response(r.error());
  EXPECT_EQ(res.result(), beast::http::status::bad_request);
  EXPECT_NE(res.body().find("invalid_field"), std::string::npos);
  EXPECT_NE(res.body().find("duplicate key"), std::string::npos);
  req.body() = R"({"hold_id":"h1"})";
  EXPECT_TRUE(parse_object(req).ok());
}

}  // namespace
}  // namespace tk::http
