#pragma once
// The waiting room's proof of work: a join proves work by a nonce such that SHA-256 of the UTF-8
// bytes of the challenge followed by those of the nonce starts with `difficulty` zero bits.
// Checking costs one hash; finding a nonce costs 2^difficulty hashes on average.
#include <string_view>

namespace tk::domain {

inline constexpr int kMaxPowDifficulty = 32;
inline constexpr std::size_t kMaxPowNonce = 64;  // bytes

// Leading zero bits of SHA-256(challenge || nonce), 0..256.
int pow_zero_bits(std::string_view challenge, std::string_view nonce);

// A nonce of 1..64 bytes whose hash with `challenge` has at least `difficulty` zero bits.
bool pow_solved(std::string_view challenge, std::string_view nonce, int difficulty);

}  // namespace tk::domain
