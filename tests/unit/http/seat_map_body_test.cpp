#include "http/handlers/seat_map_body.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "app/layout_cache.hpp"

namespace tk::http {
namespace {

namespace json = boost::json;

struct Fixture {
  std::vector<domain::SeatSpec> seats{{"A-1-1", "A", "1", 1, "R"},
                                      {"A-1-2", "A", "1", 2, "S"},
                                      {"B \"VIP\"\\1", "B \"VIP\"", "1", 1, "VIP"},
                                      {"A-1-3", "A", "1", 3, "R"}};
  // A venue of the first `n` seats: with the fourth, section A is listed again after B.
  std::shared_ptr<const app::Layout> layout(std::size_t n = 3) const {
    auto n_seats = static_cast<std::ptrdiff_t>(n);
    return app::make_layout(
        domain::Venue{"ven_1", "Hall", {seats.begin(), seats.begin() + n_seats}});
  }
  // The first three available, held and sold; a fourth (if the layout has it) `fourth`.
  app::SeatMap map(std::int64_t version, Millis valid_until = std::numeric_limits<Millis>::max(),
                   std::shared_ptr<const app::Layout> l = nullptr,
                   app::SeatState fourth = app::SeatState::available) {
    app::SeatMap m;
    m.version = version;
    m.valid_until = valid_until;
    m.layout = l ? std::move(l) : layout();
    m.states = {app::SeatState::available, app::SeatState::held, app::SeatState::sold};
    m.states.resize(m.layout->venue.seats.size(), fourth);
    return m;
  }
};

TEST(SeatMapBody, IsTheContractShapeAndEscapesOddIds) {
  Fixture f;
  auto v = json::parse(seat_map_bodies(f.map(42)).full()).as_object();
  EXPECT_EQ(v.at("version").as_int64(), 42);
  const auto& seats = v.at("seats").as_array();
  ASSERT_EQ(seats.size(), 3u);
  EXPECT_EQ(seats[0].at("id").as_string(), "A-1-1");
  EXPECT_EQ(seats[0].at("state").as_string(), "available");
  EXPECT_EQ(seats[1].at("state").as_string(), "held");
  EXPECT_EQ(seats[2].at("id").as_string(), "B \"VIP\"\\1");
  EXPECT_EQ(seats[2].at("state").as_string(), "sold");
}

TEST(SeatMapBodies, OneSectionHoldsItsSeatsOnlyAndTheSummaryCountsEachState) {
  Fixture f;
  auto m = f.map(9, std::numeric_limits<Millis>::max(), f.layout(4), app::SeatState::sold);
  auto b = seat_map_bodies(m);
  // The full body is every seat once.
  EXPECT_EQ(json::parse(b.full()).at("seats").as_array().size(), 4u);
  ASSERT_TRUE(b.section("A"));
  auto a = json::parse(*b.section("A")).as_object();
  EXPECT_EQ(a.at("version").as_int64(), 9);
  EXPECT_EQ(a.at("section").as_string(), "A");
  const auto& as = a.at("seats").as_array();
  ASSERT_EQ(as.size(), 3u);
  EXPECT_EQ(as[0].at("id").as_string(), "A-1-1");
  EXPECT_EQ(as[2].at("id").as_string(), "A-1-3");
  EXPECT_EQ(as[2].at("state").as_string(), "sold");
  auto vip = json::parse(*b.section("B \"VIP\"")).as_object();
  EXPECT_EQ(vip.at("seats").as_array().size(), 1u);
  EXPECT_FALSE(b.section("C"));
  EXPECT_FALSE(b.section(""));

  auto sum = json::parse(b.summary).as_object();
  EXPECT_EQ(sum.at("version").as_int64(), 9);
  const auto& secs = sum.at("sections").as_array();
  ASSERT_EQ(secs.size(), 2u);
  EXPECT_EQ(secs[0].at("name").as_string(), "A");  // layout order
  EXPECT_EQ(secs[0].at("seats").as_int64(), 3);
  EXPECT_EQ(secs[0].at("available").as_int64(), 1);
  EXPECT_EQ(secs[0].at("held").as_int64(), 1);
  EXPECT_EQ(secs[0].at("sold").as_int64(), 1);
  EXPECT_EQ(json::serialize(secs[0].at("grades")), R"(["R","S"])");
  EXPECT_EQ(secs[1].at("name").as_string(), "B \"VIP\"");
  EXPECT_EQ(secs[1].at("sold").as_int64(), 1);
  EXPECT_EQ(secs[1].at("available").as_int64(), 0);
}

TEST(SeatMapBodies, AnEmptyMapHasNoSections) {
  auto b = seat_map_bodies(app::SeatMap{});
  EXPECT_EQ(json::parse(b.summary).at("sections").as_array().size(), 0u);
  EXPECT_EQ(json::parse(b.full()).at("seats").as_array().size(), 0u);
}

// Every body of `b`, for comparing a build that kept sections with one that encoded them all.
std::vector<std::string> every_body(const SeatMapBodies& b, const std::vector<std::string>& names) {
  std::vector<std::string> out{b.full(), b.summary};
  for (const auto& n : names) out.push_back(b.section(n).value_or("(none)"));
  return out;
}

TEST(SeatMapBodies, ARebuildEncodesOnlyTheSectionsWhereASeatChangedAndAnswersTheSame) {
  Fixture f;
  auto m = f.map(9, std::numeric_limits<Millis>::max(), f.layout(4));  // A again, after B
  auto first = seat_map_bodies(m);
  EXPECT_EQ(first.encoded, 2);

  // A seat of A is sold: A is encoded again, B is the previous build's, under the new version.
  auto next = m;
  next.version = 10;
  next.states[3] = app::SeatState::sold;
  auto kept = seat_map_bodies(next, &first);
  EXPECT_EQ(kept.encoded, 1);
  ASSERT_EQ(kept.sections.size(), 2u);
  EXPECT_NE(kept.sections[0], first.sections[0]);
  EXPECT_EQ(kept.sections[1], first.sections[1]);
  const std::vector<std::string> names{"A", "B \"VIP\""};
  EXPECT_EQ(every_body(kept, names), every_body(seat_map_bodies(next), names));
  EXPECT_EQ(json::parse(*kept.section("B \"VIP\"")).at("version").as_int64(), 10);
  EXPECT_EQ(json::parse(*kept.section("A")).at("seats").as_array()[2].at("state").as_string(),
            "sold");

  // Nothing changed but the version: nothing encoded.
  next.version = 11;
  auto same = seat_map_bodies(next, &kept);
  EXPECT_EQ(same.encoded, 0);
  EXPECT_EQ(every_body(same, names), every_body(seat_map_bodies(next), names));
}

TEST(SeatMapBodies, ASectionFromAnotherLayoutIsEncodedAgainWhateverItsStates) {
  Fixture f;
  auto first = seat_map_bodies(f.map(1));
  // The same seats and states, but the map comes from another layout (the venue loaded again).
  auto other = f.map(2);
  EXPECT_NE(other.layout, first.layout);
  EXPECT_EQ(seat_map_bodies(other, &first).encoded, 2);
  // From the same layout, nothing is encoded again.
  auto same = f.map(2, std::numeric_limits<Millis>::max(), first.layout);
  EXPECT_EQ(seat_map_bodies(same, &first).encoded, 0);
}

TEST(SeatMapBodies, ALayoutFindsItsSectionsOnceInTheOrderOfTheirFirstSeats) {
  Fixture f;
  auto l = f.layout(4);
  ASSERT_EQ(l->sections.size(), 2u);
  EXPECT_EQ(l->sections[0].name, "A");
  EXPECT_EQ(l->sections[0].seats, (std::vector<std::uint32_t>{0, 1, 3}));
  EXPECT_EQ(l->sections[0].grades, (std::vector<std::string>{"R", "S"}));
  EXPECT_EQ(l->sections[1].name, "B \"VIP\"");
  EXPECT_EQ(l->sections[1].seats, (std::vector<std::uint32_t>{2}));
  EXPECT_EQ(l->index.at("A-1-3"), 3u);
}

TEST(SeatMapCache, ServesWithoutCheckingOnlyBrieflyThenByVersion) {
  Fixture f;
  SeatMapCache c;
  Millis t = 1'000'000;
  EXPECT_EQ(c.fresh("p1", t), nullptr);
  auto body = c.put("p1", f.map(7), seat_map_bodies(f.map(7)), t, 0);
  EXPECT_EQ(c.fresh("p1", t + SeatMapCache::kRecheckMs - 1), body);
  EXPECT_EQ(c.fresh("p1", t + SeatMapCache::kRecheckMs), nullptr);  // time to ask the version
  EXPECT_EQ(c.fresh("p2", t), nullptr);                             // per performance
  // Same version: still current, and checked again.
  Millis t2 = t + 500;
  EXPECT_EQ(c.current("p1", 7, t2), body);
  EXPECT_EQ(c.fresh("p1", t2 + 1), body);
  // A new version is never answered from the cache.
  EXPECT_EQ(c.current("p1", 8, t2 + 200), nullptr);
  // Whatever the version, the body is rebuilt after the hard age limit.
  EXPECT_EQ(c.current("p1", 7, t + SeatMapCache::kMaxAgeMs), nullptr);
}

TEST(SeatMapCache, AHeldSeatExpiringEndsTheBodysValidity) {
  Fixture f;
  SeatMapCache c;
  Millis t = 2'000'000;
  auto body = c.put("p", f.map(3, t + 50), seat_map_bodies(f.map(3, t + 50)), t,
                    400);  // even with a long window
  EXPECT_EQ(c.fresh("p", t + 49), body);
  EXPECT_EQ(c.fresh("p", t + 50), nullptr);
  EXPECT_EQ(c.current("p", 3, t + 50), nullptr);
}

TEST(SeatMapCache, AMapCostlyToRebuildIsServedUncheckedLonger) {
  Fixture f;
  SeatMapCache c;
  Millis t = 5'000'000;
  // 10 ms to build: 20 x 10 = 200 ms between checks instead of 100.
  auto body = c.put("big", f.map(1), seat_map_bodies(f.map(1)), t, 10);
  EXPECT_EQ(c.fresh("big", t + 199), body);
  EXPECT_EQ(c.fresh("big", t + 200), nullptr);
  // Capped at one second.
  body = c.put("huge", f.map(1), seat_map_bodies(f.map(1)), t, 400);
  EXPECT_EQ(c.fresh("huge", t + SeatMapCache::kMaxWindowMs - 1), body);
  EXPECT_EQ(c.fresh("huge", t + SeatMapCache::kMaxWindowMs), nullptr);
  // A cheap map keeps the shortest window, and its bodies say when their state was read.
  body = c.put("small", f.map(1), seat_map_bodies(f.map(1)), t, 0);
  EXPECT_EQ(body->as_of, t);
  EXPECT_EQ(c.last("small"), body);  // what the next build starts from, however old
  EXPECT_EQ(c.last("none"), nullptr);
  EXPECT_EQ(c.fresh("small", t + SeatMapCache::kRecheckMs), nullptr);
}

TEST(SeatMapCache, TheWritersOwnReadSkipsTheNoCheckWindowOthersDoNot) {
  Fixture f;
  SeatMapCache c;
  RecentWrites w;
  Millis t = 3'000'000;
  auto body = c.put("p", f.map(1), seat_map_bodies(f.map(1)), t, 0);
  w.note("acc_writer", t + 5);
  // The writer's read is checked against Redis; anyone else's is served as is.
  EXPECT_EQ(c.fresh("p", t + 6, w.last("acc_writer", t + 6)), nullptr);
  EXPECT_EQ(c.fresh("p", t + 6, w.last("acc_other", t + 6)), body);
  // A check stamped at the write's own millisecond may have missed it: not enough.
  EXPECT_EQ(c.current("p", 1, t + 5), body);
  EXPECT_EQ(c.fresh("p", t + 7, w.last("acc_writer", t + 7)), nullptr);
  // A check that started after the write covers it.
  EXPECT_EQ(c.current("p", 1, t + 8), body);
  EXPECT_EQ(c.fresh("p", t + 9, w.last("acc_writer", t + 9)), body);
}

TEST(RecentWrites, ForgetsWritesOlderThanTheWindow) {
  RecentWrites w;
  Millis t = 4'000'000;
  w.note("a", t);
  EXPECT_EQ(w.last("a", t + 1), t);
  // Kept as long as the longest window: a body served unchecked that long may predate it.
  EXPECT_EQ(w.last("a", t + SeatMapCache::kMaxWindowMs - 1), t);
  EXPECT_EQ(w.last("a", t + SeatMapCache::kMaxWindowMs), 0);
  for (int i = 0; i < 1000; ++i) w.note("b" + std::to_string(i), t + 1);
  // Notes a window later sweep the old ones: the map holds about one window of writers.
  w.note("c", t + 1 + SeatMapCache::kMaxWindowMs);
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.last("c", t + 2 + SeatMapCache::kMaxWindowMs), t + 1 + SeatMapCache::kMaxWindowMs);
}

}  // namespace
}  // namespace tk::http
