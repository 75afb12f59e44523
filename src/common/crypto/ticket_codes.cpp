#include "common/crypto/ticket_codes.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/crypto/encoding.hpp"
#include "common/crypto/errors.hpp"
#include "common/crypto/keyring.hpp"

namespace tk::crypto {
namespace {

constexpr std::string_view kDomain = "tk-ticket-code-v1";
constexpr std::size_t kSigText = detail::b64_encoded_size(crypto_sign_BYTES);  // 86
constexpr unsigned char kTag = static_cast<unsigned char>(Purpose::ticket_code);
constexpr std::size_t kMaxField = 127;
// Three ids of at most 127 bytes plus tag and lengths.
constexpr std::size_t kMaxPayload = 1 + 3 * (1 + kMaxField);
constexpr std::size_t kMaxCode =
    KeyRing::kMaxKidLength + 1 + detail::b64_encoded_size(kMaxPayload) + 1 + kSigText;

std::string signed_message(std::string_view kid, std::string_view payload_text) {
  std::string m;
  m.reserve(kDomain.size() + 2 + kid.size() + payload_text.size());
  m.append(kDomain);
  m.push_back('\0');
  m.push_back(static_cast<char>(kid.size()));
  m.append(kid);
  m.append(payload_text);
  return m;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool is_ed25519_code(std::string_view code) {
  const auto d = code.rfind('.');
  return d != std::string_view::npos && code.size() - d - 1 == kSigText;
}

tk::Result<TicketCodeSigner> TicketCodeSigner::create(std::string_view seed, std::string kid,
                                                      std::vector<PublicKey> previous) {
  init();
  if (seed.size() != kSeedBytes || !valid_kid(kid)) return Errc::malformed;
  TicketCodeSigner s;
  PublicKey cur;
  cur.kid = std::move(kid);
  crypto_sign_seed_keypair(cur.key.data(), s.secret_.data(),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  s.keys_.push_back(std::move(cur));
  for (auto& p : previous) {
    if (!valid_kid(p.kid)) return Errc::malformed;
    for (const auto& k : s.keys_) {
      if (k.kid == p.kid) return Errc::malformed;
    }
    s.keys_.push_back(std::move(p));
  }
  return s;
}

TicketCodeSigner::TicketCodeSigner(TicketCodeSigner&& o) noexcept
    : secret_(o.secret_), keys_(std::move(o.keys_)) {
  sodium_memzero(o.secret_.data(), o.secret_.size());
}

TicketCodeSigner::~TicketCodeSigner() { sodium_memzero(secret_.data(), secret_.size()); }

std::string TicketCodeSigner::sign(const TicketCode& t) const {
  std::string raw(1, static_cast<char>(kTag));
  for (std::string_view f : {std::string_view(t.ticket_id), std::string_view(t.performance_id),
                             std::string_view(t.seat_id)}) {
    // Ids are ours (prefix + 22 chars): a longer one is a programming error.
    if (f.size() > kMaxField) throw std::length_error("ticket code field too long");
    raw.push_back(static_cast<char>(f.size()));
    raw.append(f);
  }
  const std::string_view kid = current_kid();
  std::string payload = base64url_encode(raw);
  const std::string msg = signed_message(kid, payload);
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(msg.data()),
                       msg.size(), secret_.data());
  std::string code;
  code.reserve(kid.size() + payload.size() + kSigText + 2);
  code.append(kid).append(".").append(payload).append(".");
  code.append(base64url_encode({reinterpret_cast<const char*>(sig), sizeof sig}));
  return code;
}

tk::Result<TicketCode> TicketCodeSigner::verify(std::string_view code) const {
  if (code.size() > kMaxCode) return Errc::malformed;
  const auto d1 = code.find('.');
  const auto d2 = d1 == std::string_view::npos ? d1 : code.find('.', d1 + 1);
  if (d2 == std::string_view::npos) return Errc::malformed;
  const std::string_view kid = code.substr(0, d1);
  const std::string_view payload = code.substr(d1 + 1, d2 - d1 - 1);
  const std::string_view sig_text = code.substr(d2 + 1);
  if (!valid_kid(kid) || payload.empty() || sig_text.size() != kSigText) return Errc::malformed;
  const auto sig = base64url_decode(sig_text);
  if (!sig || sig->size() != crypto_sign_BYTES || !detail::b64_well_formed(payload)) {
    return Errc::malformed;
  }
  const PublicKey* key = nullptr;
  for (const auto& k : keys_) {
    if (k.kid == kid) key = &k;
  }
  if (key == nullptr) return Errc::unknown_key;
  const std::string msg = signed_message(kid, payload);
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                  reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                                  key->key.data()) != 0) {
    return Errc::bad_signature;
  }
  // Authentic from here on: the checks below only guard against our own encoder's bugs.
  const auto raw = base64url_decode(payload);
  if (!raw || raw->empty() || static_cast<unsigned char>((*raw)[0]) != kTag) {
    return Errc::malformed;
  }
  std::string_view rest = std::string_view(*raw).substr(1);
  std::array<std::string, 3> f;
  for (auto& out : f) {
    if (rest.empty()) return Errc::malformed;
    const auto len = static_cast<unsigned char>(rest[0]);
    if (len > kMaxField || rest.size() < 1u + len) return Errc::malformed;
    out = std::string(rest.substr(1, len));
    rest.remove_prefix(1u + len);
  }
  if (!rest.empty()) return Errc::malformed;
  return TicketCode{std::move(f[0]), std::move(f[1]), std::move(f[2])};
}

std::optional<std::string> parse_key_bytes(std::string_view text, std::size_t bytes) {
  if (text.size() == 2 * bytes) {
    std::string out(bytes, '\0');
    for (std::size_t i = 0; i < bytes; ++i) {
      const int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out[i] = static_cast<char>(hi * 16 + lo);
    }
    return out;
  }
  auto b = base64url_decode(text);
  if (!b || b->size() != bytes) return std::nullopt;
  return b;
}

std::optional<std::vector<PublicKey>> parse_public_keys(std::string_view text) {
  std::vector<PublicKey> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto colon = item.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    PublicKey k;
    k.kid = std::string(item.substr(0, colon));
    auto bytes = parse_key_bytes(item.substr(colon + 1), crypto_sign_PUBLICKEYBYTES);
    if (!valid_kid(k.kid) || !bytes) return std::nullopt;
    std::copy(bytes->begin(), bytes->end(), k.key.begin());
    out.push_back(std::move(k));
  }
  return out;
}

std::string derive_dev_seed(std::string_view master_secret) {
  init();
  static constexpr std::string_view kLabel = "tk.ticket-code.dev-seed.v1";
  std::string seed(TicketCodeSigner::kSeedBytes, '\0');
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, nullptr, 0, seed.size());
  crypto_generichash_blake2b_update(&st, reinterpret_cast<const unsigned char*>(kLabel.data()),
                                    kLabel.size());
  crypto_generichash_blake2b_update(
      &st, reinterpret_cast<const unsigned char*>(master_secret.data()), master_secret.size());
  crypto_generichash_blake2b_final(&st, reinterpret_cast<unsigned char*>(seed.data()), seed.size());
  return seed;
}

}  // namespace tk::crypto
