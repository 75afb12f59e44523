#pragma once
// Ticket codes signed with Ed25519, so a door device can verify a code offline with only the
// published public keys (GET /v1/checkin/keys).
//
//   code    = <kid> "." base64url(payload) "." base64url(signature)        (signature: 64 bytes)
//   payload = 0x04 || field || field || field     field = 1 length byte (< 128) || bytes
//             fields: ticket_id, performance_id, seat_id
//   signed  = "tk-ticket-code-v1" || 0x00 || len(kid) || kid || payload text (the base64url)
//
// Signing the payload *text* lets a verifier check the signature before decoding anything.
// Rotation as for the other keys: sign with the current kid; previous kids are configured by
// their public keys only and keep verifying codes already issued.
#include <sodium.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto/tokens.hpp"
#include "common/result.hpp"

namespace tk::crypto {

struct PublicKey {
  std::string kid;
  std::array<unsigned char, crypto_sign_PUBLICKEYBYTES> key{};
};

// Thread-safe: immutable after create().
class TicketCodeSigner {
 public:
  static constexpr std::size_t kSeedBytes = crypto_sign_SEEDBYTES;  // 32

  // seed: 32 raw bytes. kid: as KeyRing's (1..32 of [A-Za-z0-9_-]). previous: public keys of
  // earlier kids. Errors: malformed (seed size, kid, duplicate kid).
  static tk::Result<TicketCodeSigner> create(std::string_view seed, std::string kid,
                                             std::vector<PublicKey> previous = {});

  std::string sign(const TicketCode& t) const;
  // Errors: malformed (syntax, size, not an Ed25519 code), unknown_key, bad_signature.
  tk::Result<TicketCode> verify(std::string_view code) const;

  std::string_view current_kid() const { return keys_.front().kid; }
  // Every key that verifies, current first.
  const std::vector<PublicKey>& public_keys() const { return keys_; }

  TicketCodeSigner(const TicketCodeSigner&) = delete;
  TicketCodeSigner& operator=(const TicketCodeSigner&) = delete;
  TicketCodeSigner(TicketCodeSigner&& o) noexcept;
  TicketCodeSigner& operator=(TicketCodeSigner&&) = delete;
  ~TicketCodeSigner();

 private:
  TicketCodeSigner() = default;
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> secret_{};
  std::vector<PublicKey> keys_;
};

// True when `code` has the Ed25519 shape (a 86-character signature); older codes carry a
// 43-character MAC and verify with decode_ticket_code(Signer, ...).
bool is_ed25519_code(std::string_view code);

// A 32-byte seed or public key from configuration: 43 base64url characters or 64 hex digits.
std::optional<std::string> parse_key_bytes(std::string_view text, std::size_t bytes = 32);
// "kid:key,kid:key" (public keys as parse_key_bytes) -> keys. nullopt on any bad entry.
std::optional<std::vector<PublicKey>> parse_public_keys(std::string_view text);
// The development seed when none is configured: BLAKE2b of a fixed label and the master secret.
// Anyone with the master secret can sign codes then; production sets its own seed.
std::string derive_dev_seed(std::string_view master_secret);

}  // namespace tk::crypto
