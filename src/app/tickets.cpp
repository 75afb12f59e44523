#include "app/tickets.hpp"

#include "common/crypto/errors.hpp"
#include "common/crypto/signer.hpp"
#include "common/crypto/tokens.hpp"

namespace tk::app {

Result<crypto::TicketCode> Tickets::verify_code(std::string_view code) const {
  const auto& s = *d_.shared;
  if (s.ticket_signer != nullptr && crypto::is_ed25519_code(code)) {
    auto t = s.ticket_signer->verify(code);
    if (!t) return Errc::not_found;
    return std::move(*t);
  }
  auto t = crypto::decode_ticket_code(*s.signer, code);
  if (!t) return Errc::not_found;
  return std::move(*t);
}

Task<DoorPass> Tickets::issue_door_token(std::string performance_id, Millis ttl_ms) {
  if (ttl_ms < 60'000 || ttl_ms > kMaxDoorTokenTtlMs) {
    co_return Error{Errc::out_of_range, {{"field", "ttl_seconds"}}};
  }
  TK_CO_TRY(auto p, co_await d_.ports.catalog_writer->get_performance(performance_id));
  if (!p) co_return Errc::not_found;
  DoorPass pass;
  pass.expires_at = d_.now() + ttl_ms;
  pass.token = crypto::encode(*d_.shared->signer, crypto::DoorToken{p->id, pass.expires_at});
  co_return pass;
}

Result<domain::Scanner> Tickets::door_scanner(std::string_view token) const {
  auto t = crypto::decode_door_token(*d_.shared->signer, token, d_.now());
  if (!t) return Errc::unauthenticated;
  return domain::Scanner{false, std::move(t->performance_id)};
}

Task<CheckedIn> Tickets::check_in(const domain::Scanner& who, std::string code) {
  TK_CO_TRY(auto c, verify_code(code));
  if (!domain::may_check_in(who, c.performance_id)) co_return Errc::forbidden;
  // A `retry` verdict cannot be answered truthfully from what was read; scan once more.
  for (int attempt = 0; attempt < 2; ++attempt) {
    TK_CO_TRY(auto r, co_await d_.ports.tickets->check_in(c.ticket_id, d_.now()));
    // The signature names the performance; a row of another one is not this code's ticket.
    if (r.found && r.performance_id != c.performance_id) co_return Errc::not_found;
    switch (domain::judge_scan(r)) {
      case domain::ScanVerdict::admitted:
        co_return CheckedIn{c.ticket_id, r.seat_id, r.performance_id, r.checked_in_at};
      case domain::ScanVerdict::already_checked_in:
        co_return Error{Errc::already_checked_in, {{"checked_in_at", r.checked_in_at}}};
      case domain::ScanVerdict::void_ticket:
        co_return Error{Errc::invalid_field, {{"field", "code"}, {"reason", "ticket_void"}}};
      case domain::ScanVerdict::unknown_ticket:
        co_return Errc::not_found;
      case domain::ScanVerdict::retry:
        break;
    }
  }
  co_return Errc::unavailable;
}

Task<Document> Tickets::pdf(const Principal& who, std::string ticket_id) {
  if (d_.ports.ticket_documents == nullptr) co_return Errc::unavailable;
  TK_CO_TRY(auto t, co_await d_.ports.tickets->find(ticket_id));
  if (!t || t->account_id != who.account_id) co_return Errc::not_found;
  co_return co_await d_.ports.ticket_documents->for_ticket(ticket_id);
}

std::vector<crypto::PublicKey> Tickets::checkin_keys() const {
  if (d_.shared->ticket_signer == nullptr) return {};
  return d_.shared->ticket_signer->public_keys();
}

}  // namespace tk::app
