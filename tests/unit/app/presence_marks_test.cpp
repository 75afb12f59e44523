// The polls' presence marks, gathered across threads and taken once a second.
#include "app/presence_marks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

TEST(PresenceMarks, APollIsNotedOncePerWindowAndATokenUseAlways) {
  PresenceMarks m;
  m.note_poll("p1", 4, 10'000, 2000);
  m.note_poll("p1", 4, 10'500, 2000);  // same window [10 s, 12 s)
  m.note_poll("p1", 5, 11'999, 2000);
  m.note_poll("p2", 4, 11'000, 2000);  // windows are per performance
  m.note("p1", 4);                     // a use of the access token: always noted
  auto b = m.take();
  std::sort(b.begin(), b.end(), [](auto& x, auto& y) { return x.perf < y.perf; });
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].positions, (std::vector<std::int64_t>{4, 5}));
  EXPECT_EQ(b[1].positions, (std::vector<std::int64_t>{4}));
  m.note_poll("p1", 4, 11'900, 2000);
  EXPECT_TRUE(m.take().empty()) << "noted already in this window, though taken since";
  m.note_poll("p1", 4, 12'000, 2000);  // the next window
  m.note_poll("p1", 1 << 20, 12'000, 2000);
  m.note_poll("p1", 1 << 20, 12'001, 2000);
  auto next = m.take();
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].positions, (std::vector<std::int64_t>{4, 1 << 20}));
  m.note_poll("p1", 4, 12'500, 0);  // no window: every poll
  m.note_poll("p1", 4, 12'600, 0);
  EXPECT_EQ(m.take()[0].positions, (std::vector<std::int64_t>{4}));
}

TEST(PresenceMarks, WindowsNobodyPolledAreForgotten) {
  PresenceMarks m;
  m.note_poll("p1", 7, 10'000, 1000);
  m.take(12'500);                      // two windows later: p1's window is dropped
  m.note_poll("p1", 7, 10'100, 1000);  // a late poll of the old window is noted again
  auto b = m.take();
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].positions, (std::vector<std::int64_t>{7}));
}

}  // namespace
}  // namespace tk::app
