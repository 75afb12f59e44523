// Ed25519 ticket codes: round trip, tampering, unknown kids, rotation, offline verification with
// nothing but the published public key, and door tokens.
#include "common/crypto/ticket_codes.hpp"

#include <gtest/gtest.h>

#include "common/crypto/encoding.hpp"
#include "common/crypto/errors.hpp"
#include "common/crypto/keyring.hpp"
#include "common/crypto/signer.hpp"

namespace tk::crypto {
namespace {

std::string seed_of(char c) { return std::string(TicketCodeSigner::kSeedBytes, c); }

TicketCodeSigner make(std::string seed, std::string kid, std::vector<PublicKey> prev = {}) {
  auto s = TicketCodeSigner::create(seed, std::move(kid), std::move(prev));
  if (!s) throw std::runtime_error("signer");
  return std::move(*s);
}

const TicketCode kCode{"tkt_0123456789abcdefghijkl", "prf_0123456789abcdefghijkl",
                       "seat_0123456789abcdefghijkl"};

TEST(TicketCodes, RoundTrip) {
  const auto s = make(seed_of('a'), "e1");
  const std::string code = s.sign(kCode);
  EXPECT_TRUE(is_ed25519_code(code));
  EXPECT_EQ(code.substr(0, 3), "e1.");
  auto back = s.verify(code);
  ASSERT_TRUE(back.ok()) << back.code().message();
  EXPECT_EQ(*back, kCode);
  // Deterministic (Ed25519 is): the same ticket always gets the same code.
  EXPECT_EQ(code, s.sign(kCode));
  // Short enough for a QR code a phone scans at arm's length.
  EXPECT_LT(code.size(), 230u);
}

TEST(TicketCodes, EveryAlteredCharacterFails) {
  const auto s = make(seed_of('a'), "e1");
  const std::string code = s.sign(kCode);
  for (std::size_t i = 0; i < code.size(); ++i) {
    for (char b : {'A', 'z', '0', '.', '_'}) {
      if (code[i] == b) continue;
      std::string t = code;
      t[i] = b;
      ASSERT_FALSE(s.verify(t).ok()) << "position " << i << " -> " << b;
    }
  }
  for (std::size_t n = 0; n < code.size(); ++n) ASSERT_FALSE(s.verify(code.substr(0, n)).ok());
  EXPECT_EQ(s.verify(code + "A").code(), Errc::malformed);
}

TEST(TicketCodes, OtherKeysAndKids) {
  const auto a = make(seed_of('a'), "e1");
  const auto b = make(seed_of('b'), "e1");
  const auto c = make(seed_of('a'), "e2");
  const std::string code = a.sign(kCode);
  EXPECT_EQ(b.verify(code).code(), Errc::bad_signature);  // same kid, another key
  EXPECT_EQ(c.verify(code).code(), Errc::unknown_key);    // kid not configured
  // The kid is signed too: relabelling a code with another configured kid fails.
  std::string relabelled = "e2" + code.substr(2);
  EXPECT_EQ(c.verify(relabelled).code(), Errc::bad_signature);
  EXPECT_EQ(a.verify("garbage").code(), Errc::malformed);
  EXPECT_EQ(a.verify("").code(), Errc::malformed);
}

TEST(TicketCodes, RotationKeepsOldCodesVerifying) {
  const auto old_signer = make(seed_of('a'), "e1");
  const std::string old_code = old_signer.sign(kCode);
  const PublicKey old_pub = old_signer.public_keys().front();
  const auto rotated = make(seed_of('b'), "e2", {old_pub});
  ASSERT_EQ(rotated.public_keys().size(), 2u);
  EXPECT_EQ(rotated.public_keys().front().kid, "e2");  // current first
  EXPECT_TRUE(rotated.verify(old_code).ok());
  const std::string new_code = rotated.sign(kCode);
  EXPECT_EQ(new_code.substr(0, 3), "e2.");
  EXPECT_TRUE(rotated.verify(new_code).ok());
  // Once the old key is dropped from configuration its codes no longer verify.
  const auto retired = make(seed_of('b'), "e2");
  EXPECT_EQ(retired.verify(old_code).code(), Errc::unknown_key);
  // A duplicate kid is a configuration error.
  EXPECT_FALSE(TicketCodeSigner::create(seed_of('c'), "e1", {old_pub}).ok());
  EXPECT_FALSE(TicketCodeSigner::create("short", "e1").ok());
  EXPECT_FALSE(TicketCodeSigner::create(seed_of('c'), "bad kid!").ok());
}

// What a door device does offline: only the published key (base64url) and libsodium.
TEST(TicketCodes, VerifiableWithThePublishedKeyAlone) {
  const auto s = make(seed_of('a'), "e1");
  const std::string code = s.sign(kCode);
  const auto& pk = s.public_keys().front().key;
  const std::string published =
      base64url_encode({reinterpret_cast<const char*>(pk.data()), pk.size()});
  const auto key = base64url_decode(published);
  ASSERT_TRUE(key && key->size() == 32);
  const auto d1 = code.find('.'), d2 = code.rfind('.');
  const std::string msg = std::string("tk-ticket-code-v1") + '\0' + '\x02' + "e1" +
                          code.substr(d1 + 1, d2 - d1 - 1);
  const auto sig = base64url_decode(code.substr(d2 + 1));
  ASSERT_TRUE(sig && sig->size() == 64);
  EXPECT_EQ(crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                        reinterpret_cast<const unsigned char*>(msg.data()),
                                        msg.size(),
                                        reinterpret_cast<const unsigned char*>(key->data())),
            0);
}

TEST(TicketCodes, ConfigurationParsing) {
  const std::string hex(64, 'a');
  auto h = parse_key_bytes(hex);
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, std::string(32, '\xaa'));
  auto b = parse_key_bytes(base64url_encode(std::string(32, '\x01')));
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, std::string(32, '\x01'));
  EXPECT_FALSE(parse_key_bytes("too-short"));
  EXPECT_FALSE(parse_key_bytes(std::string(63, 'a') + "g"));

  const auto s = make(seed_of('a'), "e1");
  const auto& pk = s.public_keys().front().key;
  const std::string text =
      "e0:" + base64url_encode({reinterpret_cast<const char*>(pk.data()), pk.size()});
  auto keys = parse_public_keys(text);
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].kid, "e0");
  EXPECT_EQ((*keys)[0].key, pk);
  EXPECT_TRUE(parse_public_keys("") && parse_public_keys("")->empty());
  EXPECT_FALSE(parse_public_keys("e0"));
  EXPECT_FALSE(parse_public_keys("e0:xyz"));
  // The development seed is stable for a secret and differs between secrets.
  EXPECT_EQ(derive_dev_seed("secret-one"), derive_dev_seed("secret-one"));
  EXPECT_NE(derive_dev_seed("secret-one"), derive_dev_seed("secret-two"));
  EXPECT_EQ(derive_dev_seed("x").size(), 32u);
}

TEST(DoorTokens, ScopedAndExpiring) {
  auto ring = KeyRing::create({{"k1", "door-test-secret-0123456789abcdefghij"}}, "k1");
  ASSERT_TRUE(ring);
  const Signer s(std::move(*ring));
  const DoorToken t{"prf_abc", 1'000'000};
  const std::string tok = encode(s, t);
  auto back = decode_door_token(s, tok, 999'999);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
  EXPECT_EQ(decode_door_token(s, tok, 1'000'000).code(), Errc::expired);
  // Other tokens of the same key are not door tokens.
  const std::string access = encode(s, AccessToken{"prf_abc", "acc_x", 1, 2'000'000});
  EXPECT_EQ(decode_door_token(s, access, 0).code(), Errc::wrong_purpose);
  std::string altered = tok;
  altered[altered.size() - 1] = altered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(decode_door_token(s, altered, 0).ok());
}

}  // namespace
}  // namespace tk::crypto
