// The polls' presence marks, gathered across threads and taken once a second.
#include "app/presence_marks.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace tk::app {
namespace {

TEST(PresenceMarks, TakenOncePerPerformanceSortedAndDeduplicated) {
  PresenceMarks m;
  m.note("p1", 7);
  m.note("p2", 1);
  m.note("p1", 3);
  m.note("p1", 7);
  auto batches = m.take();
  ASSERT_EQ(batches.size(), 2u);
  std::sort(batches.begin(), batches.end(), [](auto& a, auto& b) { return a.perf < b.perf; });
  EXPECT_EQ(batches[0].perf, "p1");
  EXPECT_EQ(batches[0].positions, (std::vector<std::int64_t>{3, 7}));
  EXPECT_EQ(batches[1].positions, (std::vector<std::int64_t>{1}));
  EXPECT_TRUE(m.take().empty()) << "taken once";
}

TEST(PresenceMarks, ABatchPutBackIsTakenWithTheNext) {
  PresenceMarks m;
  m.note("p1", 5);
  auto batches = m.take();
  m.note("p1", 2);
  m.put_back(std::move(batches[0]));
  auto again = m.take();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].positions, (std::vector<std::int64_t>{2, 5}));
}

TEST(PresenceMarks, NotesFromManyThreadsAreAllTaken) {
  PresenceMarks m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 1000; ++i) m.note("p", t * 1000 + i + 1);
    });
  }
  std::size_t taken = 0;
  for (int round = 0; round < 5; ++round) {
    for (auto& b : m.take()) taken += b.positions.size();
  }
  for (auto& t : threads) t.join();
  for (auto& b : m.take()) taken += b.positions.size();
  EXPECT_EQ(taken, 8000u);
}

}  // namespace
}  // namespace tk::app
