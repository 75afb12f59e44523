#pragma once
// Typed tokens on top of Signer. Each type has its own purpose (so its own key) and a fixed
// field count and order; numbers are minimal big-endian bytes inside a length-prefixed field.
// Decoders check the signature and the shape; comparing the ids inside (e.g. the ticket's
// performance against the route's) is the caller's job.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "common/crypto/signer.hpp"
#include "common/result.hpp"

namespace tk::crypto {

// A place in a performance's queue. A pre-queue ticket has position 0 and its entry number (> 0):
// its position is drawn when the sale opens. A fifth field only when there is an entry, so the
// tickets of a queue without a pre-queue stay as they were.
struct QueueTicket {
  std::string performance_id;
  std::int64_t position = 0;
  std::string account_id;
  Millis issued_at = 0;
  std::int64_t entry = 0;
  bool operator==(const QueueTicket&) const = default;
};

struct AccessToken {
  std::string performance_id;
  std::string account_id;
  std::int64_t position = 0;
  Millis expires_at = 0;  // fixed at admission; valid while now < expires_at
  bool operator==(const AccessToken&) const = default;
};

struct TicketCode {
  std::string ticket_id;
  std::string performance_id;
  std::string seat_id;
  bool operator==(const TicketCode&) const = default;
};

std::string encode(const Signer& s, const QueueTicket& t);
tk::Result<QueueTicket> decode_queue_ticket(const Signer& s, std::string_view token);

// The same check without a heap allocation, for the status poll: the ids are views into
// `storage`, valid while it lives.
struct QueueTicketView {
  std::string_view performance_id;
  std::int64_t position = 0;
  std::string_view account_id;
  Millis issued_at = 0;
  std::int64_t entry = 0;
};
tk::Result<QueueTicketView> decode_queue_ticket(const Signer& s, std::string_view token,
                                                TokenFields& storage);

std::string encode(const Signer& s, const AccessToken& t);
// Errc::expired once now >= expires_at (only reported for an authentic token).
tk::Result<AccessToken> decode_access_token(const Signer& s, std::string_view token, Millis now);

// The MAC-signed ticket codes of earlier orders; new codes are Ed25519 (ticket_codes.hpp).
std::string encode(const Signer& s, const TicketCode& t);
tk::Result<TicketCode> decode_ticket_code(const Signer& s, std::string_view token);

// A door scanner's credential: check-in for one performance until `expires_at`.
struct DoorToken {
  std::string performance_id;
  Millis expires_at = 0;
  bool operator==(const DoorToken&) const = default;
};
std::string encode(const Signer& s, const DoorToken& t);
// Errc::expired once now >= expires_at (only reported for an authentic token).
tk::Result<DoorToken> decode_door_token(const Signer& s, std::string_view token, Millis now);

// A proof-of-work challenge for joining a performance's queue: bound to the account and the
// performance, single use (by `id`, checked by the waiting room), valid until `expires_at`.
struct PowChallenge {
  std::string id;
  std::string performance_id;
  std::string account_id;
  int difficulty = 0;
  Millis expires_at = 0;
  bool operator==(const PowChallenge&) const = default;
};
std::string encode(const Signer& s, const PowChallenge& t);
// Errc::expired once now >= expires_at (only reported for an authentic token).
tk::Result<PowChallenge> decode_pow_challenge(const Signer& s, std::string_view token, Millis now);

// Session tokens: a fresh random session id ("ses_" + 22 chars) wrapped in a signed token, so a
// forged token is refused without a Redis lookup. The id itself is what the server stores; the
// token, not the id, is the credential (the id cannot be turned into a token without the key).
std::string new_session_token(const Signer& s, std::string* session_id_out);
tk::Result<std::string> session_id_from_token(const Signer& s, std::string_view token);

}  // namespace tk::crypto
