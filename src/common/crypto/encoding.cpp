#include "common/crypto/encoding.hpp"

#include <sodium.h>

#include <array>
#include <stdexcept>

namespace tk::crypto {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::uint8_t kInvalid = 0xff;

constexpr std::array<std::uint8_t, 256> make_reverse() {
  std::array<std::uint8_t, 256> t{};
  for (auto& v : t) v = kInvalid;
  for (int i = 0; i < 64; ++i)
    t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<std::uint8_t>(i);
  return t;
}
constexpr std::array<std::uint8_t, 256> kReverse = make_reverse();

void put_u64be(crypto_hash_sha256_state* st, std::uint64_t v) {
  unsigned char b[8];
  for (int i = 7; i >= 0; --i, v >>= 8) b[i] = static_cast<unsigned char>(v & 0xff);
  crypto_hash_sha256_update(st, b, sizeof b);
}

void update(crypto_hash_sha256_state* st, std::string_view s) {
  crypto_hash_sha256_update(st, reinterpret_cast<const unsigned char*>(s.data()), s.size());
}

std::string to_hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 0x0f];
  }
  return out;
}

}  // namespace

void init() {
  // A function-local static gives a thread-safe "once"; sodium_init returns 1 when already done.
  static const bool ok = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium initialisation failed");
    return true;
  }();
  (void)ok;
}

namespace detail {

void b64_encode_to(const unsigned char* in, std::size_t n, char* out) {
  std::size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const std::uint32_t v =
        (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8) | in[i + 2];
    *out++ = kAlphabet[(v >> 18) & 63];
    *out++ = kAlphabet[(v >> 12) & 63];
    *out++ = kAlphabet[(v >> 6) & 63];
    *out++ = kAlphabet[v & 63];
  }
  if (n - i == 1) {
    const std::uint32_t v = std::uint32_t{in[i]} << 16;
    *out++ = kAlphabet[(v >> 18) & 63];
    *out++ = kAlphabet[(v >> 12) & 63];
  } else if (n - i == 2) {
    const std::uint32_t v = (std::uint32_t{in[i]} << 16) | (std::uint32_t{in[i + 1]} << 8);
    *out++ = kAlphabet[(v >> 18) & 63];
    *out++ = kAlphabet[(v >> 12) & 63];
    *out++ = kAlphabet[(v >> 6) & 63];
  }
}

bool b64_well_formed(std::string_view text) {
  if (text.size() % 4 == 1) return false;
  for (char c : text) {
    if (kReverse[static_cast<unsigned char>(c)] == kInvalid) return false;
  }
  return true;
}

std::optional<std::size_t> b64_decode_to(std::string_view text, unsigned char* out) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::size_t o = 0;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const std::uint8_t v = kReverse[static_cast<unsigned char>(c)];
    if (v == kInvalid) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<unsigned char>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero: otherwise two texts would decode to the same bytes.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return o;
}

}  // namespace detail

std::string base64url_encode(std::string_view bytes) {
  std::string out(detail::b64_encoded_size(bytes.size()), '\0');
  detail::b64_encode_to(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                        out.data());
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string out(detail::b64_max_decoded_size(text.size()), '\0');
  auto n = detail::b64_decode_to(text, reinterpret_cast<unsigned char*>(out.data()));
  if (!n) return std::nullopt;
  out.resize(*n);
  return out;
}

std::string random_bytes(std::size_t n) {
  init();
  std::string out(n, '\0');
  randombytes_buf(out.data(), n);
  return out;
}

std::string new_id(std::string_view prefix) {
  init();
  unsigned char raw[16];
  randombytes_buf(raw, sizeof raw);
  std::string out(prefix.size() + detail::b64_encoded_size(sizeof raw), '\0');
  prefix.copy(out.data(), prefix.size());
  detail::b64_encode_to(raw, sizeof raw, out.data() + prefix.size());
  return out;
}

std::string hex_encode(std::string_view bytes) {
  return to_hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return to_hex(h, sizeof h);
}

std::string request_fingerprint(std::string_view method, std::string_view path,
                                std::string_view body) {
  // Streaming, so a large body is hashed without being copied. The tag lets the framing change
  // later without old and new fingerprints ever colliding.
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  update(&st, "tk.request-fingerprint.v1");
  for (std::string_view part : {method, path, body}) {
    put_u64be(&st, part.size());
    update(&st, part);
  }
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, h);
  return to_hex(h, sizeof h);
}

}  // namespace tk::crypto
