#pragma once
#include <optional>
#include <string>

#include "app/async.hpp"
#include "domain/model.hpp"

namespace tk::app {

class AccountRepo {
 public:
  virtual ~AccountRepo() = default;
  // Errc::email_taken when the e-mail (case-insensitive) exists.
  virtual Task<domain::Account> create(std::string id, std::string email, std::string name,
                                       std::string password_hash) = 0;
  virtual Task<std::optional<domain::Account>> find_by_email(std::string email) = 0;
  virtual Task<std::optional<domain::Account>> find_by_id(std::string id) = 0;
};

// What the session cache knows about a session id.
struct CachedSession {
  enum class State { missing, found, revoked } state = State::missing;
  domain::Session session;  // found
};

// Sessions cached in Redis with a TTL, in front of the SessionRepo. A revoked session leaves a
// tombstone until it would have expired, so a concurrent re-fill from PostgreSQL cannot bring it
// back.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual Task<void> put(std::string session_id, domain::Session s, Millis ttl_ms) = 0;
  // Like put, but never over an entry already there (a tombstone in particular).
  virtual Task<void> fill(std::string session_id, domain::Session s, Millis ttl_ms) = 0;
  virtual Task<CachedSession> get(std::string session_id) = 0;
  virtual Task<void> revoke(std::string session_id, Millis ttl_ms) = 0;
};

// Sessions in PostgreSQL, the record that outlives a Redis restart or flush.
class SessionRepo {
 public:
  virtual ~SessionRepo() = default;
  // Also deletes a few sessions that expired before `now`, so the table does not grow.
  virtual Task<void> create(std::string session_id, const domain::Session& s, Millis now) = 0;
  virtual Task<std::optional<domain::Session>> find(std::string session_id) = 0;
  virtual Task<void> remove(std::string session_id) = 0;
};

}  // namespace tk::app
