#pragma once
// Shared test keys: obviously fake but long and varied enough for KeyRing.
#include <string>
#include <utility>
#include <vector>

#include "common/crypto/signer.hpp"

namespace tk::crypto::testing {

inline const std::string kSecretA = "test-master-secret-A-0123456789abcdefXYZ";
inline const std::string kSecretB = "test-master-secret-B-9876543210fedcbaQRS";

inline Signer make_signer(std::vector<std::pair<std::string, std::string>> secrets,
                          std::string current) {
  auto ring = KeyRing::create(std::move(secrets), std::move(current));
  if (!ring.ok()) throw std::runtime_error("test keyring: " + ring.code().message());
  return Signer(std::move(ring).value());
}

inline Signer signer_a() { return make_signer({{"k1", kSecretA}}, "k1"); }

}  // namespace tk::crypto::testing
