#include "app/identity.hpp"

#include <algorithm>

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

namespace {
// A slot for one password hash of `client`, or Errc::rate_limited. No bound configured: an empty
// optional that holds nothing.
Result<std::optional<InFlightLimit::Permit>> hash_slot(const Shared& s, const std::string& client) {
  if (s.hashes_per_client == nullptr) return std::optional<InFlightLimit::Permit>{};
  auto permit = s.hashes_per_client->try_acquire(client);
  if (!permit) return Errc::rate_limited;
  return std::optional<InFlightLimit::Permit>(std::move(permit));
}
}  // namespace

Task<domain::Account> Identity::sign_up(std::string email, std::string password, std::string name,
                                        std::string client) {
  auto slot = hash_slot(*d_.shared, client);
  if (!slot) co_return std::move(slot).error();
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

Task<NewSession> Identity::log_in(std::string email, std::string password, std::string client) {
  // Refused before the account is even looked up: an address over its bound costs nothing.
  auto slot = hash_slot(*d_.shared, client);
  if (!slot) co_return std::move(slot).error();
  auto acc = co_await d_.ports.accounts->find_by_email(lower_ascii(email));
  if (!acc) co_return std::move(acc).error();
  if (!acc->has_value()) {
    // As long as a real check so response time does not reveal which e-mails exist, but never
    // at a real log-in's expense (the hasher's spare lane or a timer). A saturated hasher answers
    // 503 for known and unknown e-mails alike.
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
  Millis now = d_.now();
  Millis expires = now + d_.shared->settings.session_ttl_ms;
  // Built before the co_await: GCC 12 destroys brace-initialised temporaries twice when they
  // live across a suspension point.
  domain::Session session{a.id, a.num, expires};
  // PostgreSQL is the record; Redis only caches it, so a Redis failure here costs one PostgreSQL
  // read on the session's next request, not the log-in.
  TK_CO_CHECK(co_await d_.ports.session_records->create(sid, session, now));
  (void)co_await d_.ports.sessions->put(sid, std::move(session),
                                        d_.shared->settings.session_ttl_ms);
  co_return NewSession{std::move(token), expires};
}

Task<void> Identity::log_out(const Principal& p) {
  // The record first: once it is gone no cache miss can bring the session back. The tombstone
  // then stops the cached copy, and a fill racing with this log-out (SET NX) cannot overwrite it.
  TK_CO_CHECK(co_await d_.ports.session_records->remove(p.session_id));
  Millis left = p.session_expires_at - d_.now();
  co_return co_await d_.ports.sessions->revoke(p.session_id, std::max<Millis>(1, left));
}

Task<Principal> Identity::authenticate(std::string_view bearer) {
  using State = CachedSession::State;
  if (bearer.empty()) co_return Errc::unauthenticated;
  auto sid = crypto::session_id_from_token(*d_.shared->signer, bearer);
  if (!sid) co_return Errc::unauthenticated;  // forged: refused without a Redis round trip
  auto cached = co_await d_.ports.sessions->get(*sid);
  Millis now = d_.now();
  if (cached && cached->state == State::revoked) co_return Errc::unauthenticated;
  if (cached && cached->state == State::found) {
    if (cached->session.expires_at <= now) co_return Errc::unauthenticated;
    co_return Principal{std::move(cached->session.account_id), cached->session.account_num,
                        std::move(*sid), cached->session.expires_at};
  }
  // Not in Redis (flushed, restarted, evicted) or Redis failed: the record decides. Only a
  // correctly signed token gets this far, so forged tokens cannot turn into PostgreSQL reads.
  auto rec = co_await d_.ports.session_records->find(*sid);
  if (!rec) co_return std::move(rec).error();
  if (!rec->has_value() || (*rec)->expires_at <= now) co_return Errc::unauthenticated;
  domain::Session s = std::move(**rec);
  if (cached) {  // Redis answered "missing": fill it, never over a tombstone (best effort)
    domain::Session copy = s;
    (void)co_await d_.ports.sessions->fill(*sid, std::move(copy), s.expires_at - now);
  }
  co_return Principal{std::move(s.account_id), s.account_num, std::move(*sid), s.expires_at};
}

Task<domain::Account> Identity::me(const Principal& p) {
  auto a = co_await d_.ports.accounts->find_by_id(p.account_id);
  if (!a) co_return std::move(a).error();
  if (!a->has_value()) co_return Errc::unauthenticated;
  co_return std::move(**a);
}

}  // namespace tk::app
