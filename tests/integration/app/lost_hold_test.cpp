// A hold whose answer is lost (Redis paused past the command timeout) may still have run in
// Redis: its seats and the account's quota are released in the background, by hold id, once
// Redis answers again; a release never frees seats another hold owns.
#include "harness.hpp"

namespace tk::test {
namespace {

using app::Errc;

// Short timeouts so a paused Redis is noticed in well under a second.
redis::Options quick_redis() {
  redis::Options o;
  o.connect_timeout = 300ms;
  o.command_timeout = 300ms;
  o.stall_timeout = 600ms;
  o.reconnect_min = 20ms;
  o.reconnect_max = 200ms;
  return o;
}

// Whatever the test does, Redis is never left stopped.
struct ResumeRedis {
  ~ResumeRedis() { servers("redis-resume"); }
};

Result<domain::Hold> hold(Harness& h, const app::Principal& who, const crypto::AccessToken& access,
                          const std::string& perf, const std::vector<std::string>& seats) {
  return h.run([&]() -> asio::awaitable<Result<domain::Hold>> {
    app::Seats s(h.deps);
    co_return co_await s.hold(who, access, perf, seats);
  });
}

void wait_for_releases(Harness& h, std::chrono::milliseconds limit) {
  h.run([&]() -> asio::awaitable<bool> {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (h.flights.lost_holds.counters().in_flight.load() > 0 &&
           std::chrono::steady_clock::now() < end) {
      co_await Harness::sleep(20ms);
    }
    co_return true;
  });
}

TEST(LostHolds, HoldWhoseAnswerWasLostIsReleasedOnceRedisAnswersAgain) {
  Harness h(0, quick_redis());
  auto p = h.run(
      [&] { return h.make_performance({.seats = 6, .max_per_order = 2, .max_per_account = 2}); });
  auto seats = seat_ids(h, p);
  auto a = h.run([&] { return h.make_buyer(); });
  auto b = h.run([&] { return h.make_buyer(); });
  auto c = h.run([&] { return h.make_buyer(); });
  auto access_a = h.run([&] { return h.admit(a, p); });
  auto access_b = h.run([&] { return h.admit(b, p); });
  auto access_c = h.run([&] { return h.admit(c, p); });
  // Warm up: the sold markers are loaded, so the next hold's script writes the hold.
  ASSERT_TRUE(hold(h, c, access_c, p.id, {seats[5]}).ok());

  const auto& lost = h.flights.lost_holds.counters();
  {
    ResumeRedis resume;
    servers("redis-pause");
    auto r = hold(h, a, access_a, p.id, {seats[0], seats[1]});
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(code_of(r.error()), Errc::unavailable);  // the buyer got 503
    // Redis stays stuck well past the stall limit: the release keeps retrying meanwhile.
    h.run([&]() -> asio::awaitable<bool> {
      co_await Harness::sleep(1500ms);
      co_return true;
    });
    EXPECT_EQ(lost.started.load(), 1u);
    EXPECT_EQ(lost.in_flight.load(), 1u);
    EXPECT_GE(h.rclient->stall_drops(), 1u);
  }
  wait_for_releases(h, 10s);
  EXPECT_EQ(lost.in_flight.load(), 0u);
  // Released by a retry, or by the first attempt that Redis ran from its socket buffer after
  // SIGCONT (its answer lost with the dropped connection; the retry then finds nothing).
  EXPECT_EQ(lost.released.load() + lost.absent.load(), 1u);
  EXPECT_EQ(lost.expired.load() + lost.failed.load(), 0u);

  // The seats are free for someone else, and the buyer's quota is whole again.
  auto rb = hold(h, b, access_b, p.id, {seats[0], seats[1]});
  EXPECT_TRUE(rb.ok()) << (rb.ok() ? "" : rb.error().code.message());
  auto ra = hold(h, a, access_a, p.id, {seats[2], seats[3]});
  EXPECT_TRUE(ra.ok()) << (ra.ok() ? "" : ra.error().code.message());
}

// Compare-and-delete: the release of a lost hold whose seats someone else holds by now (it
// expired meanwhile) frees only the seats still held under its own id.
TEST(LostHolds, ReleaseNeverFreesSeatsAnotherHoldOwns) {
  Harness h(0, quick_redis());
  auto p = h.run([&] {
    return h.make_performance(
        {.seats = 4, .max_per_order = 2, .max_per_account = 2, .hold_ttl_seconds = 60});
  });
  auto seats = seat_ids(h, p);
  auto a = h.run([&] { return h.make_buyer(); });
  auto b = h.run([&] { return h.make_buyer(); });
  auto access_a = h.run([&] { return h.admit(a, p); });
  auto access_b = h.run([&] { return h.admit(b, p); });
  auto ha = hold(h, a, access_a, p.id, {seats[0], seats[1]});
  ASSERT_TRUE(ha.ok());
  h.clock.advance(61 * 1000);  // a's hold expired; b takes one of its seats
  auto hb = hold(h, b, access_b, p.id, {seats[0]});
  ASSERT_TRUE(hb.ok());

  app::LostHold l;
  l.perf_id = p.id;
  l.hold_id = ha->id;
  l.account_id = a.account_id;
  l.expires_at = h.clock.now_ms() + 60 * 1000;
  h.run([&]() -> asio::awaitable<bool> {
    auto ex = co_await asio::this_coro::executor;
    h.flights.lost_holds.release(ex, h.deps, l);
    co_return true;
  });
  wait_for_releases(h, 5s);
  EXPECT_EQ(h.flights.lost_holds.counters().released.load(), 1u);

  auto map = h.run([&]() -> asio::awaitable<Result<app::SeatStates>> {
    co_return co_await h.deps.ports.holds->seat_states(p.id);
  });
  ASSERT_TRUE(map.ok());
  auto held = map->held;
  ASSERT_TRUE(held.count(seats[0]));
  EXPECT_EQ(held[seats[0]], hb->expires_at);  // still b's
  EXPECT_FALSE(held.count(seats[1]));         // a's own seat is freed
}

}  // namespace
}  // namespace tk::test
