#include "http/query.hpp"

#include <gtest/gtest.h>

#include "app/errors.hpp"

namespace tk::http {
namespace {

TEST(QueryParam, DecodedValueOrAbsent) {
  auto v = query_param("/v1/performances/p/seats?section=Floor%20A&x=1", "section");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v.value().has_value());
  EXPECT_EQ(*v.value(), "Floor A");
  auto plus = query_param("/s?section=%EA%B0%80+1", "section");  // UTF-8, '+' is a space
  ASSERT_TRUE(plus.ok());
  EXPECT_EQ(*plus.value(), "\xEA\xB0\x80 1");
  auto none = query_param("/v1/performances/p/seats", "section");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none.value().has_value());
  auto other = query_param("/s?sections=A", "section");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other.value().has_value());
}

TEST(QueryParam, EmptyRepeatedLongOrMalformedIsAFieldError) {
  for (const char* t : {"/s?section=", "/s?section", "/s?section=A&section=B", "/s?section=%zz",
                        "/s?section=A#frag"}) {
    auto v = query_param(t, "section");
    ASSERT_FALSE(v.ok()) << t;
    EXPECT_EQ(v.error().code, app::Errc::invalid_field) << t;
    EXPECT_EQ(v.error().details.at("field").as_string(), "section") << t;
  }
  EXPECT_FALSE(query_param("/s?section=" + std::string(201, 'a'), "section").ok());
  EXPECT_TRUE(query_param("/s?section=" + std::string(200, 'a'), "section").ok());
}

}  // namespace
}  // namespace tk::http
