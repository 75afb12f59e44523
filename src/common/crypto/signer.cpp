#include "common/crypto/signer.hpp"

#include <stdexcept>

#include "common/crypto/encoding.hpp"
#include "common/crypto/errors.hpp"

namespace tk::crypto {
namespace {

constexpr std::size_t kMacBytes = crypto_generichash_blake2b_BYTES;    // 32
constexpr std::size_t kMacText = detail::b64_encoded_size(kMacBytes);  // 43
static_assert(kMacText == 43);

std::size_t varint_size(std::size_t n) { return n < 0x80 ? 1 : 2; }

void mac_of(const crypto_generichash_blake2b_state& keyed, Purpose p, std::string_view kid,
            std::string_view payload_text, unsigned char out[kMacBytes]) {
  crypto_generichash_blake2b_state st = keyed;  // keying was paid once, in KeyRing::create
  const unsigned char head[2] = {static_cast<unsigned char>(p),
                                 static_cast<unsigned char>(kid.size())};
  crypto_generichash_blake2b_update(&st, head, sizeof head);
  crypto_generichash_blake2b_update(&st, reinterpret_cast<const unsigned char*>(kid.data()),
                                    kid.size());
  crypto_generichash_blake2b_update(
      &st, reinterpret_cast<const unsigned char*>(payload_text.data()), payload_text.size());
  crypto_generichash_blake2b_final(&st, out, kMacBytes);
  sodium_memzero(&st, sizeof st);  // the copied state is key material
}

// Constant-time comparison of the MAC we compute with the MAC text presented. Comparing texts
// (not decoded bytes) means a non-canonical spelling of a valid MAC is refused as well.
bool mac_matches(const crypto_generichash_blake2b_state& keyed, Purpose p, std::string_view kid,
                 std::string_view payload_text, std::string_view mac_text) {
  unsigned char mac[kMacBytes];
  mac_of(keyed, p, kid, payload_text, mac);
  char expect[kMacText];
  detail::b64_encode_to(mac, sizeof mac, expect);
  return sodium_memcmp(expect, mac_text.data(), kMacText) == 0;
}

// First payload byte (the purpose tag) straight from the text, without decoding the rest.
std::uint8_t first_byte(std::string_view text) {
  unsigned char b[3];
  const auto n = detail::b64_decode_to(text.substr(0, 4), b);
  return n && *n > 0 ? b[0] : 0;
}

}  // namespace

std::string Signer::sign(Purpose p, const std::vector<std::string>& fields) const {
  std::array<std::string_view, kMaxFields> views;
  if (fields.size() > kMaxFields) throw std::length_error("too many token fields");
  for (std::size_t i = 0; i < fields.size(); ++i) views[i] = fields[i];
  return sign_views(p, {views.data(), fields.size()});
}

std::string Signer::sign_views(Purpose p, std::span<const std::string_view> fields) const {
  if (!valid_purpose(static_cast<std::uint8_t>(p))) throw std::invalid_argument("bad purpose");
  if (fields.size() > kMaxFields) throw std::length_error("too many token fields");
  std::size_t raw_size = 1;
  for (auto f : fields) raw_size += varint_size(f.size()) + f.size();
  if (raw_size > kMaxPayloadBytes) throw std::length_error("token payload too large");

  // Raw payload on the stack; the token string is the only allocation.
  unsigned char raw[kMaxPayloadBytes];
  std::size_t n = 0;
  raw[n++] = static_cast<unsigned char>(p);
  for (auto f : fields) {
    if (f.size() < 0x80) {
      raw[n++] = static_cast<unsigned char>(f.size());
    } else {
      raw[n++] = static_cast<unsigned char>(0x80 | (f.size() & 0x7f));
      raw[n++] = static_cast<unsigned char>(f.size() >> 7);
    }
    f.copy(reinterpret_cast<char*>(raw + n), f.size());
    n += f.size();
  }

  const KeyRing::Key& key = keys_.current();
  const std::size_t payload_len = detail::b64_encoded_size(n);
  std::string token(key.kid.size() + 1 + payload_len + 1 + kMacText, '\0');
  char* out = token.data();
  key.kid.copy(out, key.kid.size());
  out += key.kid.size();
  *out++ = '.';
  detail::b64_encode_to(raw, n, out);
  const std::string_view payload_text(out, payload_len);
  out += payload_len;
  *out++ = '.';
  unsigned char mac[kMacBytes];
  mac_of(key.state(p), p, key.kid, payload_text, mac);
  detail::b64_encode_to(mac, sizeof mac, out);
  return token;
}

tk::Status Signer::verify_into(Purpose p, std::string_view token, TokenFields& out) const {
  out.count = 0;
  // Cheap syntax checks first: garbage is refused before any hashing.
  if (token.size() > kMaxTokenLength) return Errc::malformed;
  const auto d1 = token.find('.');
  if (d1 == std::string_view::npos) return Errc::malformed;
  const auto d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return Errc::malformed;
  const std::string_view kid = token.substr(0, d1);
  const std::string_view payload = token.substr(d1 + 1, d2 - d1 - 1);
  const std::string_view mac = token.substr(d2 + 1);
  if (!valid_kid(kid) || payload.size() < 2 || mac.size() != kMacText ||
      !detail::b64_well_formed(payload) || !detail::b64_well_formed(mac) ||
      detail::b64_max_decoded_size(payload.size()) > kMaxPayloadBytes) {
    return Errc::malformed;
  }
  if (!valid_purpose(static_cast<std::uint8_t>(p))) return Errc::wrong_purpose;

  const KeyRing::Key* key = keys_.find(kid);
  if (key == nullptr) return Errc::unknown_key;

  if (!mac_matches(key->state(p), p, kid, payload, mac)) {
    // Say "wrong purpose" only for a token that is genuine under its own claimed purpose; the
    // claim costs one more HMAC and only on this failure path.
    const std::uint8_t claimed = first_byte(payload);
    if (claimed != static_cast<std::uint8_t>(p) && valid_purpose(claimed) &&
        mac_matches(key->state(static_cast<Purpose>(claimed)), static_cast<Purpose>(claimed), kid,
                    payload, mac)) {
      return Errc::wrong_purpose;
    }
    return Errc::bad_signature;
  }

  // Authentic from here on; the checks below only guard against our own encoder's bugs.
  auto* buf = reinterpret_cast<unsigned char*>(out.buf.data());
  const auto n = detail::b64_decode_to(payload, buf);
  if (!n || *n < 1 || buf[0] != static_cast<unsigned char>(p)) return Errc::malformed;
  std::size_t pos = 1;
  while (pos < *n) {
    std::size_t len = buf[pos++];
    if (len & 0x80) {
      if (pos >= *n || buf[pos] == 0) return Errc::malformed;  // truncated or non-minimal
      len = (len & 0x7f) | (std::size_t{buf[pos++]} << 7);
    }
    if (len > *n - pos || out.count == kMaxFields) return Errc::malformed;
    out.items[out.count++] = std::string_view(out.buf.data() + pos, len);
    pos += len;
  }
  return {};
}

tk::Result<std::vector<std::string>> Signer::verify(Purpose p, std::string_view token) const {
  TokenFields f;
  if (auto s = verify_into(p, token, f); !s) return std::move(s).error();
  std::vector<std::string> v;
  v.reserve(f.count);
  for (auto item : f.view()) v.emplace_back(item);
  return v;
}

}  // namespace tk::crypto
