#pragma once
// Signed, typed tokens: "<kid>.<base64url(payload)>.<base64url(mac)>".
//   payload = purpose byte || fields, each field = LEB128 length (1-2 bytes) || bytes
//   mac     = BLAKE2b-256 keyed with key(purpose, kid), over
//             purpose byte || len(kid) byte || kid || payload text
// The payload is readable by anyone (it is signed, not encrypted): never put secrets in it.
// The MAC covers the payload *text*, so the signature is checked before a single byte of an
// untrusted payload is decoded, and any altered character fails as bad_signature.
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto/keyring.hpp"
#include "common/result.hpp"

namespace tk::crypto {

inline constexpr std::size_t kMaxFields = 16;
inline constexpr std::size_t kMaxPayloadBytes = 1024;
// Longest token text verify() looks at; anything longer is malformed without further work.
inline constexpr std::size_t kMaxTokenLength =
    KeyRing::kMaxKidLength + 1 + ((kMaxPayloadBytes + 2) / 3) * 4 + 1 + 43;

// Fields of a verified token as views into its own buffer: lets hot paths decode without heap
// allocations. Not copyable (the views point into `buf`).
struct TokenFields {
  std::array<std::string_view, kMaxFields> items{};
  std::size_t count = 0;
  std::array<char, kMaxPayloadBytes> buf;

  TokenFields() = default;
  TokenFields(const TokenFields&) = delete;
  TokenFields& operator=(const TokenFields&) = delete;
  std::span<const std::string_view> view() const { return {items.data(), count}; }
  std::size_t size() const { return count; }
  std::string_view operator[](std::size_t i) const { return items[i]; }
};

// Thread-safe: all methods are const and touch no shared mutable state.
class Signer {
 public:
  explicit Signer(KeyRing keys) : keys_(std::move(keys)) {}

  // Signs with the ring's current kid. Throws std::invalid_argument for a purpose outside the
  // enum and std::length_error for more than 16 fields or a payload over 1 KiB: both are
  // programming errors, never caused by client input.
  std::string sign(Purpose p, const std::vector<std::string>& fields) const;
  std::string sign_views(Purpose p, std::span<const std::string_view> fields) const;

  // Errors: malformed (syntax, size, framing), unknown_key, bad_signature, wrong_purpose (a
  // genuine token of another purpose; only reported after its own MAC checked out).
  tk::Result<std::vector<std::string>> verify(Purpose p, std::string_view token) const;
  // Same checks, no heap allocation: fills `out` on success.
  tk::Status verify_into(Purpose p, std::string_view token, TokenFields& out) const;

  const KeyRing& keys() const { return keys_; }

 private:
  KeyRing keys_;
};

}  // namespace tk::crypto
