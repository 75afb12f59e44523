#pragma once
// Tickets after the sale: verifying codes, door tokens, check-in, e-ticket downloads and the
// public keys door devices verify codes with.
#include <string>
#include <string_view>
#include <vector>

#include "app/deps.hpp"
#include "app/errors.hpp"
#include "app/identity.hpp"
#include "common/crypto/ticket_codes.hpp"
#include "domain/checkin.hpp"

namespace tk::app {

struct CheckedIn {
  std::string ticket_id;
  std::string seat_id;
  std::string performance_id;
  Millis checked_in_at = 0;
};

struct DoorPass {
  std::string token;
  Millis expires_at = 0;
};

// Door tokens live this long unless the operator asks otherwise (one evening at the door).
inline constexpr Millis kDefaultDoorTokenTtlMs = 12LL * 3600 * 1000;
inline constexpr Millis kMaxDoorTokenTtlMs = 48LL * 3600 * 1000;

class Tickets {
 public:
  explicit Tickets(Deps d) : d_(d) {}

  // A signed ticket code: Ed25519 codes through the ticket signer, earlier MAC codes through the
  // token signer. Any failure is not_found: a scanner learns nothing about why.
  Result<crypto::TicketCode> verify_code(std::string_view code) const;

  // 404 for an unknown performance; out_of_range for a ttl outside 1 minute .. 48 hours.
  Task<DoorPass> issue_door_token(std::string performance_id, Millis ttl_ms);
  // The scanner a door token stands for; unauthenticated when forged, altered or expired.
  Result<domain::Scanner> door_scanner(std::string_view token) const;

  // 404: the code does not verify (or names no ticket); 403: a door token of another
  // performance; 409 already_checked_in (details.checked_in_at); 422 invalid_field with
  // details.reason ticket_void.
  Task<CheckedIn> check_in(const domain::Scanner& who, std::string code);

  // The owner's e-ticket; another account's ticket is not_found.
  Task<Document> pdf(const Principal& who, std::string ticket_id);

  // Every key that verifies ticket codes (current first); empty without a ticket signer.
  std::vector<crypto::PublicKey> checkin_keys() const;

 private:
  Deps d_;
};

}  // namespace tk::app
