#include "common/crypto/signer.hpp"

#include <gtest/gtest.h>

#include <random>

#include "common/crypto/encoding.hpp"
#include "common/crypto/errors.hpp"
#include "test_keys.hpp"

namespace tk::crypto {
namespace {

using testing::kSecretA;
using testing::kSecretB;
using testing::make_signer;
using testing::signer_a;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::vector<std::string> parts(const std::string& token) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    auto d = token.find('.', start);
    out.push_back(token.substr(start, d - start));
    if (d == std::string::npos) return out;
    start = d + 1;
  }
}

TEST(Signer, RoundTripsFields) {
  const Signer s = signer_a();
  const std::vector<std::vector<std::string>> cases = {
      {},
      {""},
      {"perf_1", "42", "acc_9"},
      {std::string("a.b\0c", 5), "", std::string(200, 'x'), "\xff\xfe"},
      std::vector<std::string>(kMaxFields, "f"),
  };
  for (const auto& fields : cases) {
    const std::string token = s.sign(Purpose::queue_ticket, fields);
    auto back = s.verify(Purpose::queue_ticket, token);
    ASSERT_TRUE(back.ok()) << token << " " << back.code().message();
    EXPECT_EQ(*back, fields);
  }
}

TEST(Signer, FormatIsKidPayloadMacAndUrlSafe) {
  const Signer s = signer_a();
  const std::string token = s.sign(Purpose::access, {"prf_x", "acc_y"});
  const auto p = parts(token);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "k1");
  EXPECT_EQ(p[2].size(), 43u);  // 32-byte keyed BLAKE2b
  auto payload = base64url_decode(p[1]);
  ASSERT_TRUE(payload.has_value());
  EXPECT_EQ((*payload)[0], static_cast<char>(Purpose::access));
  for (char c : token) EXPECT_TRUE(c == '.' || kAlphabet.find(c) != std::string_view::npos) << c;
  // Deterministic: same key, purpose and fields give the same token.
  EXPECT_EQ(token, s.sign(Purpose::access, {"prf_x", "acc_y"}));
}

TEST(Signer, AnyAlteredCharacterOfPayloadOrMacIsBadSignature) {
  const Signer s = signer_a();
  const std::string token = s.sign(Purpose::queue_ticket, {"prf_abc", "\x01\x02", "acc_def"});
  const std::size_t first = token.find('.') + 1;
  std::size_t checked = 0;
  for (std::size_t i = first; i < token.size(); ++i) {
    if (token[i] == '.') continue;
    for (char c : kAlphabet) {
      if (c == token[i]) continue;
      std::string t = token;
      t[i] = c;
      auto r = s.verify(Purpose::queue_ticket, t);
      ASSERT_FALSE(r.ok()) << "accepted altered token at " << i;
      ASSERT_EQ(r.code(), Errc::bad_signature) << i << " -> " << c << ": " << r.code().message();
      ++checked;
    }
  }
  EXPECT_EQ(checked, (token.size() - first - 1) * 63);  // every char of payload and mac
}

TEST(Signer, AnyAlteredByteTruncationOrExtensionIsRefused) {
  const Signer s = signer_a();
  const std::string token = s.sign(Purpose::session, {"ses_abcdef"});
  for (std::size_t i = 0; i < token.size(); ++i) {
    for (int b = 0; b < 256; ++b) {
      if (static_cast<char>(b) == token[i]) continue;
      std::string t = token;
      t[i] = static_cast<char>(b);
      ASSERT_FALSE(s.verify(Purpose::session, t).ok()) << i << " " << b;
    }
    ASSERT_FALSE(s.verify(Purpose::session, token.substr(0, i)).ok()) << i;
  }
  EXPECT_FALSE(s.verify(Purpose::session, token + "A").ok());
  EXPECT_FALSE(s.verify(Purpose::session, token + ".").ok());
  EXPECT_FALSE(s.verify(Purpose::session, "x" + token).ok());
  EXPECT_TRUE(s.verify(Purpose::session, token).ok());
}

TEST(Signer, OtherPurposeIsRefused) {
  const Signer s = signer_a();
  const Purpose all[] = {Purpose::queue_ticket, Purpose::access, Purpose::session,
                         Purpose::ticket_code};
  for (Purpose made : all) {
    const std::string token = s.sign(made, {"prf_1", "acc_1"});
    for (Purpose used : all) {
      auto r = s.verify(used, token);
      if (made == used) {
        EXPECT_TRUE(r.ok());
      } else {
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.code(), Errc::wrong_purpose);
      }
    }
  }
}

TEST(Signer, RelabelledPurposeIsBadSignatureNotWrongPurpose) {
  // An attacker rewrites the purpose tag inside a genuine queue ticket to "access": the MAC no
  // longer matches under either key.
  const Signer s = signer_a();
  const auto p = parts(s.sign(Purpose::queue_ticket, {"prf_1", "acc_1"}));
  auto raw = *base64url_decode(p[1]);
  raw[0] = static_cast<char>(Purpose::access);
  const std::string forged = p[0] + "." + base64url_encode(raw) + "." + p[2];
  EXPECT_EQ(s.verify(Purpose::access, forged).code(), Errc::bad_signature);
  EXPECT_EQ(s.verify(Purpose::queue_ticket, forged).code(), Errc::bad_signature);
}

TEST(Signer, KeysAreIndependentPerSecret) {
  const Signer a = make_signer({{"k1", kSecretA}}, "k1");
  const Signer b = make_signer({{"k1", kSecretB}}, "k1");
  const std::string token = a.sign(Purpose::access, {"x"});
  EXPECT_EQ(b.verify(Purpose::access, token).code(), Errc::bad_signature);
}

TEST(Signer, UnknownKid) {
  const Signer old_only = make_signer({{"old", kSecretA}}, "old");
  const Signer new_only = make_signer({{"new", kSecretB}}, "new");
  const std::string token = old_only.sign(Purpose::access, {"x"});
  EXPECT_EQ(new_only.verify(Purpose::access, token).code(), Errc::unknown_key);
}

TEST(Signer, Rotation) {
  const Signer before = make_signer({{"old", kSecretA}}, "old");
  const Signer during = make_signer({{"old", kSecretA}, {"new", kSecretB}}, "new");
  const Signer after = make_signer({{"new", kSecretB}}, "new");
  const std::string old_token = before.sign(Purpose::queue_ticket, {"prf_1"});
  const std::string new_token = during.sign(Purpose::queue_ticket, {"prf_1"});
  EXPECT_EQ(parts(new_token)[0], "new");
  EXPECT_TRUE(during.verify(Purpose::queue_ticket, old_token).ok());
  EXPECT_TRUE(during.verify(Purpose::queue_ticket, new_token).ok());
  EXPECT_TRUE(after.verify(Purpose::queue_ticket, new_token).ok());
  EXPECT_EQ(after.verify(Purpose::queue_ticket, old_token).code(), Errc::unknown_key);
}

TEST(Signer, MalformedInputs) {
  const Signer s = signer_a();
  const std::string good = s.sign(Purpose::access, {"x"});
  const auto p = parts(good);
  const std::string cases[] = {
      "",
      ".",
      "..",
      "k1",
      "k1.",
      "k1..",
      "nodots",
      "k1." + p[1],                                    // no mac
      "k1.." + p[2],                                   // empty payload
      "k1." + p[1] + "." + p[2] + "." + p[2],          // extra part
      "k1." + p[1] + "." + p[2].substr(1),             // short mac
      "k1." + p[1] + "." + p[2] + "A",                 // long mac
      "k1.@@@@." + p[2],                               // bad base64 payload
      "k1." + p[1] + "=." + p[2],                      // padding
      "k1." + p[1] + "." + std::string(43, '*'),       // bad base64 mac
      "k!." + p[1] + "." + p[2],                       // bad kid
      std::string(40, 'k') + "." + p[1] + "." + p[2],  // kid too long
      "k1." + std::string(5000, 'A') + "." + p[2],     // payload too big
      std::string(1 << 20, 'A'),                       // huge
      std::string(1 << 20, '.'),
      "k1." + p[1] + "\n." + p[2],
      std::string("k1\0.", 4) + p[1] + "." + p[2],
  };
  for (const auto& t : cases) {
    auto r = s.verify(Purpose::access, t);
    ASSERT_FALSE(r.ok()) << t.substr(0, 80);
    EXPECT_EQ(r.code(), Errc::malformed) << t.substr(0, 80) << ": " << r.code().message();
  }
}

TEST(Signer, RandomGarbageNeverVerifies) {
  const Signer s = signer_a();
  std::mt19937 rng(12345);
  const std::string good = s.sign(Purpose::access, {"prf", "acc"});
  for (int i = 0; i < 20000; ++i) {
    std::string t;
    if (i % 2 == 0) {  // mutate a genuine token
      t = good;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits; ++e) t[rng() % t.size()] = static_cast<char>(rng() % 256);
    } else {  // plausible-looking noise
      const std::size_t n = rng() % 160;
      for (std::size_t k = 0; k < n; ++k) t.push_back(rng() % 8 == 0 ? '.' : kAlphabet[rng() % 64]);
    }
    if (t == good) continue;
    ASSERT_FALSE(s.verify(Purpose::access, t).ok()) << t;
  }
}

TEST(Signer, SignRejectsProgrammingErrors) {
  const Signer s = signer_a();
  EXPECT_THROW((void)s.sign(Purpose::access, std::vector<std::string>(kMaxFields + 1, "x")),
               std::length_error);
  EXPECT_THROW((void)s.sign(Purpose::access, {std::string(kMaxPayloadBytes, 'x')}),
               std::length_error);
  EXPECT_THROW((void)s.sign(static_cast<Purpose>(9), {"x"}), std::invalid_argument);
  EXPECT_EQ(s.verify(static_cast<Purpose>(9), s.sign(Purpose::access, {"x"})).code(),
            Errc::wrong_purpose);
  // The largest payload that fits still round-trips.
  const std::string big(kMaxPayloadBytes - 3, 'y');
  const std::string token = s.sign(Purpose::access, {big});
  EXPECT_LE(token.size(), kMaxTokenLength);
  auto back = s.verify(Purpose::access, token);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0], big);
}

TEST(KeyRing, RefusesWeakOrInvalidConfiguration) {
  EXPECT_EQ(KeyRing::create({{"k1", "short"}}, "k1").code(), Errc::weak_secret);
  // Long enough but too uniform: 7 distinct bytes is refused, 8 is accepted.
  EXPECT_EQ(KeyRing::create({{"k1", std::string(31, 'x') + "abcdef"}}, "k1").code(),
            Errc::weak_secret);
  EXPECT_TRUE(KeyRing::create({{"k1", std::string(31, 'x') + "abcdefg"}}, "k1").ok());
  EXPECT_EQ(KeyRing::create({{"k1", std::string(64, 'a')}}, "k1").code(), Errc::weak_secret);
  EXPECT_EQ(KeyRing::create({{"k1", "changemechangemechangemechangeme"}}, "k1").code(),
            Errc::weak_secret);
  EXPECT_EQ(KeyRing::create({{"k1", kSecretA.substr(0, 31)}}, "k1").code(), Errc::weak_secret);
  EXPECT_TRUE(KeyRing::create({{"k1", kSecretA.substr(0, 32)}}, "k1").ok());
  EXPECT_EQ(KeyRing::create({{"k.1", kSecretA}}, "k.1").code(), Errc::malformed);
  EXPECT_EQ(KeyRing::create({{"", kSecretA}}, "").code(), Errc::malformed);
  EXPECT_EQ(KeyRing::create({{"k1", kSecretA}, {"k1", kSecretB}}, "k1").code(), Errc::malformed);
  EXPECT_EQ(KeyRing::create({{"k1", kSecretA}}, "k2").code(), Errc::unknown_key);
  EXPECT_EQ(KeyRing::create({}, "k1").code(), Errc::unknown_key);
  auto ring = KeyRing::create({{"a", kSecretA}, {"b", kSecretB}}, "b");
  ASSERT_TRUE(ring.ok());
  EXPECT_EQ(ring->current_kid(), "b");
  EXPECT_TRUE(ring->has_kid("a"));
  EXPECT_FALSE(ring->has_kid("c"));
}

TEST(Signer, VerifyIntoGivesViews) {
  const Signer s = signer_a();
  const std::string token = s.sign(Purpose::ticket_code, {"tkt_1", "prf_2", "seat_3"});
  TokenFields f;
  ASSERT_TRUE(s.verify_into(Purpose::ticket_code, token, f).ok());
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], "tkt_1");
  EXPECT_EQ(f[2], "seat_3");
}

}  // namespace
}  // namespace tk::crypto
