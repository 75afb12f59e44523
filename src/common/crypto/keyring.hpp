#pragma once
// Signing keys: one independent key per (purpose, key id), derived once at start-up from the
// configured master secrets, so a poll never pays for key derivation.
#include <sodium.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace tk::crypto {

// Appending a purpose is safe: keys are derived per purpose, the existing ones do not change.
enum class Purpose : std::uint8_t {
  queue_ticket = 1,
  access = 2,
  session = 3,
  ticket_code = 4,
  door = 5,
  pow_challenge = 6,
};
inline constexpr std::size_t kPurposeCount = 6;
constexpr bool valid_purpose(std::uint8_t p) { return p >= 1 && p <= kPurposeCount; }

class KeyRing {
 public:
  static constexpr std::size_t kMinSecretBytes = 32;
  static constexpr std::size_t kMaxKidLength = 32;

  // secrets: kid -> master secret. A kid is 1..32 chars of [A-Za-z0-9_-] (it travels in the
  // token, before the first dot). Errors: a secret shorter than 32 bytes or with fewer than 8
  // distinct bytes ("changeme..." repeated) -> weak_secret; an invalid or duplicate kid ->
  // malformed; no secrets or current_kid not among them -> unknown_key.
  // Several kids allow rotation: sign with current_kid, accept any configured kid.
  static tk::Result<KeyRing> create(std::vector<std::pair<std::string, std::string>> secrets,
                                    std::string current_kid);

  std::string_view current_kid() const { return keys_[current_].kid; }
  bool has_kid(std::string_view kid) const { return find(kid) != nullptr; }

 private:
  friend class Signer;

  // Keyed BLAKE2b-256 states, keyed once here: a MAC over a short token then costs two BLAKE2b
  // compressions (key block + payload) where HMAC-SHA256 took four SHA-256 ones; verifying a
  // queue ticket went from 877 to 508 ns (bench/micro, docs/BENCHMARKS.md).
  struct Key {
    std::string kid;
    std::array<crypto_generichash_blake2b_state, kPurposeCount> mac{};

    Key() = default;
    Key(const Key&) = default;
    Key(Key&&) = default;
    Key& operator=(const Key&) = default;
    Key& operator=(Key&&) = default;
    ~Key() { sodium_memzero(mac.data(), sizeof(mac)); }  // key material must not linger in RAM
    const crypto_generichash_blake2b_state& state(Purpose p) const {
      return mac[static_cast<std::size_t>(p) - 1];
    }
  };

  KeyRing() = default;
  const Key* find(std::string_view kid) const {
    // A ring holds a handful of kids: a linear scan beats hashing.
    for (const auto& k : keys_) {
      if (k.kid == kid) return &k;
    }
    return nullptr;
  }
  const Key& current() const { return keys_[current_]; }

  std::vector<Key> keys_;
  std::size_t current_ = 0;
};

// True for a kid that KeyRing accepts (also used to reject garbage tokens early).
bool valid_kid(std::string_view kid);

}  // namespace tk::crypto
