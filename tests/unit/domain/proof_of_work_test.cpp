// The proof-of-work rule, against digests computed independently (sha256sum).
#include "domain/proof_of_work.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tk::domain {
namespace {

TEST(ProofOfWork, CountsTheLeadingZeroBitsOfTheChallengeFollowedByTheNonce) {
  // sha256("abc") = ba78... : no leading zero bit; the split does not matter.
  EXPECT_EQ(pow_zero_bits("ab", "c"), 0);
  EXPECT_EQ(pow_zero_bits("a", "bc"), 0);
  // sha256("hello world13") = 0b...: 4 zero bits; sha256("hello world160") = 0085...: 8.
  EXPECT_EQ(pow_zero_bits("hello world", "13"), 4);
  EXPECT_EQ(pow_zero_bits("hello world", "160"), 8);
}

TEST(ProofOfWork, ANonceMeetsTheDifficultyOrNot) {
  // Find a nonce for 10 bits by brute force, then check the rule's edges with it.
  std::string found;
  for (int i = 1; found.empty(); ++i) {
    if (pow_zero_bits("k1.challenge", std::to_string(i)) >= 10) found = std::to_string(i);
  }
  int bits = pow_zero_bits("k1.challenge", found);
  EXPECT_TRUE(pow_solved("k1.challenge", found, 10));
  EXPECT_TRUE(pow_solved("k1.challenge", found, bits));
  EXPECT_FALSE(pow_solved("k1.challenge", found, bits + 1));
  EXPECT_FALSE(pow_solved("k1.challengf", found, 10)) << "bound to the challenge";
  EXPECT_TRUE(pow_solved("anything", "x", 0));
  EXPECT_FALSE(pow_solved("anything", "", 0)) << "a nonce is 1..64 bytes";
  EXPECT_FALSE(pow_solved("anything", std::string(65, '1'), 0));
  EXPECT_TRUE(pow_solved("anything", std::string(64, '1'), 0));
}

}  // namespace
}  // namespace tk::domain
