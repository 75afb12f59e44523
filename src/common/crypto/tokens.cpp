#include "common/crypto/tokens.hpp"

#include <array>
#include <optional>

#include "common/crypto/encoding.hpp"
#include "common/crypto/errors.hpp"

namespace tk::crypto {
namespace {

// Minimal big-endian two's-complement bytes of the value as uint64: 0 -> "", 300 -> "\x01\x2c";
// a millisecond timestamp takes 6 bytes instead of 13 decimal digits.
struct Num {
  std::array<char, 8> b;
  std::size_t n = 0;
  explicit Num(std::int64_t v) {
    auto u = static_cast<std::uint64_t>(v);
    std::size_t len = 0;
    for (auto t = u; t != 0; t >>= 8) ++len;
    for (std::size_t i = 0; i < len; ++i) b[len - 1 - i] = static_cast<char>((u >> (8 * i)) & 0xff);
    n = len;
  }
  std::string_view view() const { return {b.data(), n}; }
};

std::optional<std::int64_t> parse_num(std::string_view f) {
  if (f.size() > 8 || (!f.empty() && f[0] == '\0')) return std::nullopt;  // one spelling only
  std::uint64_t u = 0;
  for (char c : f) u = (u << 8) | static_cast<unsigned char>(c);
  return static_cast<std::int64_t>(u);
}

}  // namespace

std::string encode(const Signer& s, const QueueTicket& t) {
  const Num pos(t.position), at(t.issued_at), entry(t.entry);
  const std::string_view f[] = {t.performance_id, pos.view(), t.account_id, at.view(),
                                entry.view()};
  return s.sign_views(Purpose::queue_ticket, std::span(f, t.entry > 0 ? 5 : 4));
}

tk::Result<QueueTicketView> decode_queue_ticket(const Signer& s, std::string_view token,
                                                TokenFields& f) {
  if (auto st = s.verify_into(Purpose::queue_ticket, token, f); !st) return std::move(st).error();
  if (f.size() != 4 && f.size() != 5) return Errc::malformed;
  auto pos = parse_num(f[1]);
  auto at = parse_num(f[3]);
  if (!pos || !at) return Errc::malformed;
  std::int64_t entry = 0;
  if (f.size() == 5) {
    auto e = parse_num(f[4]);
    // A pre-queue ticket: an entry and no position yet.
    if (!e || *e <= 0 || *pos != 0) return Errc::malformed;
    entry = *e;
  }
  return QueueTicketView{f[0], *pos, f[2], *at, entry};
}

tk::Result<QueueTicket> decode_queue_ticket(const Signer& s, std::string_view token) {
  TokenFields f;
  auto v = decode_queue_ticket(s, token, f);
  if (!v) return std::move(v).error();
  return QueueTicket{std::string(v->performance_id), v->position, std::string(v->account_id),
                     v->issued_at, v->entry};
}

std::string encode(const Signer& s, const AccessToken& t) {
  const Num pos(t.position), exp(t.expires_at);
  const std::string_view f[] = {t.performance_id, t.account_id, pos.view(), exp.view()};
  return s.sign_views(Purpose::access, f);
}

tk::Result<AccessToken> decode_access_token(const Signer& s, std::string_view token, Millis now) {
  TokenFields f;
  if (auto st = s.verify_into(Purpose::access, token, f); !st) return std::move(st).error();
  if (f.size() != 4) return Errc::malformed;
  auto pos = parse_num(f[2]);
  auto exp = parse_num(f[3]);
  if (!pos || !exp) return Errc::malformed;
  if (now >= *exp) return Errc::expired;
  return AccessToken{std::string(f[0]), std::string(f[1]), *pos, *exp};
}

std::string encode(const Signer& s, const TicketCode& t) {
  const std::string_view f[] = {t.ticket_id, t.performance_id, t.seat_id};
  return s.sign_views(Purpose::ticket_code, f);
}

tk::Result<TicketCode> decode_ticket_code(const Signer& s, std::string_view token) {
  TokenFields f;
  if (auto st = s.verify_into(Purpose::ticket_code, token, f); !st) return std::move(st).error();
  if (f.size() != 3) return Errc::malformed;
  return TicketCode{std::string(f[0]), std::string(f[1]), std::string(f[2])};
}

std::string encode(const Signer& s, const DoorToken& t) {
  const Num exp(t.expires_at);
  const std::string_view f[] = {t.performance_id, exp.view()};
  return s.sign_views(Purpose::door, f);
}

tk::Result<DoorToken> decode_door_token(const Signer& s, std::string_view token, Millis now) {
  TokenFields f;
  if (auto st = s.verify_into(Purpose::door, token, f); !st) return std::move(st).error();
  if (f.size() != 2) return Errc::malformed;
  auto exp = parse_num(f[1]);
  if (!exp) return Errc::malformed;
  if (now >= *exp) return Errc::expired;
  return DoorToken{std::string(f[0]), *exp};
}

std::string encode(const Signer& s, const PowChallenge& t) {
  const Num diff(t.difficulty), exp(t.expires_at);
  const std::string_view f[] = {t.id, t.performance_id, t.account_id, diff.view(), exp.view()};
  return s.sign_views(Purpose::pow_challenge, f);
}

tk::Result<PowChallenge> decode_pow_challenge(const Signer& s, std::string_view token, Millis now) {
  TokenFields f;
  if (auto st = s.verify_into(Purpose::pow_challenge, token, f); !st) return std::move(st).error();
  if (f.size() != 5 || f[0].empty()) return Errc::malformed;
  auto diff = parse_num(f[3]);
  auto exp = parse_num(f[4]);
  if (!diff || !exp || *diff < 0 || *diff > 256) return Errc::malformed;
  if (now >= *exp) return Errc::expired;
  return PowChallenge{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                      static_cast<int>(*diff), *exp};
}

std::string new_session_token(const Signer& s, std::string* session_id_out) {
  std::string id = new_id("ses_");
  const std::string_view f[] = {id};
  std::string token = s.sign_views(Purpose::session, f);
  if (session_id_out != nullptr) *session_id_out = std::move(id);
  return token;
}

tk::Result<std::string> session_id_from_token(const Signer& s, std::string_view token) {
  TokenFields f;
  if (auto st = s.verify_into(Purpose::session, token, f); !st) return std::move(st).error();
  if (f.size() != 1 || f[0].empty()) return Errc::malformed;
  return std::string(f[0]);
}

}  // namespace tk::crypto
