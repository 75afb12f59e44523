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

// Sessions are leases in Redis with a TTL.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual Task<void> put(std::string session_id, domain::Session s, Millis ttl_ms) = 0;
  virtual Task<std::optional<domain::Session>> get(std::string session_id) = 0;
  virtual Task<void> remove(std::string session_id) = 0;
};

}  // namespace tk::app
