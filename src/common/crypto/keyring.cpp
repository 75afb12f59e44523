#include "common/crypto/keyring.hpp"

#include <bitset>

#include "common/crypto/encoding.hpp"
#include "common/crypto/errors.hpp"

namespace tk::crypto {
namespace {

constexpr std::size_t kMinDistinctBytes = 8;

bool weak(std::string_view secret) {
  if (secret.size() < KeyRing::kMinSecretBytes) return true;
  std::bitset<256> seen;
  for (unsigned char c : secret) seen.set(c);
  return seen.count() < kMinDistinctBytes;
}

void hmac(const unsigned char* key, std::size_t key_len, const unsigned char* msg,
          std::size_t msg_len, unsigned char out[crypto_auth_hmacsha256_BYTES]) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, key_len);
  crypto_auth_hmacsha256_update(&st, msg, msg_len);
  crypto_auth_hmacsha256_final(&st, out);
}

// HKDF-SHA256 (RFC 5869) with one output block: extract a uniform PRK from the textual master
// secret, then expand it with an info naming the purpose and kid, so each key is independent and
// learning one (say, a leaked ticket-code key) reveals nothing about the others.
void derive(std::string_view master, Purpose p, std::string_view kid,
            unsigned char out[crypto_auth_hmacsha256_BYTES]) {
  static constexpr std::string_view kSalt = "tk.keyring.salt.v1";
  static constexpr std::string_view kLabel = "tk.token-key.v1";
  unsigned char prk[crypto_auth_hmacsha256_BYTES];
  hmac(reinterpret_cast<const unsigned char*>(kSalt.data()), kSalt.size(),
       reinterpret_cast<const unsigned char*>(master.data()), master.size(), prk);
  std::string info;
  info.reserve(kLabel.size() + 3 + kid.size());
  info.append(kLabel);
  info.push_back('\0');
  info.push_back(static_cast<char>(p));
  info.push_back(static_cast<char>(kid.size()));
  info.append(kid);
  info.push_back('\x01');  // HKDF block counter T(1)
  hmac(prk, sizeof prk, reinterpret_cast<const unsigned char*>(info.data()), info.size(), out);
  sodium_memzero(prk, sizeof prk);
}

}  // namespace

bool valid_kid(std::string_view kid) {
  if (kid.empty() || kid.size() > KeyRing::kMaxKidLength) return false;
  for (char c : kid) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

tk::Result<KeyRing> KeyRing::create(std::vector<std::pair<std::string, std::string>> secrets,
                                    std::string current_kid) {
  init();
  // Our copies of the secrets (moved in) are wiped on every way out; the caller's are theirs.
  struct Wipe {
    std::vector<std::pair<std::string, std::string>>& v;
    ~Wipe() {
      for (auto& kv : v) sodium_memzero(kv.second.data(), kv.second.size());
    }
  } wipe{secrets};
  KeyRing ring;
  ring.keys_.reserve(secrets.size());
  bool found_current = false;
  for (auto& [kid, secret] : secrets) {
    if (!valid_kid(kid) || ring.find(kid) != nullptr) return Errc::malformed;
    if (weak(secret)) return Errc::weak_secret;
    Key& key = ring.keys_.emplace_back();
    key.kid = kid;
    for (std::size_t i = 0; i < kPurposeCount; ++i) {
      unsigned char k[crypto_auth_hmacsha256_BYTES];
      derive(secret, static_cast<Purpose>(i + 1), kid, k);
      crypto_generichash_blake2b_init(&key.mac[i], k, sizeof k, crypto_generichash_blake2b_BYTES);
      sodium_memzero(k, sizeof k);
    }
    if (kid == current_kid) {
      ring.current_ = ring.keys_.size() - 1;
      found_current = true;
    }
  }
  if (!found_current) return Errc::unknown_key;
  return ring;
}

}  // namespace tk::crypto
