// The e-ticket renderer: a valid PDF with the embedded Korean font, one page per ticket, the
// fields in Korean and English (read back with poppler's pdftotext), and its cost per ticket.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>

#include "infra/pdf/renderer.hpp"

namespace tk::pdf {
namespace {

TicketPage sample(int i) {
  TicketPage p;
  p.ticket_id = "tkt_" + std::to_string(1000 + i) + "abcdefghijklmnopq";
  p.event_title = "아이유 콘서트 · IU Concert";
  p.venue_name = "올림픽공원 체조경기장";
  p.starts_at = 1'798'106'400'000;  // 2026-12-24T10:00:00Z = 19:00 KST
  p.section = "A";
  p.row = "3";
  p.seat_number = 12 + i;
  p.grade = "VIP";
  p.price_cents = 165000;
  p.currency = "KRW";
  p.buyer = "김민지";
  p.code = "e1.BHR0a19zYW1wbGU." + std::string(86, 'Q');
  return p;
}

std::size_t count_of(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// Text of a PDF through pdftotext (poppler-utils), from a temporary file.
std::string pdf_text(const std::string& pdf) {
  char path[] = "/tmp/tk-pdf-test-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return {};
  ::close(fd);
  std::ofstream(path, std::ios::binary) << pdf;
  std::string cmd = std::string("pdftotext -enc UTF-8 ") + path + " - 2>/dev/null";
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    pclose(f);
  }
  std::remove(path);
  return out;
}

TEST(PdfRenderer, OnePagePerTicketWithEmbeddedFont) {
  TicketDocument doc;
  for (int i = 0; i < 3; ++i) doc.pages.push_back(sample(i));
  auto pdf = render(doc);
  ASSERT_TRUE(pdf.ok()) << pdf.code().message();
  EXPECT_EQ(pdf->substr(0, 5), "%PDF-");
  const auto tail = pdf->substr(pdf->size() - 8);
  EXPECT_NE(tail.find("%%EOF"), std::string::npos) << tail;
  EXPECT_EQ(count_of(*pdf, "/Type /Page\r") + count_of(*pdf, "/Type /Page\n") +
                count_of(*pdf, "/Type /Page>") + count_of(*pdf, "/Type /Page "),
            3u);
  EXPECT_NE(pdf->find("NanumGothic"), std::string::npos);
  EXPECT_NE(pdf->find("/FontFile2"), std::string::npos);  // the TrueType program is embedded
  // Subset: far smaller than the 4.6 MB font.
  EXPECT_LT(pdf->size(), 600u * 1024);
}

TEST(PdfRenderer, TextInKoreanAndEnglish) {
  TicketDocument doc;
  doc.pages.push_back(sample(0));
  auto pdf = render(doc);
  ASSERT_TRUE(pdf.ok());
  const std::string text = pdf_text(*pdf);
  ASSERT_FALSE(text.empty()) << "pdftotext (poppler-utils) missing?";
  for (const char* want :
       {"아이유 콘서트", "IU Concert", "올림픽공원 체조경기장", "2026-12-24 (목) 19:00 KST",
        "A구역 3열 12번", "Section A, Row 3, Seat 12", "165,000 KRW", "김민지",
        "tkt_1000abcdefghijklmnopq", "좌석", "Seat", "공연장", "Venue", "예매자", "Buyer"}) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\n" << text;
  }
  EXPECT_EQ(text.find("VOID"), std::string::npos);
  doc.pages[0].void_ticket = true;
  auto voided = render(doc);
  ASSERT_TRUE(voided.ok());
  EXPECT_NE(pdf_text(*voided).find("VOID"), std::string::npos);
}

// The page as pixels (poppler's pdftoppm, greyscale PGM): what a buyer sees, glyph for glyph.
std::string pdf_pixels(const std::string& pdf) {
  char dir[] = "/tmp/tk-pdf-pixels-XXXXXX";
  if (!mkdtemp(dir)) return {};
  const std::string in = std::string(dir) + "/in.pdf", out = std::string(dir) + "/page";
  std::ofstream(in, std::ios::binary) << pdf;
  const std::string cmd = "pdftoppm -r 60 -gray -singlefile " + in + " " + out + " 2>/dev/null";
  std::string pixels;
  if (std::system(cmd.c_str()) == 0) {
    std::ifstream f(out + ".pgm", std::ios::binary);
    pixels.assign(std::istreambuf_iterator<char>(f), {});
  }
  std::remove(in.c_str());
  std::remove((out + ".pgm").c_str());
  std::remove(dir);
  return pixels;
}

// The build's ticket font differs from NanumGothic only in how its cmap is laid out: every code
// point (Hangul, Hanja spread over the CJK block, Latin, symbols, and one the face lacks) must
// draw the very same glyph.
TEST(PdfRenderer, TicketFontDrawsTheSameGlyphsAsTheSystemFont) {
  ASSERT_NE(default_font_path(), system_font_path());
  TicketDocument doc;
  doc.pages.push_back(sample(0));
  doc.pages[0].event_title = "樂 龍 亞 仁 乂 丁 丂 ① © € ㄱ 가 힣 «Été»";
  doc.pages[0].venue_name = "大中小 체조경기장 — Hall №1";
  doc.pages[0].buyer = "金大中";
  RenderOptions system;
  system.font_path = system_font_path();
  auto compact = render(doc);
  auto original = render(doc, system);
  ASSERT_TRUE(compact.ok() && original.ok());
  const std::string a = pdf_pixels(*compact), b = pdf_pixels(*original);
  ASSERT_GT(a.size(), 10'000u) << "pdftoppm (poppler-utils) missing?";
  EXPECT_TRUE(a == b) << "the ticket font draws other glyphs";
}

TEST(PdfRenderer, DeterministicAndLongTitlesFit) {
  TicketDocument doc;
  doc.pages.push_back(sample(0));
  auto a = render(doc);
  auto b = render(doc);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  doc.pages[0].event_title =
      std::string(40, 'W') + " 아주 긴 공연 제목이 계속 이어집니다 " + std::string(40, 'W');
  auto c = render(doc);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(pdf_text(*c).find("…"), std::string::npos);  // cut, not run off the page
}

TEST(PdfRenderer, Errors) {
  EXPECT_EQ(render({}).code(), Errc::empty_document);
  TicketDocument doc;
  doc.pages.push_back(sample(0));
  RenderOptions o;
  o.font_path = "/nonexistent/font.ttf";
  EXPECT_EQ(render(doc, o).code(), Errc::font_unavailable);
  doc.pages[0].code = std::string(5000, 'x');  // beyond the largest QR symbol
  EXPECT_EQ(render(doc).code(), Errc::qr_failed);
}

TEST(PdfRenderer, Formatting) {
  EXPECT_EQ(format_money(165000, "KRW"), "165,000 KRW");
  EXPECT_EQ(format_money(1234567, "USD"), "12,345.67 USD");
  EXPECT_EQ(format_money(5, "USD"), "0.05 USD");
  EXPECT_EQ(format_money(0, "KRW"), "0 KRW");
  EXPECT_EQ(kst_time(1'798'106'400'000), "2026-12-24 (목) 19:00 KST");
  EXPECT_EQ(kst_time(1'798'124'400'000), "2026-12-25 (금) 00:00 KST");  // next day in Seoul
}

// Measured, not asserted (shared CI machines vary): CPU time per document and per extra page.
TEST(PdfRenderer, CostPerTicket) {
  auto cpu_ms = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
  };
  for (const std::string& font : {default_font_path(), system_font_path()}) {
    RenderOptions o;
    o.font_path = font;
    for (int pages : {1, 10}) {
      TicketDocument doc;
      for (int i = 0; i < pages; ++i) doc.pages.push_back(sample(i));
      const double t0 = cpu_ms();
      constexpr int kRuns = 3;
      for (int r = 0; r < kRuns; ++r) ASSERT_TRUE(render(doc, o).ok());
      const double ms = (cpu_ms() - t0) / kRuns;
      std::printf("[ measure  ] %s, %d page(s): %.1f ms CPU per document, %.1f ms per ticket\n",
                  font.c_str(), pages, ms, ms / pages);
    }
  }
}

}  // namespace
}  // namespace tk::pdf
