#include "app/identity.hpp"

#include "app/errors.hpp"
#include "common/crypto/encoding.hpp"
#include "common/crypto/password.hpp"
#include "common/crypto/tokens.hpp"
#include "domain/rules.hpp"

namespace tk::app {

namespace {
std::string lower_ascii(std::string s) {
  for (auto& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}
}  // namespace

Task<domain::Account> Identity::sign_up(std::string email, std::string password, std::string name) {
  if (!domain::plausible_email(email)) {
    co_return Error{Errc::invalid_field, {{"field", "email"}}};
  }
  if (password.size() < 8 || password.size() > 128) {
    co_return Error{Errc::invalid_field, {{"field", "password"}}};
  }
  if (name.empty() || name.size() > 100) {
    co_return Error{Errc::invalid_field, {{"field", "name"}}};
  }
  auto hashed = co_await d_.shared->hasher->hash(std::move(password));
  if (!hashed) co_return Errc::unavailable;  // pool saturated
  co_return co_await d_.ports.accounts->create(crypto::new_id("acc_"), std::move(email),
                                               std::move(name), std::move(*hashed));
}

Task<NewSession> Identity::log_in(std::string email, std::string password) {
  auto acc = co_await d_.ports.accounts->find_by_email(lower_ascii(email));
  if (!acc) co_return std::move(acc).error();
  if (!acc->has_value()) {
    // Same work as a real check so response time does not reveal which e-mails exist.
    // A saturated hasher answers 503 for known and unknown e-mails alike.
    auto burned = co_await d_.shared->hasher->burn(std::move(password));
    if (!burned) co_return Errc::unavailable;
    co_return Errc::unauthenticated;
  }
  const auto& a = **acc;
  auto ok = co_await d_.shared->hasher->verify(a.password_hash, std::move(password));
  if (!ok) co_return Errc::unavailable;
  if (!*ok) co_return Errc::unauthenticated;
  std::string sid;
  auto token = crypto::new_session_token(*d_.shared->signer, &sid);
  Millis expires = d_.now() + d_.shared->settings.session_ttl_ms;
  // Built before the co_await: GCC 12 destroys brace-initialised temporaries twice when they
  // live across a suspension point.
  domain::Session session{a.id, a.num, expires};
  TK_CO_CHECK(
      co_await d_.ports.sessions->put(sid, std::move(session), d_.shared->settings.session_ttl_ms));
  co_return NewSession{std::move(token), expires};
}

Task<void> Identity::log_out(const Principal& p) {
  co_return co_await d_.ports.sessions->remove(p.session_id);
}

Task<Principal> Identity::authenticate(std::string_view bearer) {
  if (bearer.empty()) co_return Errc::unauthenticated;
  auto sid = crypto::session_id_from_token(*d_.shared->signer, bearer);
  if (!sid) co_return Errc::unauthenticated;  // forged: refused without a Redis round trip
  auto s = co_await d_.ports.sessions->get(*sid);
  if (!s) co_return std::move(s).error();
  if (!s->has_value() || (*s)->expires_at <= d_.now()) co_return Errc::unauthenticated;
  co_return Principal{(*s)->account_id, (*s)->account_num, std::move(*sid)};
}

Task<domain::Account> Identity::me(const Principal& p) {
  auto a = co_await d_.ports.accounts->find_by_id(p.account_id);
  if (!a) co_return std::move(a).error();
  if (!a->has_value()) co_return Errc::unauthenticated;
  co_return std::move(**a);
}

}  // namespace tk::app
