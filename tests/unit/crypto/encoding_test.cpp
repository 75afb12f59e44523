#include "common/crypto/encoding.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <set>
#include <string>

#include "common/crypto/errors.hpp"
#include "common/result.hpp"

namespace tk::crypto {
namespace {

TEST(Hex, RoundTripsAndRefusesWhatItNeverWrites) {
  EXPECT_EQ(hex_encode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(hex_decode("0001abff"), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(hex_decode(""), std::string());
  EXPECT_FALSE(hex_decode("abc").has_value());   // odd length
  EXPECT_FALSE(hex_decode("ABCD").has_value());  // upper case: one spelling only
  EXPECT_FALSE(hex_decode("zz").has_value());
}

TEST(Base64Url, Rfc4648VectorsWithoutPadding) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}, {"\xfb\xff", "-_8"}};
  for (const auto& [raw, text] : cases) {
    EXPECT_EQ(base64url_encode(raw), text);
    auto back = base64url_decode(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, raw);
  }
}

TEST(Base64Url, RoundTripsEveryLengthAndMatchesLibsodium) {
  init();
  for (std::size_t n = 0; n <= 260; ++n) {
    const std::string raw = random_bytes(n);
    const std::string text = base64url_encode(raw);
    EXPECT_EQ(text.size(), (n * 4 + 2) / 3) << n;
    std::string ref(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(ref.data(), ref.size(), reinterpret_cast<const unsigned char*>(raw.data()), n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    ref.resize(ref.find('\0'));
    EXPECT_EQ(text, ref) << n;
    auto back = base64url_decode(text);
    ASSERT_TRUE(back.has_value()) << n;
    EXPECT_EQ(*back, raw) << n;
  }
}

TEST(Base64Url, EverySingleByteRoundTrips) {
  for (int b = 0; b < 256; ++b) {
    const std::string raw(1, static_cast<char>(b));
    EXPECT_EQ(base64url_decode(base64url_encode(raw)), raw) << b;
  }
}

TEST(Base64Url, RejectsNonCanonicalAndForeignText) {
  const std::string_view cases[] = {"Z",      "Zg==",  "Zg=",        "Zh",
                                    "Zm9",    "Zm+v",  "Zm/v",       "Zm9 ",
                                    "Zm9v\n", "Zm9vY", {"Zm\0v", 4}, "\xc3\xa9\xc3\xa9"};
  for (std::string_view bad : cases) {
    EXPECT_FALSE(base64url_decode(bad).has_value()) << bad;
  }
  // Zm9 is non-canonical (low bits set) while Zm8 is the one spelling of "fo".
  EXPECT_TRUE(base64url_decode("Zm8").has_value());
}

TEST(Ids, WellFormedAndUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) {
    const std::string id = new_id("evt_");
    ASSERT_EQ(id.size(), 4u + 22u);
    ASSERT_EQ(id.substr(0, 4), "evt_");
    for (char c : id.substr(4)) {
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << id;
    }
    auto raw = base64url_decode(id.substr(4));
    ASSERT_TRUE(raw.has_value());
    EXPECT_EQ(raw->size(), 16u);
    EXPECT_TRUE(seen.insert(id).second) << "duplicate id " << id;
  }
  EXPECT_EQ(new_id("").size(), 22u);
}

TEST(RandomBytes, SizeAndVariety) {
  EXPECT_EQ(random_bytes(0), "");
  EXPECT_EQ(random_bytes(33).size(), 33u);
  EXPECT_NE(random_bytes(16), random_bytes(16));
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Fingerprint, DeterministicAndSensitiveToEveryPart) {
  const auto base =
      request_fingerprint("POST", "/v1/orders/o1/payment", R"({"card_token":"tok_ok"})");
  EXPECT_EQ(base.size(), 64u);
  EXPECT_EQ(base,
            request_fingerprint("POST", "/v1/orders/o1/payment", R"({"card_token":"tok_ok"})"));
  EXPECT_NE(base,
            request_fingerprint("PUT", "/v1/orders/o1/payment", R"({"card_token":"tok_ok"})"));
  EXPECT_NE(base,
            request_fingerprint("POST", "/v1/orders/o2/payment", R"({"card_token":"tok_ok"})"));
  EXPECT_NE(base,
            request_fingerprint("POST", "/v1/orders/o1/payment", R"({"card_token":"tok_no"})"));
  EXPECT_NE(base, request_fingerprint("POST", "/v1/orders/o1/payment", ""));
}

TEST(Fingerprint, FramingIsUnambiguous) {
  // Plain concatenation would make every pair below equal.
  EXPECT_NE(request_fingerprint("a", "bc", ""), request_fingerprint("ab", "c", ""));
  EXPECT_NE(request_fingerprint("a", "", "b"), request_fingerprint("a", "b", ""));
  EXPECT_NE(request_fingerprint("", "ab", ""), request_fingerprint("a", "b", ""));
  EXPECT_NE(request_fingerprint("GET", "/x", "y"), request_fingerprint("GET", "/xy", ""));
  EXPECT_NE(request_fingerprint("a", "b", "c"), sha256_hex("abc"));
}

TEST(Errors, CategoryAndResult) {
  std::error_code ec = Errc::bad_signature;
  EXPECT_EQ(ec.category().name(), std::string("tk.crypto"));
  EXPECT_EQ(ec.message(), "bad signature");
  tk::Result<int> r = Errc::overloaded;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.code(), Errc::overloaded);
  EXPECT_NE(r.code(), Errc::expired);
}

}  // namespace
}  // namespace tk::crypto
