#pragma once
// Byte encodings, randomness, ids and hashes. Everything here is thread-safe.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tk::crypto {

// Initialises libsodium once; idempotent and thread-safe. Throws std::runtime_error if libsodium
// cannot start (no usable entropy source): nothing secure can run then, so start-up must fail.
// Every function of this module calls it on first use, so calling it early only moves the cost.
void init();

// RFC 4648 §5 base64url without padding.
std::string base64url_encode(std::string_view bytes);
// Strict: rejects padding, characters outside the alphabet, impossible lengths (len % 4 == 1) and
// non-zero trailing bits, so every byte string has exactly one accepted text form.
std::optional<std::string> base64url_decode(std::string_view text);

// Cryptographically secure random bytes (libsodium's randombytes_buf).
std::string random_bytes(std::size_t n);

// Opaque unique id: prefix + 22 base64url chars from 16 random bytes (128 bits: collisions are
// not a practical concern, and ids are unguessable). e.g. new_id("evt_") -> "evt_3q2-7wZ...".
std::string new_id(std::string_view prefix);

// Lower-case hex SHA-256 (64 chars).
std::string sha256_hex(std::string_view data);

// Bytes as lower-case hex, and back (nullopt for an odd length or a character outside [0-9a-f]).
std::string hex_encode(std::string_view bytes);
std::optional<std::string> hex_decode(std::string_view hex);

// Idempotency fingerprint: lower-case hex SHA-256 over a version tag and method, path and body,
// each prefixed by its 64-bit length, so ("a", "bc") and ("ab", "c") never collide.
std::string request_fingerprint(std::string_view method, std::string_view path,
                                std::string_view body);

namespace detail {
// Allocation-free building blocks for the token code on the hot path.
constexpr std::size_t b64_encoded_size(std::size_t n) {
  return (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0);
}
constexpr std::size_t b64_max_decoded_size(std::size_t len) {
  return (len / 4) * 3 + (len % 4 ? len % 4 - 1 : 0);
}
// Writes exactly b64_encoded_size(n) chars to out.
void b64_encode_to(const unsigned char* in, std::size_t n, char* out);
// True when every char is in the base64url alphabet and the length is possible.
bool b64_well_formed(std::string_view text);
// Strict decode into out (capacity >= b64_max_decoded_size(text.size())); returns the decoded size.
std::optional<std::size_t> b64_decode_to(std::string_view text, unsigned char* out);
}  // namespace detail

}  // namespace tk::crypto
