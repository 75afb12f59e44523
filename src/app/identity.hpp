#pragma once
// Sign-up, log-in, log-out and session checks.
#include <string>

#include "app/deps.hpp"

namespace tk::app {

struct NewSession {
  std::string token;
  Millis expires_at = 0;
};

struct Principal {  // the authenticated caller
  std::string account_id;
  std::int64_t account_num = 0;
  std::string session_id;
  Millis session_expires_at = 0;
};

class Identity {
 public:
  explicit Identity(Deps d) : d_(d) {}
  // `client` is the caller's address: Errc::rate_limited when it already has as many password
  // hashes in flight as allowed (Shared::hashes_per_client), checked before anything else.
  // Errc::unavailable when the hasher's queue is full.
  // Errc::invalid_field (email/password/name rules), Errc::email_taken.
  Task<domain::Account> sign_up(std::string email, std::string password, std::string name,
                                std::string client);
  // Errc::unauthenticated for an unknown e-mail or a wrong password (indistinguishable).
  // The session is recorded in PostgreSQL and cached in Redis; a Redis failure does not fail it.
  Task<NewSession> log_in(std::string email, std::string password, std::string client);
  // Deletes the session's record, then leaves a tombstone in the cache. Errc::unavailable when
  // either step failed (retrying is safe).
  Task<void> log_out(const Principal& p);
  // Bearer token -> principal; Errc::unauthenticated when missing, forged, revoked or expired.
  // The Redis cache answers first; a miss (Redis flushed or restarted) or a Redis failure is
  // answered from PostgreSQL, and a miss is filled again.
  Task<Principal> authenticate(std::string_view bearer_token);
  Task<domain::Account> me(const Principal& p);

 private:
  Deps d_;
};

}  // namespace tk::app
