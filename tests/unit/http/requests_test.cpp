#include "http/handlers/requests.hpp"

#include <gtest/gtest.h>

#include "app/errors.hpp"
#include "http/handlers/support.hpp"

namespace tk::http {
namespace {

boost::json::object obj(std::string_view text) { return boost::json::parse(text).as_object(); }

TEST(Rfc3339, ReadsZuluOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(parse_rfc3339("1970-01-01T09:00:00.25+09:00"), 250);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800000);
}

TEST(Rfc3339, RefusesSignsWhereDigitsBelong) {
  EXPECT_FALSE(parse_rfc3339("-026-12-23T19:30:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-12-23T-1:30:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-12-23T19:+3:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-12-23T19:30:00+-1:00"));
}

TEST(Rfc3339, RefusesDaysTheMonthDoesNotHave) {
  EXPECT_FALSE(parse_rfc3339("2026-02-31T10:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-02-29T10:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2026-04-31T10:00:00Z"));
  EXPECT_TRUE(parse_rfc3339("2028-02-29T10:00:00Z"));
}

TEST(Requests, HoldTakesUpToAHundredSeatIds) {
  auto ok = hold_request(obj(R"({"seat_ids":["a","b"]})"));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->seat_ids.size(), 2u);
  EXPECT_FALSE(ok->best_available);
  std::string many = R"({"seat_ids":[)";
  for (int i = 0; i < 101; ++i) many += std::string(i ? "," : "") + "\"s\"";
  auto over = hold_request(obj(many + "]}"));
  ASSERT_FALSE(over);
  EXPECT_EQ(app::to_app(over.error().code), app::Errc::too_many_seats);
  EXPECT_FALSE(hold_request(obj(R"({"seat_ids":[""]})")));
}

TEST(Requests, HoldTakesBestAvailableInstead) {
  auto ok = hold_request(obj(R"({"best_available":{"count":3,"grade":"R","section":"B 2"}})"));
  ASSERT_TRUE(ok);
  ASSERT_TRUE(ok->best_available);
  EXPECT_TRUE(ok->seat_ids.empty());
  EXPECT_EQ(ok->best_available->count, 3);
  EXPECT_EQ(ok->best_available->grade, "R");
  EXPECT_EQ(ok->best_available->section, "B 2");
  auto plain = hold_request(obj(R"({"best_available":{"count":1}})"));
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->best_available->grade);
  EXPECT_FALSE(plain->best_available->section);
  auto field = [](const char* body) {
    auto r = hold_request(obj(body));
    EXPECT_FALSE(r) << body;
    return r ? std::string() : std::string(r.error().details.at("field").as_string());
  };
  EXPECT_EQ(field(R"({"best_available":{"count":2},"seat_ids":["a"]})"), "seat_ids");
  EXPECT_EQ(field(R"({"best_available":2})"), "best_available");
  EXPECT_EQ(field(R"({"best_available":{}})"), "best_available.count");
  EXPECT_EQ(field(R"({"best_available":{"count":0}})"), "best_available.count");
  EXPECT_EQ(field(R"({"best_available":{"count":"2"}})"), "best_available.count");
  EXPECT_EQ(field(R"({"best_available":{"count":2,"grade":""}})"), "best_available.grade");
  EXPECT_EQ(field(R"({"best_available":{"count":2,"section":7}})"), "best_available.section");
  auto over = hold_request(obj(R"({"best_available":{"count":101}})"));
  ASSERT_FALSE(over);
  EXPECT_EQ(app::to_app(over.error().code), app::Errc::too_many_seats);
}

TEST(Requests, JoinCarriesAnOptionalProofOfWork) {
  auto none = join_request(obj(R"({})"));
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto some = join_request(obj(R"({"pow":{"challenge":"k1.abc","nonce":"1234"}})"));
  ASSERT_TRUE(some);
  ASSERT_TRUE(*some);
  EXPECT_EQ((*some)->challenge, "k1.abc");
  EXPECT_EQ((*some)->nonce, "1234");
  auto field = [](const std::string& body) {
    auto r = join_request(obj(body));
    EXPECT_FALSE(r) << body;
    return r ? std::string() : std::string(r.error().details.at("field").as_string());
  };
  EXPECT_EQ(field(R"({"pow":"x"})"), "pow");
  EXPECT_EQ(field(R"({"pow":{"nonce":"1"}})"), "pow.challenge");
  EXPECT_EQ(field(R"({"pow":{"challenge":"c","nonce":""}})"), "pow.nonce");
  EXPECT_EQ(field(R"({"pow":{"challenge":"c","nonce":")" + std::string(65, '1') + R"("}})"),
            "pow.nonce");
  EXPECT_EQ(field(R"({"pow":{"challenge":")" + std::string(513, 'c') + R"(","nonce":"1"}})"),
            "pow.challenge");
}

TEST(Requests, PaymentWantsACard) {
  EXPECT_TRUE(payment_request(obj(R"({"method":"card","card_token":"tok_ok"})")));
  auto cash = payment_request(obj(R"({"method":"cash","card_token":"tok_ok"})"));
  ASSERT_FALSE(cash);
  EXPECT_EQ(cash.error().details.at("field").as_string(), "method");
}

TEST(Requests, PerformanceChangeNeedsAField) {
  EXPECT_FALSE(performance_change(obj("{}")));
  auto reset = performance_change(obj(R"({"refundable_until":null})"));
  ASSERT_TRUE(reset);
  EXPECT_TRUE(reset->reset_refundable_until);
  auto big = performance_change(obj(R"({"queue":{"max_active":4294967296}})"));
  ASSERT_FALSE(big);
  EXPECT_EQ(app::to_app(big.error().code), app::Errc::out_of_range);
}

TEST(Requests, DoorTokenTtlDefaultsAndBounds) {
  Request req;
  EXPECT_EQ(door_token_ttl(req).value(), 12LL * 3600 * 1000);
  req.body() = R"({"ttl_seconds":60})";
  EXPECT_EQ(door_token_ttl(req).value(), 60000);
  req.body() = R"({"ttl_seconds":59})";
  EXPECT_FALSE(door_token_ttl(req));
}

}  // namespace
}  // namespace tk::http
