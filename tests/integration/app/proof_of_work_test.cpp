// Proof of work at join: a sale with a difficulty gives a new place only for a solved challenge
// that is this account's, for this performance, unexpired and not used before; a buyer who
// already holds a ticket keeps the place without one. Real PostgreSQL + Redis.
#include "domain/proof_of_work.hpp"

#include "harness.hpp"

namespace tk::test {
namespace {

constexpr int kDifficulty = 8;

app::PowChallenge challenge(Harness& h, const app::Principal& who, const domain::Performance& p) {
  return h.run([&]() -> asio::awaitable<app::PowChallenge> {
    app::WaitingRoom room(h.deps);
    auto c = co_await room.challenge(who, p.id);
    if (!c) Harness::expect_ok(c.error(), "challenge");
    co_return *c;
  });
}

// The first decimal nonce that solves `c` (2^8 tries on average).
std::string solve(const app::PowChallenge& c) {
  for (int i = 1;; ++i) {
    if (domain::pow_solved(c.challenge, std::to_string(i), c.difficulty)) return std::to_string(i);
  }
}

// A nonce that does not: the counter right after a solution rarely solves it too, so search.
std::string wrong(const app::PowChallenge& c) {
  for (int i = 1;; ++i) {
    if (!domain::pow_solved(c.challenge, std::to_string(i), c.difficulty)) return std::to_string(i);
  }
}

Result<app::JoinResult> join(Harness& h, const app::Principal& who, const domain::Performance& p,
                             std::optional<app::JoinProof> proof, const std::string& ticket = "") {
  return h.run([&]() -> asio::awaitable<Result<app::JoinResult>> {
    app::WaitingRoom room(h.deps);
    co_return co_await room.join(who, p.id, ticket, proof);
  });
}

domain::Performance pow_sale(Harness& h) {
  auto p = h.run([&] { return h.make_performance({.seats = 10}); });
  app::PerformanceChange c;
  c.pow_difficulty = kDifficulty;
  return change_performance(h, p, c);
}

TEST(ProofOfWork, ANewPlaceNeedsTheAccountsOwnFreshSolvedChallengeOnce) {
  Harness h;
  auto p = pow_sale(h);
  EXPECT_EQ(p.queue.pow_difficulty, kDifficulty);
  auto a = h.run([&] { return h.make_buyer(); });
  auto b = h.run([&] { return h.make_buyer(); });
  auto code = [](const Result<app::JoinResult>& r) {
    return r.ok() ? app::Errc{} : code_of(r.error());
  };

  EXPECT_EQ(code(join(h, a, p, std::nullopt)), app::Errc::challenge_required);
  auto c = challenge(h, a, p);
  EXPECT_EQ(c.difficulty, kDifficulty);
  EXPECT_EQ(c.expires_at, h.clock.now_ms() + app::kPowChallengeTtlMs);
  EXPECT_EQ(code(join(h, a, p, app::JoinProof{c.challenge, wrong(c)})),
            app::Errc::challenge_invalid);
  // B presents A's solved challenge: bound to A.
  auto nonce = solve(c);
  EXPECT_EQ(code(join(h, b, p, app::JoinProof{c.challenge, nonce})), app::Errc::challenge_invalid);
  // A forged challenge (one character changed) with a nonce solving it.
  app::PowChallenge forged = c;
  forged.challenge.back() = forged.challenge.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(code(join(h, a, p, app::JoinProof{forged.challenge, solve(forged)})),
            app::Errc::challenge_invalid);

  auto first = join(h, a, p, app::JoinProof{c.challenge, nonce});
  ASSERT_TRUE(first.ok()) << first.error().code.message();
  EXPECT_TRUE(first->created);
  // The same proof again (another tab, a replay): used.
  EXPECT_EQ(code(join(h, a, p, app::JoinProof{c.challenge, nonce})), app::Errc::challenge_invalid);
  // With its ticket the buyer keeps the place, no proof needed.
  auto again = join(h, a, p, std::nullopt, first->ticket);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->position, first->position);

  // A challenge past its life is refused even when solved.
  auto cb = challenge(h, b, p);
  h.clock.advance(app::kPowChallengeTtlMs);
  EXPECT_EQ(code(join(h, b, p, app::JoinProof{cb.challenge, solve(cb)})),
            app::Errc::challenge_invalid);
  auto fresh = challenge(h, b, p);
  auto second = join(h, b, p, app::JoinProof{fresh.challenge, solve(fresh)});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->position, first->position + 1);
}

TEST(ProofOfWork, ARaisedDifficultyRefusesEasierWorkAndZeroAsksForNone) {
  Harness h;
  auto p = pow_sale(h);
  auto a = h.run([&] { return h.make_buyer(); });
  auto c = challenge(h, a, p);
  // A nonce with exactly kDifficulty zero bits (not more), so a higher difficulty refuses it.
  std::string exact;
  for (int i = 1; exact.empty(); ++i) {
    if (domain::pow_zero_bits(c.challenge, std::to_string(i)) == kDifficulty)
      exact = std::to_string(i);
  }
  auto change = [&](int d) {
    app::PerformanceChange ch;
    ch.pow_difficulty = d;
    change_performance(h, p, ch);
  };
  change(kDifficulty + 1);
  auto refused = join(h, a, p, app::JoinProof{c.challenge, exact});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(code_of(refused.error()), app::Errc::challenge_invalid);
  change(0);
  auto joined = join(h, a, p, std::nullopt);
  EXPECT_TRUE(joined.ok());
  // Out of range: 33 bits.
  auto bad = h.run([&]() -> asio::awaitable<Result<domain::Performance>> {
    app::Admin admin(h.deps);
    app::PerformanceChange ch;
    ch.pow_difficulty = domain::kMaxPowDifficulty + 1;
    co_return co_await admin.update_performance(p.id, ch);
  });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(code_of(bad.error()), app::Errc::out_of_range);
}

}  // namespace
}  // namespace tk::test
