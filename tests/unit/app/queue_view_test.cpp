#include "app/queue_view.hpp"

#include <gtest/gtest.h>

namespace tk::app {
namespace {

std::shared_ptr<LiveQueue> queue_of(std::string id) {
  auto q = std::make_shared<LiveQueue>();
  q->perf.id = std::move(id);
  q->perf.price_grades = {{"R", 150000, "KRW"}, {"S", 90000, "KRW"}};
  q->perf.queue.max_active = 100;
  q->serving = 10;
  q->seq = 3;
  return q;
}

TEST(QueueView, UpdatePerfTakesNewSettingsAndKeepsPriceGrades) {
  QueueView v;
  v.put(queue_of("prf_1"));
  // What the refresher passes: settings and counts from the list query, no price grades.
  domain::Performance listed;
  listed.id = "prf_1";
  listed.queue.max_active = 500;
  listed.sold_count = 7;
  v.update_perf(listed);
  auto q = v.get("prf_1");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->perf.queue.max_active, 500);
  EXPECT_EQ(q->perf.sold_count, 7);
  ASSERT_EQ(q->perf.price_grades.size(), 2u);  // orders price seats from these
  EXPECT_EQ(q->perf.price_grades[0].grade, "R");
  EXPECT_EQ(q->serving, 10);  // the queue counters are not the performance's to change
}

TEST(QueueView, LooksUpByStringViewAndIgnoresUnknownPerformances) {
  QueueView v;
  v.put(queue_of("prf_1"));
  std::string_view id = "prf_1";
  EXPECT_NE(v.get(id), nullptr);
  EXPECT_EQ(v.get("prf_2"), nullptr);
  domain::Performance other;
  other.id = "prf_2";
  v.update_perf(other);  // loaded on first use, not by an update
  EXPECT_EQ(v.get("prf_2"), nullptr);
}

}  // namespace
}  // namespace tk::app

namespace tk::app {
namespace {

TEST(QueueView, APlaceGivenUpOrReleasedIsKnownUntilItsAccessWindowIsOver) {
  QueueView v;
  auto start = queue_of("prf_1");  // serving 10, sequence 3
  start->expired_upto = 5;
  v.put(start);
  v.add_left("prf_1", 15);
  v.add_left("prf_1", 12);
  v.add_left("prf_1", 15);  // twice: once
  v.add_left("prf_1", 8);   // admitted, then released: its polls answer abandoned too
  v.add_left("prf_1", 4);   // its access window is over anyway
  auto q = v.get("prf_1");
  EXPECT_EQ(q->left, (std::vector<std::int64_t>{8, 12, 15}));
  EXPECT_TRUE(q->has_left(12));
  EXPECT_TRUE(q->has_left(8));
  EXPECT_FALSE(q->has_left(13));
  // A tick passes 12 (still abandoned: given up), then the window of everything up to 13 ends.
  v.apply_tick("prf_1", AdmissionTick{4, 10, 13, 1000, 601000}, 20, 1000);
  q = v.get("prf_1");
  EXPECT_TRUE(q->has_left(12));
  v.apply_tick("prf_1", AdmissionTick{5, 13, 14, 601000, 1201000}, 20, 601000);
  q = v.get("prf_1");
  EXPECT_EQ(q->left, (std::vector<std::int64_t>{15}));
  EXPECT_FALSE(q->has_left(12)) << "its access window is over";
}

TEST(QueueView, PlacesGivenUpAheadAreNotCountedAhead) {
  auto q = queue_of("prf_1");  // serving 10
  q->left = {8, 12, 13, 30};
  EXPECT_EQ(q->ahead_of(11), 0);
  EXPECT_EQ(q->ahead_of(14), 1) << "11 only: 12 and 13 gave up";
  EXPECT_EQ(q->ahead_of(20), 7);
  // 21-25 a gap with 22 claimed, 23 given up after claiming and 24 given up unclaimed: counted
  // out once.
  q->gap = QueueGap{20, 25};
  q->claimed = {22, 23};
  q->left = {12, 13, 23, 24};
  EXPECT_EQ(q->ahead_of(26), 9) << "11, 14-20 and 22";
}

}  // namespace
}  // namespace tk::app
