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
};

class Identity {
 public:
  explicit Identity(Deps d) : d_(d) {}
  // Errc::invalid_field (email/password/name rules), Errc::email_taken.
  Task<domain::Account> sign_up(std::string email, std::string password, std::string name);
  // Errc::unauthenticated for an unknown e-mail or a wrong password (indistinguishable).
  Task<NewSession> log_in(std::string email, std::string password);
  Task<void> log_out(const Principal& p);
  // Bearer token -> principal; Errc::unauthenticated when missing, forged or expired.
  Task<Principal> authenticate(std::string_view bearer_token);
  Task<domain::Account> me(const Principal& p);

 private:
  Deps d_;
};

}  // namespace tk::app
