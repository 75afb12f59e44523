// The pre-queue: joins between queue_opens_at and the opening wait unordered, durable in
// PostgreSQL; at the opening they are drawn into positions 1..n in the order the committed seed
// gives (sha256-ctr-fisher-yates-v1 over the entries, ascending), later joins come behind, and a
// Redis emptied before or after the draw moves nobody. Real PostgreSQL + Redis.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "domain/prequeue_shuffle.hpp"
#include "domain/proof_of_work.hpp"
#include "harness.hpp"

namespace tk::test {
namespace {

using app::QueueState;

constexpr Millis kQueueOpensIn = 1'000;
constexpr Millis kSaleOpensIn = 60'000;

// A sale with a pre-queue: it opens in a second, the sale a minute later.
domain::Performance pre_sale(Harness& h, int seats = 10,
                             domain::QueueSettings q = {100, 100, 1000, 600}) {
  return h.run([&]() -> asio::awaitable<domain::Performance> {
    app::Admin admin(h.deps);
    std::vector<app::NewSection> sections{{"A", {}}};
    sections[0].rows.push_back({"1", seats, "R"});
    auto v = co_await admin.create_venue("Hall", sections);
    if (!v) Harness::expect_ok(v.error(), "venue");
    auto e = co_await admin.create_event("Show", v->id);
    if (!e) Harness::expect_ok(e.error(), "event");
    app::NewPerformance n;
    n.event_id = *e;
    n.starts_at = h.clock.now_ms() + 86'400'000;
    n.sale_opens_at = h.clock.now_ms() + kSaleOpensIn;
    n.queue_opens_at = h.clock.now_ms() + kQueueOpensIn;
    n.price_grades = {{"R", 1000, "KRW"}};
    n.admit_per_interval = q.admit_per_interval;
    n.interval_ms = q.interval_ms;
    n.max_active = q.max_active;
    n.access_ttl_seconds = q.access_ttl_seconds;
    n.pow_difficulty = q.pow_difficulty;
    n.presence_timeout_seconds = q.presence_timeout_seconds;
    auto id = co_await admin.create_performance(n);
    if (!id) Harness::expect_ok(id.error(), "performance");
    auto p = co_await h.catalog_w->get_performance(*id);
    co_return **p;
  });
}

Result<app::JoinResult> try_join(Harness& h, const app::Principal& who,
                                 const domain::Performance& p, const std::string& ticket = "",
                                 std::optional<app::JoinProof> proof = {}) {
  return h.run([&]() -> asio::awaitable<Result<app::JoinResult>> {
    app::WaitingRoom room(h.deps);
    co_return co_await room.join(who, p.id, ticket, proof);
  });
}

app::Fairness fairness(Harness& h, const domain::Performance& p) {
  return h.run([&]() -> asio::awaitable<app::Fairness> {
    app::WaitingRoom room(h.deps);
    auto f = co_await room.fairness(p.id);
    if (!f) Harness::expect_ok(f.error(), "fairness");
    co_return *f;
  });
}

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  }
  return out;
}

// entry -> position as anyone recomputes it from the revealed seed and the ascending entries.
std::map<std::int64_t, std::int64_t> recompute(const std::string& seed_hex,
                                               std::vector<std::int64_t> entries) {
  std::sort(entries.begin(), entries.end());
  domain::ShuffleSeed seed{};
  auto raw = unhex(seed_hex);
  std::memcpy(seed.data(), raw.data(), seed.size());
  auto order = domain::shuffle_order(seed, static_cast<std::uint32_t>(entries.size()));
  std::map<std::int64_t, std::int64_t> pos;
  for (std::size_t i = 0; i < order.size(); ++i) {
    pos[entries[order[i]]] = static_cast<std::int64_t>(i) + 1;
  }
  return pos;
}

void open_sale(Harness& h, const domain::Performance& p) {
  h.clock.advance(p.sale_opens_at - h.clock.now_ms());
}

// The first tick that admits (a tick that finds Redis emptied repairs it and admits nobody).
app::TickOutcome tick_admitting(Harness& h, app::WaitingRoom& ticker,
                                const domain::Performance& p) {
  auto t = tick_fresh(h, ticker, p);
  for (int i = 0; i < 3 && t.kind != app::TickOutcome::Kind::ticked; ++i) {
    h.clock.advance(p.queue.interval_ms);
    t = tick_fresh(h, ticker, p);
  }
  return t;
}

TEST(PreQueue, JoinsWaitUnorderedAndAreDrawnInTheCommittedOrder) {
  Harness h;
  auto p = pre_sale(h);
  auto before = fairness(h, p);
  ASSERT_EQ(before.seed_commitment.size(), 64u);
  EXPECT_EQ(before.seed, "");
  EXPECT_EQ(before.pre_queue_size, 0);

  std::vector<app::Principal> buyers;
  for (int i = 0; i < 20; ++i) buyers.push_back(h.run([&] { return h.make_buyer(); }));
  auto early = try_join(h, buyers[0], p);
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(code_of(early.error()), app::Errc::sale_not_open);

  h.clock.advance(kQueueOpensIn);
  std::vector<app::JoinResult> joined;
  for (auto& b : buyers) {
    auto j = try_join(h, b, p);
    ASSERT_TRUE(j.ok()) << j.error().code.message();
    EXPECT_EQ(j->state, QueueState::pre_queue);
    EXPECT_EQ(j->position, 0);
    EXPECT_GT(j->entry, 0);
    EXPECT_TRUE(j->created);
    joined.push_back(*j);
  }
  // The same account again, without its ticket: the same entry and ticket, no second one.
  auto again = try_join(h, buyers[3], p);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->ticket, joined[3].ticket);
  auto waiting = queue_status(h, p, joined[0].ticket);
  EXPECT_EQ(waiting.state, QueueState::pre_queue);
  EXPECT_EQ(waiting.position, 0);
  EXPECT_EQ(waiting.entry, joined[0].entry);
  EXPECT_EQ(waiting.estimated_wait_seconds, (kSaleOpensIn - kQueueOpensIn) / 1000);
  EXPECT_EQ(fairness(h, p).pre_queue_size, 20);

  // Redis loses everything during the pre-queue: the entries are PostgreSQL's.
  flush_redis(h);

  open_sale(h, p);
  app::WaitingRoom ticker(h.deps);
  auto first = tick_admitting(h, ticker, p);
  auto after = fairness(h, p);
  EXPECT_EQ(after.pre_queue_size, 20);
  ASSERT_EQ(after.seed.size(), 64u);
  EXPECT_EQ(after.seed_commitment, before.seed_commitment);
  EXPECT_EQ(crypto::sha256_hex(unhex(after.seed)), after.seed_commitment);
  std::vector<std::int64_t> entries;
  for (auto& j : joined) entries.push_back(j.entry);
  auto expected = recompute(after.seed, entries);
  // Every entry polls the recomputed position, and the first tick admitted them all in order.
  std::set<std::int64_t> seen;
  for (auto& j : joined) {
    auto s = queue_status(h, p, j.ticket);
    EXPECT_EQ(s.position, expected.at(j.entry));
    EXPECT_EQ(s.entry, j.entry);
    EXPECT_EQ(s.state, QueueState::admitted);
    auto a = crypto::decode_access_token(*h.signer, s.access_token, h.clock.now_ms());
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(a->position, s.position);
    seen.insert(s.position);
  }
  EXPECT_EQ(seen.size(), 20u);
  EXPECT_EQ(*seen.begin(), 1);
  EXPECT_EQ(*seen.rbegin(), 20);
  EXPECT_EQ(first.tick.from, 0);
  EXPECT_EQ(first.tick.to, 20);

  // Behind the pre-queue: a new buyer gets 21; an entrant joining again keeps the drawn place.
  auto late = try_join(h, h.run([&] { return h.make_buyer(); }), p);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->position, 21);
  EXPECT_EQ(late->entry, 0);
  auto rejoin = try_join(h, buyers[5], p);
  ASSERT_TRUE(rejoin.ok());
  EXPECT_EQ(rejoin->ticket, joined[5].ticket);
  EXPECT_EQ(rejoin->position, expected.at(joined[5].entry));

  // Another process draws the same order from PostgreSQL.
  Process other(h);
  for (auto& j : joined) {
    EXPECT_EQ(queue_status(h, other.deps, p, j.ticket).position, expected.at(j.entry));
  }
}

TEST(PreQueue, AJoinAfterTheCloseComesBehindAndTheListStaysFinal) {
  Harness h;
  auto p = pre_sale(h);
  h.clock.advance(kQueueOpensIn);
  std::vector<app::JoinResult> joined;
  for (int i = 0; i < 3; ++i) {
    auto j = try_join(h, h.run([&] { return h.make_buyer(); }), p);
    ASSERT_TRUE(j.ok());
    joined.push_back(*j);
  }
  // Another process, whose clock reached the opening first, closed the pre-queue.
  h.run([&]() -> asio::awaitable<int> {
    auto l = co_await h.adapters->prequeue->close(p.id);
    if (!l) Harness::expect_ok(l.error(), "close");
    EXPECT_EQ(l->entries.size(), 3u);
    co_return 0;
  });
  auto behind = try_join(h, h.run([&] { return h.make_buyer(); }), p);
  ASSERT_TRUE(behind.ok()) << behind.error().code.message();
  EXPECT_EQ(behind->entry, 0);
  EXPECT_EQ(behind->position, 4);
  EXPECT_EQ(fairness(h, p).pre_queue_size, 3);
  // Closing again changes nothing.
  h.run([&]() -> asio::awaitable<int> {
    auto l = co_await h.adapters->prequeue->close(p.id);
    if (!l) Harness::expect_ok(l.error(), "close again");
    EXPECT_EQ(l->entries.size(), 3u);
    co_return 0;
  });
}

TEST(PreQueue, RedisEmptiedAfterTheDrawMovesNobody) {
  Harness h;
  auto p = pre_sale(h, 10, {2, 100, 1000, 600});
  h.clock.advance(kQueueOpensIn);
  std::vector<app::JoinResult> joined;
  for (int i = 0; i < 6; ++i) {
    auto j = try_join(h, h.run([&] { return h.make_buyer(); }), p);
    ASSERT_TRUE(j.ok());
    joined.push_back(*j);
  }
  open_sale(h, p);
  app::WaitingRoom ticker(h.deps);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 2);
  std::map<std::string, std::int64_t> drawn;
  for (auto& j : joined) drawn[j.ticket] = queue_status(h, p, j.ticket).position;

  flush_redis(h);
  Process other(h);
  // A new buyer still comes after every drawn place, in either process.
  auto late = h.run([&]() -> asio::awaitable<Result<app::JoinResult>> {
    app::WaitingRoom room(other.deps);
    co_return co_await room.join(h.run([&] { return h.make_buyer(); }), p.id, "");
  });
  ASSERT_TRUE(late.ok()) << late.error().code.message();
  EXPECT_GT(late->position, 6);
  for (int i = 0; i < 3; ++i) {
    h.clock.advance(100);
    tick_fresh(h, ticker, p);
  }
  // The other process drew the same order; the ticking one admitted every drawn place.
  for (auto& j : joined) {
    EXPECT_EQ(queue_status(h, other.deps, p, j.ticket).position, drawn[j.ticket]);
    auto s = queue_status(h, p, j.ticket);
    EXPECT_EQ(s.position, drawn[j.ticket]);
    EXPECT_EQ(s.state, QueueState::admitted) << "position " << s.position;
  }
}

// With presence, every drawn place counts as seen at the opening: an entrant whose page polls
// keeps the place, one who closed the tab before the opening is passed over a timeout later.
TEST(PreQueue, WithPresenceAnEntrantWhoNeverComesBackIsPassedOver) {
  Harness h;
  domain::QueueSettings q{1, 100, 1000, 600};
  q.presence_timeout_seconds = 10;
  auto p = pre_sale(h, 10, q);
  h.clock.advance(kQueueOpensIn);
  std::vector<app::JoinResult> joined;
  for (int i = 0; i < 3; ++i) {
    auto j = try_join(h, h.run([&] { return h.make_buyer(); }), p);
    ASSERT_TRUE(j.ok());
    joined.push_back(*j);
  }
  open_sale(h, p);
  app::WaitingRoom ticker(h.deps);
  EXPECT_EQ(tick_fresh(h, ticker, p).serving, 1);  // the draw, and the first place admitted
  set_sale_status(h, p, domain::SaleStatus::paused);
  std::map<std::int64_t, std::string> by_position;
  for (auto& j : joined) by_position[queue_status(h, p, j.ticket).position] = j.ticket;
  ASSERT_EQ(by_position.size(), 3u);
  for (int s = 0; s < 15; ++s) {  // position 3 polls every second; position 2 never again
    h.clock.advance(1000);
    queue_status(h, p, by_position[3]);
    write_presence_marks(h);
    tick_fresh(h, ticker, p);
  }
  set_sale_status(h, p, domain::SaleStatus::on_sale);
  h.clock.advance(100);
  auto t = tick_fresh(h, ticker, p);
  EXPECT_EQ(t.serving, 3);
  EXPECT_EQ(t.tick.abandoned, 1);
  EXPECT_EQ(queue_status(h, p, by_position[2]).state, QueueState::abandoned);
  EXPECT_EQ(queue_status(h, p, by_position[3]).state, QueueState::admitted);
  // Position 1, admitted in the second of the draw, never used its access token: released.
  EXPECT_EQ(queue_status(h, p, by_position[1]).state, QueueState::abandoned);
}

// Scripts that join first gain nothing: 50 bot accounts joining before 50 honest buyers get no
// better places on average. Each place in the pre-queue costs the bot a proof of work.
TEST(PreQueue, BotsJoiningFirstGetNoBetterPlaces) {
  Harness h;
  auto p = pre_sale(h, 10, {100, 100, 1000, 600, 4});
  h.clock.advance(kQueueOpensIn);
  auto join_solved = [&](const app::Principal& who) {
    auto c = h.run([&]() -> asio::awaitable<app::PowChallenge> {
      app::WaitingRoom room(h.deps);
      auto r = co_await room.challenge(who, p.id);
      if (!r) Harness::expect_ok(r.error(), "challenge");
      co_return *r;
    });
    std::string nonce;
    for (int i = 1; nonce.empty(); ++i) {
      if (domain::pow_solved(c.challenge, std::to_string(i), c.difficulty)) {
        nonce = std::to_string(i);
      }
    }
    auto j = try_join(h, who, p, "", app::JoinProof{c.challenge, nonce});
    if (!j) Harness::expect_ok(j.error(), "join");
    return *j;
  };
  auto no_proof = try_join(h, h.run([&] { return h.make_buyer(); }), p);
  ASSERT_FALSE(no_proof.ok());
  EXPECT_EQ(code_of(no_proof.error()), app::Errc::challenge_required);
  std::vector<std::string> bots, honest;
  for (int i = 0; i < 50; ++i)
    bots.push_back(join_solved(h.run([&] { return h.make_buyer(); })).ticket);
  for (int i = 0; i < 50; ++i) {
    honest.push_back(join_solved(h.run([&] { return h.make_buyer(); })).ticket);
  }
  open_sale(h, p);
  app::WaitingRoom ticker(h.deps);
  tick_admitting(h, ticker, p);
  auto mean = [&](const std::vector<std::string>& tickets) {
    double sum = 0;
    for (auto& t : tickets) sum += static_cast<double>(queue_status(h, p, t).position);
    return sum / static_cast<double>(tickets.size());
  };
  // Positions 1..100 drawn uniformly: each mean is 50.5 with a standard deviation of 4.1 (the
  // difference 5.8); 29 is five of those, so an honest draw fails this once in a million runs,
  // while first-come-first-served would put the bots 50 places ahead.
  EXPECT_LT(std::abs(mean(bots) - mean(honest)), 29.0);
}

}  // namespace
}  // namespace tk::test
