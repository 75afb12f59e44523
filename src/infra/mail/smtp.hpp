#pragma once
// app::Mailer over SMTP with libcurl. curl's easy API blocks, so each message is sent on a small
// dedicated thread pool with a bounded queue; the calling coroutine resumes on its own executor
// and never blocks an I/O thread. A full queue answers at once (unavailable), like a refusal.
#include <chrono>
#include <memory>
#include <string>

#include "app/ports/consumers.hpp"
#include "common/clock.hpp"
#include "common/crypto/blocking_pool.hpp"
#include "infra/mail/errors.hpp"

namespace tk::mail {

struct SmtpOptions {
  std::string url;                 // smtp://host:port (smtps:// for implicit TLS)
  std::string from;                // envelope and header sender, an addr-spec
  std::string username, password;  // empty: no AUTH
  std::chrono::milliseconds connect_timeout{5000};
  // Whole conversation; kept well under the outbox's claim lease so a slow send never overlaps a
  // second dispatcher's retry of the same row.
  std::chrono::milliseconds timeout{15000};
  int threads = 2;
  std::size_t max_queue = 256;
};

// What one blocking send reports: the module's code and, for the log only, curl's and the
// server's words.
struct SendFailure {
  Errc code = Errc::failed;
  long smtp_code = 0;
  std::string detail;
};

class SmtpMailer final : public app::Mailer {
 public:
  SmtpMailer(SmtpOptions o, const Clock& clock);
  ~SmtpMailer() override;
  // Errors: app::Errc::unavailable (temporary), invalid_field (permanent), with details
  // {"mail_error", "smtp_code"} for the log.
  app::Task<void> send(const app::Mail& m) override;

  std::size_t queued() const { return pool_->queued(); }

 private:
  SmtpOptions o_;
  const Clock& clock_;
  std::unique_ptr<crypto::BlockingPool> pool_;
};

// Blocking: one SMTP conversation (exposed for tests of the error mapping).
Result<void> send_blocking(const SmtpOptions& o, const std::string& to, const std::string& data,
                           SendFailure* failure);

}  // namespace tk::mail
