#include "infra/mail/smtp.hpp"

#include <curl/curl.h>

#include <cstring>
#include <mutex>

#include "app/errors.hpp"
#include "common/log.hpp"
#include "infra/mail/mime.hpp"

namespace tk::mail {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
  const std::string* data;
  std::size_t pos = 0;
};

std::size_t read_cb(char* buf, std::size_t size, std::size_t n, void* user) {
  auto* u = static_cast<Upload*>(user);
  std::size_t left = u->data->size() - u->pos;
  std::size_t take = std::min(left, size * n);
  std::memcpy(buf, u->data->data() + u->pos, take);
  u->pos += take;
  return take;
}

Errc from_curl(CURLcode rc, long smtp_code) {
  if (smtp_code >= 500) return Errc::refused_permanent;
  if (smtp_code >= 400) return Errc::refused_temporary;
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
      return Errc::unreachable;
    case CURLE_OPERATION_TIMEDOUT:
      return Errc::timed_out;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
      return Errc::connection_lost;
    case CURLE_LOGIN_DENIED:
      return Errc::refused_permanent;
    default:
      return Errc::failed;
  }
}

}  // namespace

Result<void> send_blocking(const SmtpOptions& o, const std::string& to, const std::string& data,
                           SendFailure* failure) {
  global_init();
  auto fail = [&](Errc e, long code, std::string detail) -> Result<void> {
    if (failure) *failure = {e, code, std::move(detail)};
    return e;
  };
  if (!plausible_address(to) || !plausible_address(o.from)) return fail(Errc::bad_address, 0, "");
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return fail(Errc::failed, 0, "curl_easy_init");
  const std::string from = "<" + o.from + ">";
  const std::string rcpt = "<" + to + ">";
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> rcpts(curl_slist_append(nullptr, rcpt.c_str()),
                                                           curl_slist_free_all);
  Upload up{&data};
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts.get());
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(data.size()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM on a pool thread
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  // STARTTLS when the server offers it; smtps:// URLs are TLS from the start.
  curl_easy_setopt(c, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  if (!o.username.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, o.username.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, o.password.c_str());
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return {};
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  return fail(from_curl(rc, code), code, std::move(detail));
}

SmtpMailer::SmtpMailer(SmtpOptions o, const Clock& clock)
    : o_(std::move(o)),
      clock_(clock),
      pool_(std::make_unique<crypto::BlockingPool>(o_.threads, o_.max_queue)) {
  global_init();
}

SmtpMailer::~SmtpMailer() = default;

app::Task<void> SmtpMailer::send(const app::Mail& m) {
  // Everything the pool thread needs travels by value in the job and the outcome comes back as
  // its result: no state shared between the thread and the coroutine frame.
  std::string message_id = m.message_id;
  auto job = [this, data = render(m, o_.from, clock_.now_ms()),
              to = m.to]() -> Result<SendFailure> {
    SendFailure f{};
    auto sent = send_blocking(o_, to, data, &f);
    if (sent) f.smtp_code = -1;  // -1: sent
    return f;
  };
  auto r = co_await pool_->run(std::move(job));
  if (r && r->smtp_code == -1) co_return Status{};
  SendFailure failure = r ? *r : SendFailure{Errc::overloaded, 0, {}};
  Errc code = failure.code;
  // Built by assignment: GCC 12 frees braced-list temporaries early inside coroutines.
  boost::json::object log_fields;
  log_fields["message_id"] = message_id;
  log_fields["mail_error"] = make_error_code(code).message();
  log_fields["smtp_code"] = failure.smtp_code;
  log_fields["detail"] = failure.detail;
  log::warn("mail not sent", log_fields);
  Error err(temporary(code) ? app::Errc::unavailable : app::Errc::invalid_field);
  err.details["mail_error"] = make_error_code(code).message();
  err.details["smtp_code"] = failure.smtp_code;
  co_return err;
}

}  // namespace tk::mail
