// Sold markers on the real Redis: seat maps read the sold seats from a bitmap over the venue's
// layout order, which the sale, the refund and the reload keep equal to the set of sold seat ids
// that holds are checked against; a marker written without its index (or a set changed behind
// the bitmap's back) makes the map read the set instead, never show a sold seat available.
#include "harness.hpp"

namespace tk::test {
namespace {

// The sold markers as the store reports them for a seat map.
app::SeatStates sold_states(Harness& h, const domain::Performance& p) {
  return h.run([&]() -> asio::awaitable<app::SeatStates> {
    auto st = co_await h.deps.ports.holds->seat_states(p.id);
    if (!st) Harness::expect_ok(st.error(), "seat states");
    co_return std::move(*st);
  });
}

// Indexes of the set bits of a sold bitmap (bit i: most significant bit of byte i / 8 first).
std::vector<std::size_t> bits_set(const std::string& bits) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < bits.size() * 8; ++i) {
    if ((static_cast<unsigned char>(bits[i / 8]) >> (7 - i % 8)) & 1) out.push_back(i);
  }
  return out;
}

std::string perf_tag(const domain::Performance& p) { return "{p:" + p.id + "}"; }

TEST(SoldMarkers, ASaleSetsTheBitsOfItsSeatsInLayoutOrderAndMapsReadThem) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 12}); });
  auto seats = seat_ids(h, p);  // layout order
  buy(h, p, {seats[9], seats[2]});
  buy(h, p, {seats[10]});

  auto st = sold_states(h, p);
  EXPECT_TRUE(st.sold_as_bits);
  EXPECT_TRUE(st.sold.empty());
  EXPECT_EQ(bits_set(st.sold_bits), (std::vector<std::size_t>{2, 9, 10}));
  EXPECT_EQ(redis_cmd(h, {"SCARD", perf_tag(p) + ":sold"}).integer, 3);
  for (std::size_t i = 0; i < seats.size(); ++i) {
    bool sold = i == 2 || i == 9 || i == 10;
    EXPECT_EQ(seat_state(h, p.id, seats[i]), sold ? "sold" : "available") << "seat " << i;
  }
}

// A process that never served the sale (a worker refunding it after the sale closed) finds the
// indexes through the catalogue and leaves the performance's queue alone: an index lookup must
// not restore a queue into Redis.
TEST(SoldMarkers, LayoutIndexesInAProcessWithoutTheQueueComeFromTheCatalogueAndWriteNothing) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 6}); });
  auto seats = seat_ids(h, p);
  redis_cmd(h, {"DEL", perf_tag(p) + ":q"});
  Process worker(h);
  auto idx = h.run([&]() -> asio::awaitable<std::vector<std::int64_t>> {
    app::Seats s(worker.deps);
    std::vector<std::string> ids{seats[3], seats[1], "st_not_in_the_layout"};
    auto r = co_await s.layout_indexes(p.id, ids);
    if (!r) Harness::expect_ok(r.error(), "layout indexes");
    co_return std::move(*r);
  });
  EXPECT_EQ(idx, (std::vector<std::int64_t>{3, 1, -1}));
  EXPECT_EQ(redis_cmd(h, {"EXISTS", perf_tag(p) + ":q"}).integer, 0);
  EXPECT_EQ(worker.view.get(p.id), nullptr);
}

// The refresher's round (Seats::reconcile_markers with PostgreSQL's settled count); true when
// it rebuilt the bitmap.
bool reconcile(Harness& h, const domain::Performance& p, std::int64_t settled) {
  return h.run([&]() -> asio::awaitable<bool> {
    app::Seats s(h.deps);
    auto r = co_await s.reconcile_markers(p.id, settled);
    if (!r) Harness::expect_ok(r.error(), "reconcile");
    co_return *r == app::Seats::MarkerRepair::bitmap_rebuilt;
  });
}

TEST(SoldMarkers, AMarkerWithoutItsIndexIsReadByIdUntilTheRefresherRebuildsTheBitmap) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 6}); });
  auto seats = seat_ids(h, p);
  buy(h, p, {seats[0]});
  // A writer that could not read the layout (or a set of markers from before the bitmap).
  h.run([&]() -> asio::awaitable<int> {
    std::vector<std::string> ids{seats[4]};
    std::vector<std::int64_t> unknown;
    auto r = co_await h.deps.ports.holds->mark_sold(p.id, "hld_none", "acc_none", 0, ids, unknown);
    if (!r) Harness::expect_ok(r.error(), "mark_sold");
    co_return 0;
  });
  auto st = sold_states(h, p);
  EXPECT_FALSE(st.sold_as_bits);
  std::sort(st.sold.begin(), st.sold.end());
  auto want = std::vector<std::string>{seats[0], seats[4]};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(st.sold, want);
  EXPECT_EQ(seat_state(h, p.id, seats[0]), "sold");
  EXPECT_EQ(seat_state(h, p.id, seats[4]), "sold");
  EXPECT_EQ(seat_state(h, p.id, seats[5]), "available");

  // The refresher's next round rebuilds the bitmap from the set; the round after finds it exact.
  EXPECT_TRUE(reconcile(h, p, 1));
  st = sold_states(h, p);
  EXPECT_TRUE(st.sold_as_bits);
  EXPECT_EQ(bits_set(st.sold_bits), (std::vector<std::size_t>{0, 4}));
  EXPECT_FALSE(reconcile(h, p, 1));

  // A marker lost from the set while its bit stayed (a set edited behind the bitmap): the set is
  // the truth for the maps at once, and the next round drops the bit.
  redis_cmd(h, {"SREM", perf_tag(p) + ":sold", seats[4]});
  EXPECT_FALSE(sold_states(h, p).sold_as_bits);
  EXPECT_EQ(seat_state(h, p.id, seats[4]), "available");
  EXPECT_TRUE(reconcile(h, p, 1));
  st = sold_states(h, p);
  EXPECT_TRUE(st.sold_as_bits);
  EXPECT_EQ(bits_set(st.sold_bits), (std::vector<std::size_t>{0}));
}

TEST(SoldMarkers, ARefundClearsItsBitsAndAReloadIntoAnEmptiedRedisSetsThemAgain) {
  Harness h;
  auto p = h.run([&] { return h.make_performance({.seats = 8}); });
  auto seats = seat_ids(h, p);
  buy(h, p, {seats[1], seats[3]});
  buy(h, p, {seats[6]});

  // A committed refund of seat 3 (the refund consumer passes only seats PostgreSQL no longer
  // counts as sold; here straight to the store).
  h.run([&]() -> asio::awaitable<int> {
    std::vector<std::string> ids{seats[3]};
    std::vector<std::int64_t> ix{3};
    auto r = co_await h.deps.ports.holds->unmark_sold(p.id, "acc_refunded", ids, ix);
    if (!r) Harness::expect_ok(r.error(), "unmark_sold");
    co_return 0;
  });
  auto st = sold_states(h, p);
  EXPECT_TRUE(st.sold_as_bits);
  EXPECT_EQ(bits_set(st.sold_bits), (std::vector<std::size_t>{1, 6}));
  EXPECT_EQ(seat_state(h, p.id, seats[3]), "available");
  // A rebuild that read the set before the refund writes no bit for the seat that left it.
  h.run([&]() -> asio::awaitable<int> {
    std::vector<std::string> ids{seats[1], seats[3], seats[6]};
    std::vector<std::int64_t> ix{1, 3, 6};
    auto r = co_await h.deps.ports.holds->set_sold_bits(p.id, ids, ix, true);
    if (!r) Harness::expect_ok(r.error(), "set_sold_bits");
    co_return 0;
  });
  EXPECT_EQ(bits_set(sold_states(h, p).sold_bits), (std::vector<std::size_t>{1, 6}));

  // Redis emptied: the reload from PostgreSQL's orders (seats 1, 3 and 6 are still sold there)
  // writes the set and the bitmap together.
  flush_redis(h);
  h.run([&]() -> asio::awaitable<int> {
    app::Seats s(h.deps);
    auto r = co_await s.reload_markers(p.id);
    if (!r) Harness::expect_ok(r.error(), "reload");
    co_return 0;
  });
  st = sold_states(h, p);
  EXPECT_TRUE(st.sold_as_bits);
  EXPECT_EQ(bits_set(st.sold_bits), (std::vector<std::size_t>{1, 3, 6}));
  EXPECT_EQ(seat_state(h, p.id, seats[6]), "sold");
}

}  // namespace
}  // namespace tk::test
