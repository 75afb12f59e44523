#include "common/crypto/tokens.hpp"

#include <gtest/gtest.h>

#include <limits>

#include "common/clock.hpp"
#include "common/crypto/encoding.hpp"
#include "common/crypto/errors.hpp"
#include "test_keys.hpp"

namespace tk::crypto {
namespace {

using testing::signer_a;

TEST(Tokens, QueueTicketRoundTrip) {
  const Signer s = signer_a();
  const std::int64_t positions[] = {
      0, 1, 127, 128, 255, 256, 1'000'000, std::numeric_limits<std::int64_t>::max(), -1};
  for (std::int64_t pos : positions) {
    const QueueTicket t{new_id("prf_"), pos, new_id("acc_"), 1'767'225'600'123};
    const std::string token = encode(s, t);
    auto back = decode_queue_ticket(s, token);
    ASSERT_TRUE(back.ok()) << back.code().message();
    EXPECT_EQ(*back, t);
  }
  // Compact enough for a header: ~140 chars with two 26-char ids.
  const std::string token =
      encode(s, QueueTicket{new_id("prf_"), 123456, new_id("acc_"), 1'767'225'600'123});
  EXPECT_LT(token.size(), 150u) << token;
}

// A pre-queue ticket: an entry and no position. A ticket without an entry keeps the four fields
// of the tickets issued before pre-queues existed, so those still decode.
TEST(Tokens, PreQueueTicketCarriesItsEntry) {
  const Signer s = signer_a();
  const QueueTicket pre{"prf_1", 0, "acc_1", 0, 42};
  auto back = decode_queue_ticket(s, encode(s, pre));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, pre);
  const QueueTicket plain{"prf_1", 7, "acc_1", 1'000};
  EXPECT_EQ(encode(s, plain),
            s.sign(Purpose::queue_ticket, {"prf_1", "\x07", "acc_1", "\x03\xe8"}));
  // An entry beside a position, or an entry of 0, is not a ticket this service issues.
  EXPECT_EQ(
      decode_queue_ticket(s, s.sign(Purpose::queue_ticket, {"prf_1", "\x07", "acc_1", "", "\x01"}))
          .code(),
      Errc::malformed);
  EXPECT_EQ(
      decode_queue_ticket(s, s.sign(Purpose::queue_ticket, {"prf_1", "", "acc_1", "", ""})).code(),
      Errc::malformed);
}

TEST(Tokens, AccessTokenRoundTripAndExpiryByPassedClock) {
  const Signer s = signer_a();
  ManualClock clock(1'000'000);
  const AccessToken t{"prf_1", "acc_1", 42, clock.now_ms() + 600'000};
  const std::string token = encode(s, t);
  auto back = decode_access_token(s, token, clock.now_ms());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
  clock.set(t.expires_at - 1);
  EXPECT_TRUE(decode_access_token(s, token, clock.now_ms()).ok());
  clock.set(t.expires_at);
  EXPECT_EQ(decode_access_token(s, token, clock.now_ms()).code(), Errc::expired);
  clock.advance(1'000'000);
  EXPECT_EQ(decode_access_token(s, token, clock.now_ms()).code(), Errc::expired);
  // A forged token is refused as forged, expiry is never even looked at.
  std::string forged = token;
  forged[forged.size() - 5] = forged[forged.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(decode_access_token(s, forged, 0).code(), Errc::bad_signature);
}

TEST(Tokens, TicketCodeRoundTrip) {
  const Signer s = signer_a();
  const TicketCode t{"tkt_x", "prf_y", "seat_A-12"};
  auto back = decode_ticket_code(s, encode(s, t));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
}

TEST(Tokens, SessionTokens) {
  const Signer s = signer_a();
  std::string id1, id2;
  const std::string t1 = new_session_token(s, &id1);
  const std::string t2 = new_session_token(s, &id2);
  EXPECT_NE(t1, t2);
  EXPECT_NE(id1, id2);
  EXPECT_EQ(id1.substr(0, 4), "ses_");
  EXPECT_EQ(id1.size(), 26u);
  auto back = session_id_from_token(s, t1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, id1);
  EXPECT_TRUE(session_id_from_token(s, new_session_token(s, nullptr)).ok());
  std::string forged = t1;
  forged[4] = forged[4] == 'A' ? 'B' : 'A';
  EXPECT_EQ(session_id_from_token(s, forged).code(), Errc::bad_signature);
  EXPECT_EQ(session_id_from_token(s, "").code(), Errc::malformed);
}

TEST(Tokens, PowChallengeRoundTripExpiryAndPurpose) {
  const Signer s = signer_a();
  const PowChallenge c{new_id("pow_"), new_id("prf_"), new_id("acc_"), 18, 1'767'225'780'000};
  const std::string token = encode(s, c);
  auto back = decode_pow_challenge(s, token, c.expires_at - 1);
  ASSERT_TRUE(back.ok()) << back.code().message();
  EXPECT_EQ(*back, c);
  EXPECT_LT(token.size(), 200u) << token;  // a join accepts up to 512
  EXPECT_EQ(decode_pow_challenge(s, token, c.expires_at).code(), Errc::expired);
  EXPECT_EQ(decode_pow_challenge(s, encode(s, DoorToken{"prf_1", c.expires_at}), 0).code(),
            Errc::wrong_purpose);
  EXPECT_EQ(
      decode_pow_challenge(s, s.sign(Purpose::pow_challenge, {"", "p", "a", "\x01", "\x01"}), 0)
          .code(),
      Errc::malformed);  // no id: nothing to mark used
}

TEST(Tokens, TypesAreNotInterchangeable) {
  const Signer s = signer_a();
  const std::string queue = encode(s, QueueTicket{"prf_1", 5, "acc_1", 1000});
  const std::string access = encode(s, AccessToken{"prf_1", "acc_1", 5, 1000});
  const std::string code = encode(s, TicketCode{"tkt_1", "prf_1", "seat_1"});
  const std::string session = new_session_token(s, nullptr);
  // A queue ticket shown as an access token (same field count, similar fields) is refused.
  EXPECT_EQ(decode_access_token(s, queue, 0).code(), Errc::wrong_purpose);
  EXPECT_EQ(decode_queue_ticket(s, access).code(), Errc::wrong_purpose);
  EXPECT_FALSE(decode_ticket_code(s, queue).ok());
  EXPECT_FALSE(decode_queue_ticket(s, code).ok());
  EXPECT_FALSE(session_id_from_token(s, access).ok());
  EXPECT_FALSE(decode_access_token(s, session, 0).ok());
  EXPECT_FALSE(decode_ticket_code(s, session).ok());
}

TEST(Tokens, WrongShapeUnderTheRightKeyIsMalformed) {
  // Guards the decoders against our own encoder changing: right purpose, wrong fields.
  const Signer s = signer_a();
  EXPECT_EQ(decode_queue_ticket(s, s.sign(Purpose::queue_ticket, {"prf", "\x01", "acc"})).code(),
            Errc::malformed);
  EXPECT_EQ(decode_queue_ticket(
                s, s.sign(Purpose::queue_ticket, {"prf", std::string("\0\x01", 2), "acc", "\x01"}))
                .code(),
            Errc::malformed);  // non-minimal number
  EXPECT_EQ(
      decode_access_token(s, s.sign(Purpose::access, {"p", "a", std::string(9, '\x01'), ""}), 0)
          .code(),
      Errc::malformed);  // number over 8 bytes
  EXPECT_EQ(session_id_from_token(s, s.sign(Purpose::session, {""})).code(), Errc::malformed);
  EXPECT_EQ(decode_ticket_code(s, s.sign(Purpose::ticket_code, {"a", "b"})).code(),
            Errc::malformed);
}

}  // namespace
}  // namespace tk::crypto
