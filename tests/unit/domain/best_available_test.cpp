// The server's choice of seats for "best available".
#include "domain/best_available.hpp"

#include <gtest/gtest.h>

namespace tk::domain {
namespace {

struct Venue {
  std::vector<SeatSpec> seats;
  // Adds a row of seats numbered 1..n.
  Venue& row(const std::string& section, const std::string& row, int n, const std::string& grade) {
    for (int i = 1; i <= n; ++i) {
      seats.push_back({section + "-" + row + "-" + std::to_string(i), section, row, i, grade});
    }
    return *this;
  }
  std::vector<bool> all_free() const { return std::vector<bool>(seats.size(), true); }
  std::vector<bool> free_except(std::initializer_list<const char*> taken) const {
    auto f = all_free();
    for (const char* id : taken) {
      for (std::size_t i = 0; i < seats.size(); ++i)
        if (seats[i].id == id) f[i] = false;
    }
    return f;
  }
  std::vector<std::string> ids(const std::vector<std::size_t>& group) const {
    std::vector<std::string> out;
    for (auto i : group) out.push_back(seats[i].id);
    return out;
  }
};

const std::vector<std::string> kGrades = {"VIP", "R", "S"};

using Ids = std::vector<std::string>;

TEST(BestAvailable, AdjacentSeatsInTheCentreOfTheFrontRowFirst) {
  Venue v;
  v.row("A", "1", 10, "R").row("A", "2", 10, "R");
  auto g = best_available(v.seats, v.all_free(), kGrades, {.count = 2}, 4);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(v.ids(g[0]), (Ids{"A-1-5", "A-1-6"}));
  // Disjoint groups, still the front row, moving out from the centre.
  EXPECT_EQ(v.ids(g[1]), (Ids{"A-1-3", "A-1-4"}));
  EXPECT_EQ(v.ids(g[2]), (Ids{"A-1-7", "A-1-8"}));
  EXPECT_EQ(v.ids(g[3]), (Ids{"A-1-1", "A-1-2"}));
}

TEST(BestAvailable, ABetterGradeBeforeABetterRow) {
  Venue v;
  v.row("A", "1", 4, "S").row("A", "2", 4, "VIP");
  auto g = best_available(v.seats, v.all_free(), kGrades, {.count = 2}, 1);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(v.ids(g[0]), (Ids{"A-2-2", "A-2-3"}));
}

TEST(BestAvailable, TakenSeatsBreakABlock) {
  Venue v;
  v.row("A", "1", 6, "R").row("A", "2", 6, "R");
  // Row 1 has 1-2 and 5-6 free, never three in a row: row 2's centre.
  auto f = v.free_except({"A-1-3", "A-1-4"});
  auto g = best_available(v.seats, f, kGrades, {.count = 3}, 1);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(v.ids(g[0]), (Ids{"A-2-2", "A-2-3", "A-2-4"}));
  // Two seats fit in row 1 either side of the taken pair, equally far from the centre: the first.
  g = best_available(v.seats, f, kGrades, {.count = 2}, 2);
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(v.ids(g[0]), (Ids{"A-1-1", "A-1-2"}));
  EXPECT_EQ(v.ids(g[1]), (Ids{"A-1-5", "A-1-6"}));
}

TEST(BestAvailable, NumbersThatSkipAreNotAdjacent) {
  Venue v;
  v.seats = {{"x1", "A", "1", 1, "R"},
             {"x2", "A", "1", 2, "R"},
             {"x4", "A", "1", 4, "R"},
             {"x5", "A", "1", 5, "R"}};
  auto g = best_available(v.seats, v.all_free(), kGrades, {.count = 3}, 3);
  // No three consecutive numbers: the best three singles, centre first (centre is 3).
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(v.ids(g[0]), (Ids{"x2", "x4", "x1"}));
}

TEST(BestAvailable, GradeAndSectionFilters) {
  Venue v;
  v.row("A", "1", 4, "VIP").row("B", "1", 4, "R").row("B", "2", 4, "S");
  auto g = best_available(v.seats, v.all_free(), kGrades, {.count = 2, .grade = "S"}, 5);
  ASSERT_FALSE(g.empty());
  for (const auto& grp : g)
    for (auto i : grp) EXPECT_EQ(v.seats[i].grade, "S");
  g = best_available(v.seats, v.all_free(), kGrades, {.count = 2, .section = "B"}, 1);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(v.ids(g[0]), (Ids{"B-1-2", "B-1-3"}));
  EXPECT_TRUE(best_available(v.seats, v.all_free(), kGrades,
                             {.count = 2, .grade = "VIP", .section = "B"}, 1)
                  .empty());
}

TEST(BestAvailable, ScatteredSeatsWhenNoRowHasRoomAndNothingWhenTooFewAreFree) {
  Venue v;
  v.row("A", "1", 3, "R").row("A", "2", 3, "R");
  auto f = v.free_except({"A-1-2", "A-2-2"});
  auto g = best_available(v.seats, f, kGrades, {.count = 3}, 4);
  ASSERT_EQ(g.size(), 1u) << "four free seats make one group of three";
  EXPECT_EQ(v.ids(g[0]), (Ids{"A-1-1", "A-1-3", "A-2-1"}));
  EXPECT_TRUE(best_available(v.seats, f, kGrades, {.count = 5}, 4).empty());
}

TEST(BestAvailable, SectionsRankAfterRowsAndAGradeNotPricedRanksLast) {
  Venue v;
  v.row("L", "1", 2, "R").row("L", "2", 2, "R").row("M", "1", 2, "R").row("X", "1", 2, "Q");
  auto g = best_available(v.seats, v.all_free(), kGrades, {.count = 2}, 4);
  ASSERT_EQ(g.size(), 4u);
  EXPECT_EQ(v.ids(g[0]), (Ids{"L-1-1", "L-1-2"}));
  EXPECT_EQ(v.ids(g[1]), (Ids{"M-1-1", "M-1-2"})) << "front row of the next section first";
  EXPECT_EQ(v.ids(g[2]), (Ids{"L-2-1", "L-2-2"}));
  EXPECT_EQ(v.ids(g[3]), (Ids{"X-1-1", "X-1-2"}));
}

TEST(BestAvailable, GradesByPriceMostExpensiveFirst) {
  std::vector<PriceGrade> p = {{"S", 5000, "KRW"}, {"VIP", 20000, "KRW"}, {"R", 10000, "KRW"}};
  EXPECT_EQ(grades_by_price(p), (Ids{"VIP", "R", "S"}));
}

}  // namespace
}  // namespace tk::domain
