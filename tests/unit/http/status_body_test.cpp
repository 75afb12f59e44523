#include "http/handlers/status_body.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "http/handlers/support.hpp"

namespace tk::http {
namespace {

namespace json = boost::json;

TEST(StatusBody, WaitingIsValidJsonWithTheContractFields) {
  app::QueueStatus s;
  s.state = app::QueueState::waiting;
  s.position = 1'000'001;
  s.ahead = 999'998;
  s.estimated_wait_seconds = 4321;
  auto v = json::parse(status_body(s)).as_object();
  EXPECT_EQ(v.at("state").as_string(), "waiting");
  EXPECT_EQ(v.at("position").as_int64(), 1'000'001);
  EXPECT_EQ(v.at("ahead").as_int64(), 999'998);
  EXPECT_EQ(v.at("estimated_wait_seconds").as_int64(), 4321);
  EXPECT_FALSE(v.contains("access_token"));
  EXPECT_EQ(v.size(), 4u);
}

TEST(StatusBody, AdmittedCarriesTheAccessTokenAndItsExpiry) {
  app::QueueStatus s;
  s.state = app::QueueState::admitted;
  s.position = 7;
  s.access_token = "k1.AbC-_d.xyz";
  s.access_expires_at = 1'790'000'000'123;
  auto v = json::parse(status_body(s)).as_object();
  EXPECT_EQ(v.at("state").as_string(), "admitted");
  EXPECT_EQ(v.at("ahead").as_int64(), 0);
  EXPECT_EQ(v.at("access_token").as_string(), "k1.AbC-_d.xyz");
  EXPECT_EQ(v.at("access_expires_at").as_string(), rfc3339(1'790'000'000'123));
}

TEST(StatusBody, EveryStateEncodes) {
  for (auto st : {app::QueueState::waiting, app::QueueState::admitted, app::QueueState::expired,
                  app::QueueState::sold_out, app::QueueState::closed}) {
    app::QueueStatus s;
    s.state = st;
    s.position = -1;  // never produced, but must still encode as a number
    auto v = json::parse(status_body(s)).as_object();
    EXPECT_EQ(v.at("state").as_string(), app::to_string(st));
    EXPECT_EQ(v.at("position").as_int64(), -1);
  }
}

}  // namespace
}  // namespace tk::http
