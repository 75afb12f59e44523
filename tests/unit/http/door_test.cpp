// The door's controller (http/door.hpp): pure, driven by a clock the test moves.
#include "http/door.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace tk::http {
namespace {

using namespace std::chrono_literals;
using Clock = Door::Clock;
using std::chrono::microseconds;

DoorOptions door_options() {
  DoorOptions o;
  o.target = 20ms;
  o.interval = 100ms;
  o.min_limit = 4;
  o.max_limit = 1000;
  o.backoff = 0.5;
  return o;
}

// Drives a door: `n` requests enter at the start of an interval and leave after `latency`
// (shorter than the interval) each, then the clock moves to the next interval. Returns how many
// were let in. The door judges an interval at the first request of the next one.
struct Driver {
  Door door;
  microseconds step;
  Clock::time_point now = Clock::time_point{} + 1h;

  explicit Driver(DoorOptions o) : door(o), step(o.interval) {}

  int interval(int n, microseconds latency) {
    int in = 0;
    for (int i = 0; i < n; ++i) in += door.enter(now) ? 1 : 0;
    for (int i = 0; i < in; ++i) door.leave(now + latency, latency);
    now += step;
    return in;
  }

  // A calm interval (1 ms), then a standing queue (80 ms) until the cap is at its floor.
  void close_to_floor() {
    interval(10, 1ms);
    for (int k = 0; k < 20; ++k) interval(100, 80ms);
  }
};

TEST(Door, OffLetsEverythingIn) {
  DoorOptions o = door_options();
  o.target = 0us;
  Driver d(o);
  for (int k = 0; k < 5; ++k) EXPECT_EQ(d.interval(5000, 500ms), 5000);
  EXPECT_EQ(d.door.refused(), 0u);
}

TEST(Door, FastRequestsAreNeverRefused) {
  Driver d(door_options());
  for (int k = 0; k < 50; ++k) EXPECT_EQ(d.interval(800, 1ms), 800);
  EXPECT_EQ(d.door.refused(), 0u);
}

TEST(Door, AStandingQueueClosesTheDoorToTheConcurrencyThatWasFast) {
  Driver d(door_options());
  for (int k = 0; k < 5; ++k) d.interval(10, 2ms);  // unloaded: 2 ms
  EXPECT_EQ(d.door.floor(), 2ms);
  // 300 at once and even the fastest waited 50 ms: the cap falls to half the peak, then again.
  EXPECT_EQ(d.interval(300, 50ms), 300);
  EXPECT_EQ(d.interval(300, 50ms), 150);
  EXPECT_EQ(d.interval(300, 50ms), 75);
  EXPECT_EQ(d.door.limit(), 75);
  EXPECT_EQ(d.door.refused(), 150u + 225u);
}

TEST(Door, TheCapNeverFallsBelowItsFloor) {
  Driver d(door_options());
  d.close_to_floor();
  EXPECT_EQ(d.door.limit(), 4);
  EXPECT_EQ(d.interval(100, 1ms), 4);
}

TEST(Door, ABurstWithOneFastRequestIsNotAQueue) {
  Driver d(door_options());
  d.interval(10, 1ms);
  for (int k = 0; k < 10; ++k) {
    // Most requests of the interval are slow, one went straight through: no standing queue.
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(d.door.enter(d.now));
    d.door.leave(d.now + 1ms, 1ms);
    for (int i = 1; i < 200; ++i) d.door.leave(d.now + 60ms, 60ms);
    d.now += 100ms;
  }
  EXPECT_EQ(d.door.refused(), 0u);
  EXPECT_EQ(d.door.limit(), 1000);
}

TEST(Door, OneSlowRequestAloneIsNotAQueue) {
  // A quiet service on a busy machine: one request at a time, each slow. Nothing queued behind
  // anything, so neither this class nor the classes yielding to it are shed.
  Driver d(door_options());
  for (int k = 0; k < 5; ++k) d.interval(10, 1ms);
  for (int k = 0; k < 10; ++k) {
    EXPECT_EQ(d.interval(1, 60ms), 1);
    EXPECT_FALSE(d.door.queueing(d.now));
  }
  EXPECT_EQ(d.door.limit(), 1000);
  // Two inside at once, both that slow: a queue.
  d.interval(2, 60ms);
  EXPECT_TRUE(d.door.queueing(d.now));
}

TEST(Door, ItOpensAgainStepByStepOnceTheQueueIsGone) {
  Driver d(door_options());
  d.close_to_floor();
  ASSERT_EQ(d.door.limit(), 4);
  // Fast again and the cap binds: +max(1, sqrt(cap)) per interval, never straight to open.
  int before = d.door.limit();
  for (int k = 0; k < 5; ++k) d.interval(1000, 1ms);
  EXPECT_GT(d.door.limit(), before + 5);
  EXPECT_LT(d.door.limit(), 100);
  for (int k = 0; k < 200; ++k) d.interval(1000, 1ms);
  EXPECT_EQ(d.door.limit(), 1000);
}

TEST(Door, ACapThatDoesNotBindDoesNotGrow) {
  Driver d(door_options());
  d.close_to_floor();
  ASSERT_EQ(d.door.limit(), 4);
  for (int k = 0; k < 50; ++k) d.interval(2, 1ms);  // two at a time: the cap of 4 never binds
  EXPECT_EQ(d.door.limit(), 4);
}

TEST(Door, NothingFinishingForAWholeIntervalIsAQueue) {
  Driver d(door_options());
  d.interval(10, 1ms);
  // 50 requests stuck (a stalled Redis): nothing leaves for three intervals.
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(d.door.enter(d.now));
  for (int k = 0; k < 3; ++k) {
    d.now += 100ms;
    d.door.enter(d.now);  // arrivals drive the clock
  }
  EXPECT_LT(d.door.limit(), 50);
  EXPECT_FALSE(d.door.enter(d.now));
}

TEST(Door, ASlowClassIsJudgedOnItsOwnUnloadedLatency) {
  // A payment takes 150 ms unloaded (its provider): that is its floor, not a queue.
  DoorOptions o = door_options();
  o.interval = 1s;
  Driver d(o);
  for (int k = 0; k < 100; ++k) EXPECT_EQ(d.interval(50, 150ms), 50);
  EXPECT_EQ(d.door.refused(), 0u);
  EXPECT_EQ(d.door.floor(), 150ms);
  // 150 ms + 40 ms of waiting is.
  EXPECT_EQ(d.interval(200, 190ms), 200);
  EXPECT_EQ(d.interval(200, 190ms), 100);
}

TEST(Door, ACrowdRefusedIsAskedBackLaterAndLaterThenSoonerOnceItThins) {
  Driver d(door_options());
  d.interval(10, 1ms);
  EXPECT_EQ(d.door.retry_after(), 1);
  for (int k = 0; k < 20; ++k) d.interval(100, 80ms);
  ASSERT_EQ(d.door.limit(), 4);
  // Refusals far outnumber what completes: the wait grows interval after interval, to its cap.
  for (int k = 0; k < 10; ++k) d.interval(1000, 1ms);
  double grown = d.door.retry_after_mean();
  EXPECT_GT(grown, 5.0);
  for (int k = 0; k < 40; ++k) d.interval(1000, 80ms);
  EXPECT_EQ(d.door.retry_after_mean(), 120.0);
  // Spread over half to one and a half times the wait, never under 1 s.
  int lo = 1000, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    int r = d.door.retry_after();
    lo = std::min(lo, r);
    hi = std::max(hi, r);
  }
  EXPECT_GE(lo, 60);
  EXPECT_LE(hi, 180);
  EXPECT_GT(hi - lo, 90);
  // Once nobody is refused, it comes back down to 1 s.
  for (int k = 0; k < 100; ++k) d.interval(2, 1ms);
  EXPECT_EQ(d.door.retry_after_mean(), 1.0);
  EXPECT_EQ(d.door.retry_after(), 1);
}

TEST(Door, RequestsLetInButAnswered503AskTheirRetriesBackLaterUntilTheyAreServedAgain) {
  DoorOptions o = door_options();
  o.sheds = false;
  o.max_retry_after_s = 10;
  Driver d(o);
  auto interval = [&](int served, int unavailable) {
    for (int i = 0; i < served + unavailable; ++i) ASSERT_TRUE(d.door.enter(d.now));
    for (int i = 0; i < served + unavailable; ++i) d.door.leave(d.now + 1ms, 1ms, i >= served);
    d.now += d.step;
  };
  interval(10, 0);
  EXPECT_EQ(d.door.retry_after_mean(), 1.0);
  // A third refused by the backend: not enough to ask anyone back later.
  for (int k = 0; k < 5; ++k) interval(20, 10);
  EXPECT_EQ(d.door.retry_after_mean(), 1.0);
  // Most of them: the wait grows to the class's cap.
  for (int k = 0; k < 5; ++k) interval(10, 90);
  EXPECT_GT(d.door.retry_after_mean(), 2.0);
  for (int k = 0; k < 20; ++k) interval(10, 90);
  EXPECT_EQ(d.door.retry_after_mean(), 10.0);
  EXPECT_EQ(d.door.refused(), 0u);  // the door itself refused nobody
  // Served again: back to 1 s.
  for (int k = 0; k < 30; ++k) interval(50, 0);
  EXPECT_EQ(d.door.retry_after_mean(), 1.0);
}

TEST(Door, RequestsTurnedAwayBeforeTheDoorAskTheirRetriesBackLaterToo) {
  DoorOptions o = door_options();
  o.sheds = false;
  o.max_retry_after_s = 10;
  Driver d(o);
  d.interval(10, 1ms);
  EXPECT_EQ(d.door.retry_after_mean(), 1.0);
  // Most of each interval turned away (a backend full) before entering: the wait grows.
  for (int k = 0; k < 20; ++k) {
    for (int i = 0; i < 90; ++i) d.door.turned_away(d.now);
    d.interval(10, 1ms);
  }
  EXPECT_EQ(d.door.retry_after_mean(), 10.0);
  EXPECT_EQ(d.door.refused(), 0u);  // not the door's own refusals
  for (int k = 0; k < 30; ++k) d.interval(50, 1ms);
  EXPECT_EQ(d.door.retry_after_mean(), 1.0);
}

TEST(Door, AClassThatOnlyMeasuresIsNeverRefusedButKnowsItQueues) {
  DoorOptions o = door_options();
  o.sheds = false;
  Driver d(o);
  for (int k = 0; k < 5; ++k) d.interval(10, 2ms);
  EXPECT_FALSE(d.door.queueing(d.now));
  for (int k = 0; k < 10; ++k) EXPECT_EQ(d.interval(500, 60ms), 500);
  EXPECT_EQ(d.door.refused(), 0u);
  EXPECT_TRUE(d.door.queueing(d.now));
  // Quiet for a while: the old verdict is not kept.
  d.now += 1s;
  EXPECT_FALSE(d.door.queueing(d.now));
}

TEST(Door, AClassThatYieldsIsShedToNoneWhileTheOtherQueuesHoweverFastItsOwnRequests) {
  DoorOptions m = door_options();
  m.sheds = false;
  Driver sale(m), entry(door_options());
  for (int k = 0; k < 5; ++k) {
    sale.interval(10, 5ms);
    EXPECT_EQ(entry.interval(20, 1ms), 20);
  }
  // The sale queues; the entry's requests stay fast. Each interval the entry, arriving, hears
  // of the sale's queue.
  int last = 20;
  for (int k = 0; k < 12; ++k) {
    sale.interval(200, 60ms);
    if (sale.door.queueing(sale.now)) entry.door.yield(entry.now);
    last = entry.interval(20, 1ms);
    sale.now = entry.now;
  }
  EXPECT_EQ(last, 0);
  EXPECT_EQ(entry.door.limit(), 0);
  EXPECT_GT(entry.door.refused(), 100u);
  // The sale calm again: the entry opens step by step, from nothing.
  for (int k = 0; k < 3; ++k) {
    sale.interval(10, 5ms);
    ASSERT_FALSE(sale.door.queueing(sale.now));
    entry.interval(20, 1ms);
    sale.now = entry.now;
  }
  EXPECT_GT(entry.door.limit(), 0);
  for (int k = 0; k < 30; ++k) entry.interval(20, 1ms);
  EXPECT_EQ(entry.interval(20, 1ms), 20);
}

}  // namespace
}  // namespace tk::http
