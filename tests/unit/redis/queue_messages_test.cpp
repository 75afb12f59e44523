// Decoding of the tick channel's messages, as the Lua scripts publish them.
#include "infra/redis/stores/queue_messages.hpp"

#include <gtest/gtest.h>

namespace tk::redisstore {
namespace {

using Kind = QueueMessage::Kind;

TEST(QueueMessages, ATickWithItsGap) {
  auto m = parse_queue_message("p1|7|100|150|123456|900|723456|10|4106");
  ASSERT_EQ(m.kind, Kind::tick);
  EXPECT_EQ(m.perf, "p1");
  EXPECT_EQ(m.tick.seq, 7);
  EXPECT_EQ(m.tick.from, 100);
  EXPECT_EQ(m.tick.to, 150);
  EXPECT_EQ(m.tick.admitted_at, 123456);
  EXPECT_EQ(m.tick.expires_at, 723456);
  EXPECT_EQ(m.tail, 900);
  EXPECT_EQ(m.gap.from, 10);
  EXPECT_EQ(m.gap.to, 4106);
}

TEST(QueueMessages, ATickThatPassedOverPlacesGivenUpSaysHowMany) {
  auto m = parse_queue_message("p1|7|100|150|123456|900|723456|10|4106|3");
  ASSERT_EQ(m.kind, Kind::tick);
  EXPECT_EQ(m.gap.to, 4106);
  EXPECT_EQ(m.tick.abandoned, 3);
  EXPECT_EQ(parse_queue_message("p1|7|100|150|123456|900|723456|10|4106").tick.abandoned, 0);
}

TEST(QueueMessages, ATickOfThePreviousReleaseHasNoGap) {
  auto m = parse_queue_message("p1|7|100|150|123456|900|723456");
  ASSERT_EQ(m.kind, Kind::tick);
  EXPECT_EQ(m.tick.to, 150);
  EXPECT_EQ(m.gap.from, 0);
  EXPECT_EQ(m.gap.to, 0);
}

TEST(QueueMessages, PlacesGivenUpOrReleased) {
  auto m = parse_queue_message("p1|left|42");
  ASSERT_EQ(m.kind, Kind::left);
  EXPECT_EQ(m.perf, "p1");
  EXPECT_EQ(m.positions, std::vector<std::int64_t>{42});
  auto batch = parse_queue_message("p1|left|7,9,12");
  ASSERT_EQ(batch.kind, Kind::left);
  EXPECT_EQ(batch.positions, (std::vector<std::int64_t>{7, 9, 12}));
  for (const char* bad : {"p1|left|", "p1|left|x", "p1|left|0", "p1|left|-3", "p1|left|4 ",
                          "p1|left|4,", "p1|left|,4", "p1|left|4,,5", "p1|left|4,x"}) {
    EXPECT_EQ(parse_queue_message(bad).kind, Kind::unknown) << bad;
  }
}

TEST(QueueMessages, TheSaleOfTheLastSeat) {
  auto m = parse_queue_message("perf-42|sold_out");
  ASSERT_EQ(m.kind, Kind::sold_out);
  EXPECT_EQ(m.perf, "perf-42");
}

TEST(QueueMessages, AnythingElseIsIgnored) {
  for (const char* bad : {"", "p1", "p1|sold", "|sold_out", "p1|7|100|150|123456|900",
                          "p1|7|100|150|123456|900|723456|10", "p1|7|100|x|123456|900|723456",
                          "p1|7|100|150|123456|900|723456|10|4106|1|2", "p1|7|100|150 |1|2|3"}) {
    EXPECT_EQ(parse_queue_message(bad).kind, Kind::unknown) << bad;
  }
}

}  // namespace
}  // namespace tk::redisstore
