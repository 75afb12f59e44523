// MIME rendering of the receipt e-mail and its bilingual content.
#include "infra/mail/mime.hpp"

#include <gtest/gtest.h>

#include "app/consumers.hpp"
#include "app/receipt_mail.hpp"

namespace tk::mail {
namespace {

std::string b64decode(std::string_view s) {
  static const std::string k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : s) {
    auto p = k.find(c);
    if (p == std::string::npos) continue;  // CRLF, padding
    v = (v << 6) | static_cast<unsigned>(p);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xff);
    }
  }
  return out;
}

TEST(Mime, Base64LinesAreAtMost76CharsAndRoundTrip) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data += static_cast<char>(i * 7);
  auto enc = base64_lines(data);
  std::size_t start = 0;
  while (start < enc.size()) {
    auto end = enc.find("\r\n", start);
    if (end == std::string::npos) end = enc.size();
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
  EXPECT_EQ(b64decode(enc), data);
  EXPECT_EQ(base64_lines("ab"), "YWI=");
  EXPECT_EQ(base64_lines("a"), "YQ==");
}

TEST(Mime, KoreanSubjectIsEncodedWordsThatNeverSplitACharacter) {
  EXPECT_EQ(encode_header_word("Plain subject"), "Plain subject");
  std::string ko = "[예매 확인] 아이유 콘서트 — 서울 올림픽공원 체조경기장 2026 Your tickets";
  auto enc = encode_header_word(ko);
  std::string joined;
  std::size_t pos = 0;
  while ((pos = enc.find("=?UTF-8?B?", pos)) != std::string::npos) {
    auto end = enc.find("?=", pos + 10);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - pos, 75u) << "an encoded-word is at most 75 chars";
    auto piece = b64decode(enc.substr(pos + 10, end - pos - 10));
    // Each word decodes on its own to whole UTF-8 characters.
    ASSERT_FALSE(piece.empty());
    EXPECT_NE(static_cast<unsigned char>(piece.front()) & 0xC0, 0x80u);
    joined += piece;
    pos = end + 2;
  }
  EXPECT_EQ(joined, ko);
  EXPECT_EQ(enc.find('\n') == std::string::npos, false) << "long subjects fold";
}

TEST(Mime, DateIsRfc5322) {
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(1796321811000), "Thu, 03 Dec 2026 18:16:51 +0000");
}

TEST(Mime, AddressesWithHeaderOrCommandInjectionAreRefused) {
  EXPECT_TRUE(plausible_address("kim@example.com"));
  EXPECT_FALSE(plausible_address("kim@example.com\r\nBcc: x@y"));
  EXPECT_FALSE(plausible_address("<kim@example.com>"));
  EXPECT_FALSE(plausible_address("kim"));
  EXPECT_FALSE(plausible_address("a@b@c"));
  EXPECT_FALSE(plausible_address("a b@c"));
}

TEST(Mime, RenderHasHeadersTextAndOneBase64PartPerAttachment) {
  app::Mail m;
  m.to = "kim@example.com";
  m.subject = "[예매 확인] 공연";
  m.message_id = "receipt.ord_1@example.com";
  m.headers = {{"X-Ticketing-Order", "ord_1"}, {"X-Ticketing-Kind", "receipt"}};
  m.text = "안녕하세요\nHello";
  m.attachments = {{"ticket-1.pdf", "application/pdf", "%PDF-1.4 one"},
                   {"ticket-2.pdf", "application/pdf", "%PDF-1.4 two"}};
  auto out = render(m, "tickets@example.com", 0, "BOUND");
  auto headers = out.substr(0, out.find("\r\n\r\n"));
  EXPECT_NE(headers.find("From: <tickets@example.com>\r\n"), std::string::npos);
  EXPECT_NE(headers.find("To: <kim@example.com>\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Subject: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(headers.find("Message-ID: <receipt.ord_1@example.com>\r\n"), std::string::npos);
  EXPECT_NE(headers.find("X-Ticketing-Order: ord_1\r\n"), std::string::npos);
  EXPECT_NE(headers.find("X-Ticketing-Kind: receipt\r\n"), std::string::npos);
  EXPECT_NE(headers.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(headers.find("Content-Type: multipart/mixed; boundary=\"BOUND\""), std::string::npos);
  int parts = 0;
  for (auto p = out.find("--BOUND\r\n"); p != std::string::npos; p = out.find("--BOUND\r\n", p + 1))
    ++parts;
  EXPECT_EQ(parts, 3);
  EXPECT_NE(out.find("--BOUND--\r\n"), std::string::npos);
  EXPECT_NE(out.find("Content-Type: text/plain; charset=UTF-8"), std::string::npos);
  EXPECT_NE(out.find("Content-Disposition: attachment; filename=\"ticket-2.pdf\""),
            std::string::npos);
  EXPECT_NE(out.find(base64_lines("%PDF-1.4 two")), std::string::npos);
  EXPECT_NE(out.find(base64_lines(m.text)), std::string::npos);
  // No bare LF anywhere: SMTP wants CRLF.
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\n') {
      ASSERT_TRUE(i > 0 && out[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(Mime, InjectedLineBreaksInValuesDoNotAddHeaders) {
  app::Mail m;
  m.to = "kim@example.com";
  m.subject = "Hi\r\nBcc: evil@example.com";
  m.message_id = "x@y";
  auto out = render(m, "a@b.c", 0, "B");
  EXPECT_EQ(out.find("\r\nBcc:"), std::string::npos);
}

}  // namespace
}  // namespace tk::mail

namespace tk::app {
namespace {

TEST(ReceiptText, TimesAreShownInKst) {
  // 2026-12-24T10:00:00Z is 19:00 on a Thursday in Seoul.
  EXPECT_EQ(format_kst(1798106400000), "2026-12-24 (목/Thu) 19:00 KST");
  // 16:30 UTC is already the next day in Seoul.
  EXPECT_EQ(format_kst(1798129800000), "2026-12-25 (금/Fri) 01:30 KST");
}

TEST(ReceiptText, MoneyHasTheCurrencysMinorUnit) {
  EXPECT_EQ(format_money(1234567, "KRW"), "1,234,567 KRW");
  EXPECT_EQ(format_money(0, "KRW"), "0 KRW");
  EXPECT_EQ(format_money(123456, "USD"), "1,234.56 USD");
  EXPECT_EQ(format_money(5, "USD"), "0.05 USD");
}

TEST(ReceiptText, MessageIdIsStablePerOrderAndKind) {
  EXPECT_EQ(mail_domain("tickets@example.com"), "example.com");
  EXPECT_EQ(mail_domain("nobody"), "ticketing.invalid");
  EXPECT_EQ(receipt_message_id("ord_1", "example.com"), "receipt.ord_1@example.com");
}

TEST(ReceiptText, ComposesBilingualBodyHeadersAndAttachments) {
  ReceiptData r;
  r.order_id = "ord_42";
  r.status = "paid";
  r.email = "kim@example.com";
  r.buyer_name = "김민지";
  r.event_title = "아이유 콘서트";
  r.venue_name = "체조경기장";
  r.starts_at = 1798106400000;
  r.total_cents = 286000;
  r.currency = "KRW";
  r.seats = {{"A", "3", 12, "VIP", 143000}, {"A", "3", 13, "VIP", 143000}};
  auto m = compose_receipt(
      r, {{"ticket-1.pdf", "application/pdf", "x"}, {"ticket-2.pdf", "application/pdf", "y"}},
      "example.com");
  EXPECT_EQ(m.to, "kim@example.com");
  EXPECT_EQ(m.message_id, "receipt.ord_42@example.com");
  ASSERT_EQ(m.headers.size(), 2u);
  EXPECT_EQ(m.headers[0], (std::pair<std::string, std::string>{"X-Ticketing-Order", "ord_42"}));
  EXPECT_EQ(m.headers[1], (std::pair<std::string, std::string>{"X-Ticketing-Kind", "receipt"}));
  EXPECT_NE(m.subject.find("아이유 콘서트"), std::string::npos);
  for (const char* want :
       {"주문 번호: ord_42", "Order: ord_42", "2026-12-24 (목/Thu) 19:00 KST", "A구역 3열 12번",
        "Section A, row 3, seat 13", "합계: 286,000 KRW", "Total: 286,000 KRW", "체조경기장"}) {
    EXPECT_NE(m.text.find(want), std::string::npos) << want;
  }
  EXPECT_EQ(m.attachments.size(), 2u);
}

TEST(RefundText, ComposesBilingualRefundNoticeWithoutAttachments) {
  ReceiptData r;
  r.order_id = "ord_7";
  r.status = "refunded";
  r.email = "lee@example.com";
  r.buyer_name = "이서준";
  r.event_title = "Show";
  r.venue_name = "Hall";
  r.starts_at = 1798106400000;
  r.total_cents = 150000;
  r.currency = "KRW";
  r.seats = {{"B", "1", 4, "R", 150000}};
  auto m = compose_refund(r, "example.com");
  EXPECT_EQ(m.to, "lee@example.com");
  EXPECT_EQ(m.message_id, "refund.ord_7@example.com");
  ASSERT_EQ(m.headers.size(), 2u);
  EXPECT_EQ(m.headers[0], (std::pair<std::string, std::string>{"X-Ticketing-Order", "ord_7"}));
  EXPECT_EQ(m.headers[1], (std::pair<std::string, std::string>{"X-Ticketing-Kind", "refund"}));
  for (const char* want : {"환불이 완료되었습니다", "주문 번호: ord_7", "환불 금액: 150,000 KRW",
                           "your refund is complete", "Refunded: 150,000 KRW", "B구역 1열 4번",
                           "Section B, row 1, seat 4", "KST"}) {
    EXPECT_NE(m.text.find(want), std::string::npos) << want;
  }
  EXPECT_TRUE(m.attachments.empty());
}

TEST(Consumers, RetryDelayDoublesUpToTheCapAndParksAtMaxAttempts) {
  RetryPolicy p{4, 1000, 5000};
  EXPECT_EQ(retry_delay(p, 1), 1000);
  EXPECT_EQ(retry_delay(p, 2), 2000);
  EXPECT_EQ(retry_delay(p, 3), 4000);
  EXPECT_EQ(retry_delay(p, 4), 5000);
  EXPECT_EQ(retry_delay(p, 40), 5000);
  EXPECT_FALSE(should_park(p, 3));
  EXPECT_TRUE(should_park(p, 4));
  EXPECT_EQ(retry_delay(RetryPolicy{3, 0, 0}, 2), 0);
}

}  // namespace
}  // namespace tk::app
