// The pre-queue's shuffle (sha256-ctr-fisher-yates-v1): known answers from the independent Python
// implementation buyers run (tools/verify_prequeue.py), permutations, and uniformity.
#include "domain/prequeue_shuffle.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tk::domain {
namespace {

ShuffleSeed seed_from_hex(std::string_view hex) {
  ShuffleSeed s{};
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i < s.size(); ++i) {
    s[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return s;
}

ShuffleSeed counting_seed() {  // bytes 0x00, 0x01, ..., 0x1f
  ShuffleSeed s{};
  std::iota(s.begin(), s.end(), std::uint8_t{0});
  return s;
}

// SHA-256 of the run number (8 bytes big-endian): distinct, fixed seeds, so the statistical tests
// give the same figure on every run and cannot flake.
ShuffleSeed run_seed(std::uint64_t run) {
  unsigned char msg[8];
  for (int b = 0; b < 8; ++b) msg[b] = static_cast<unsigned char>(run >> (56 - 8 * b));
  ShuffleSeed s{};
  crypto_hash_sha256(s.data(), msg, sizeof msg);
  return s;
}

bool is_permutation_of_indices(const std::vector<std::uint32_t>& order, std::uint32_t n) {
  if (order.size() != n) return false;
  std::vector<bool> seen(n);
  for (auto k : order) {
    if (k >= n || seen[k]) return false;
    seen[k] = true;
  }
  return true;
}

// The vectors below were produced once by tools/verify_prequeue.py (Python's hashlib), e.g.
//   python3 -c 'import sys; sys.path.insert(0, "tools"); import verify_prequeue as v;
//               print(v.shuffle_order(bytes(range(32)), 10))'
// and pasted here; tests/tools/verify_prequeue_test.py checks the Python side against the same
// figures, so both implementations agree on them.
TEST(PrequeueShuffle, MatchesTheKnownAnswersOfTheIndependentImplementation) {
  EXPECT_EQ(shuffle_order(counting_seed(), 10),
            (std::vector<std::uint32_t>{7, 2, 0, 6, 3, 8, 5, 9, 4, 1}));
  EXPECT_EQ(shuffle_order(ShuffleSeed{}, 5), (std::vector<std::uint32_t>{2, 1, 0, 4, 3}));
  // SHA-256("sha256-ctr-fisher-yates-v1") as the seed.
  auto h = seed_from_hex("ccb41503060dac38baae75afc063626f7aac5ce8c89bf580d42d176e181e2e0c");
  EXPECT_EQ(shuffle_order(h, 20),
            (std::vector<std::uint32_t>{15, 11, 2, 12, 6, 13, 7,  3, 4,  1,
                                        17, 16, 5, 18, 9, 0,  19, 8, 10, 14}));
  auto big = shuffle_order(h, 1000);  // 999 draws over 250 blocks
  EXPECT_EQ(std::vector<std::uint32_t>(big.begin(), big.begin() + 10),
            (std::vector<std::uint32_t>{91, 151, 430, 14, 901, 571, 137, 189, 710, 951}));
  EXPECT_EQ(std::vector<std::uint32_t>(big.end() - 5, big.end()),
            (std::vector<std::uint32_t>{16, 763, 690, 850, 54}));
  EXPECT_EQ(shuffle_order(counting_seed(), 2), (std::vector<std::uint32_t>{0, 1}));
}

TEST(PrequeueShuffle, TheStreamIsSha256OfTheSeedAndABlockCounter) {
  // Draws 1-4 are block 0 = SHA-256(seed || 00 00 00 00 00 00 00 00), draws 5-6 block 1; the
  // figures are from the Python implementation.
  ShuffleStream s(counting_seed());
  const std::uint64_t raw[] = {12238220826280364221u, 4092613261126186783u, 10138206965701487105u,
                               13686936297923933392u, 6945047847015946120u, 13426042928207130598u};
  for (auto want : raw) EXPECT_EQ(s.next(), want);
}

TEST(PrequeueShuffle, RejectsTheDrawsAboveTheLastWholeMultipleOfTheBound) {
  // bound = 2^63 + 1: 2^64 mod bound = 2^63 - 1, so draws >= 2^63 + 1 (about half) are rejected.
  // Of the draws above, the 1st, 3rd, 4th and 6th are; what comes out is the 2nd and 5th as they
  // are (below the bound), then further draws (Python's figures).
  ShuffleStream s(counting_seed());
  const std::uint64_t bound = (std::uint64_t{1} << 63) + 1;
  const std::uint64_t want[] = {4092613261126186783u, 6945047847015946120u, 1402384116349340663u,
                                300893896666610643u,  8315228738316000402u, 6212704801138175306u};
  for (auto w : want) EXPECT_EQ(s.below(bound), w);
  // A power of two rejects nothing: the next draw, masked.
  ShuffleStream t(counting_seed());
  EXPECT_EQ(t.below(std::uint64_t{1} << 32), 12238220826280364221u & 0xffffffffu);
  ShuffleStream u(counting_seed());
  EXPECT_EQ(u.below(1), 0u);
}

TEST(PrequeueShuffle, TheCommitmentIsTheHexSha256OfTheSeed) {
  // sha256sum of the bytes 0x00..0x1f.
  EXPECT_EQ(seed_commitment_hex(counting_seed()),
            "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd");
  // SHA-256 of 32 zero bytes.
  EXPECT_EQ(seed_commitment_hex(ShuffleSeed{}),
            "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925");
}

TEST(PrequeueShuffle, IsDeterministicAndDependsOnTheSeed) {
  auto a = shuffle_order(run_seed(1), 1000);
  EXPECT_EQ(shuffle_order(run_seed(1), 1000), a);
  EXPECT_NE(shuffle_order(run_seed(2), 1000), a);
  ShuffleSeed flipped = run_seed(1);
  flipped[31] ^= 1;
  EXPECT_NE(shuffle_order(flipped, 1000), a);
}

TEST(PrequeueShuffle, GivesEveryIndexExactlyOnce) {
  for (std::uint32_t n : {0u, 1u, 2u, 3u, 7u, 64u, 1000u, 4097u}) {
    auto order = shuffle_order(run_seed(n), n);
    EXPECT_TRUE(is_permutation_of_indices(order, n)) << "n = " << n;
    auto pos = positions_by_index(order);
    ASSERT_EQ(pos.size(), n);
    for (std::uint32_t i = 0; i < n; ++i) EXPECT_EQ(pos[order[i]], i + 1);
  }
  EXPECT_TRUE(shuffle_order(run_seed(0), 0).empty());
  EXPECT_EQ(shuffle_order(run_seed(0), 1), (std::vector<std::uint32_t>{0}));
}

TEST(PrequeueShuffle, PositionsByIndexInvertsAnOrder) {
  EXPECT_EQ(positions_by_index({2, 0, 1}), (std::vector<std::uint32_t>{2, 3, 1}));
  EXPECT_TRUE(positions_by_index({}).empty());
  EXPECT_THROW(positions_by_index({0, 2}), std::out_of_range);
}

// Pearson's statistic of observed counts against the same expected count in every cell.
double chi_square(const std::vector<int>& counts, double expected) {
  double x = 0;
  for (int c : counts) x += (c - expected) * (c - expected) / expected;
  return x;
}

TEST(PrequeueShuffle, TheOrdersOfFourAreUniform) {
  // 24,000 shuffles of 4: each of the 24 orders about 1,000 times. 49.73 is the 0.999 quantile of
  // chi-square with 23 degrees of freedom. The naive shuffle (j = x mod n for every i) fails it.
  std::map<std::vector<std::uint32_t>, int> seen;
  for (std::uint64_t run = 0; run < 24000; ++run) ++seen[shuffle_order(run_seed(run), 4)];
  ASSERT_EQ(seen.size(), 24u);
  std::vector<int> counts;
  for (const auto& [order, c] : seen) counts.push_back(c);
  double x = chi_square(counts, 1000);
  EXPECT_LE(x, 49.73);
  RecordProperty("chi_square", std::to_string(x));
}

TEST(PrequeueShuffle, EveryEntryOfFiveLandsInEveryPositionAlike) {
  // 25,000 shuffles of 5: each (entry, position) cell about 5,000 times. 51.18 is the 0.999
  // quantile of chi-square with 24 degrees of freedom (conservative: the rows and columns of the
  // table have fixed sums, which leaves fewer).
  std::vector<int> cells(25);
  for (std::uint64_t run = 0; run < 25000; ++run) {
    auto pos = positions_by_index(shuffle_order(run_seed(1'000'000 + run), 5));
    for (std::uint32_t k = 0; k < 5; ++k) ++cells[k * 5 + (pos[k] - 1)];
  }
  double x = chi_square(cells, 5000);
  EXPECT_LE(x, 51.18);
  RecordProperty("chi_square", std::to_string(x));
}

}  // namespace
}  // namespace tk::domain
