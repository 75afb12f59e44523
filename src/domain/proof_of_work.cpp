#include "domain/proof_of_work.hpp"

#include <sodium.h>

#include <bit>

namespace tk::domain {

int pow_zero_bits(std::string_view challenge, std::string_view nonce) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(challenge.data()),
                            challenge.size());
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(nonce.data()),
                            nonce.size());
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, h);
  int n = 0;
  for (unsigned char b : h) {
    if (b != 0) return n + std::countl_zero(b);
    n += 8;
  }
  return n;
}

bool pow_solved(std::string_view challenge, std::string_view nonce, int difficulty) {
  if (nonce.empty() || nonce.size() > kMaxPowNonce) return false;
  return pow_zero_bits(challenge, nonce) >= difficulty;
}

}  // namespace tk::domain
