#include "infra/pdf/renderer.hpp"

#include <hpdf.h>
#include <qrencode.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <memory>

namespace tk::pdf {

const std::error_category& category() noexcept {
  static const struct : std::error_category {
    const char* name() const noexcept override { return "pdf"; }
    std::string message(int e) const override {
      switch (static_cast<Errc>(e)) {
        case Errc::font_unavailable:
          return "font unavailable";
        case Errc::qr_failed:
          return "QR encoding failed";
        case Errc::render_failed:
          return "PDF rendering failed";
        case Errc::empty_document:
          return "no pages";
      }
      return "pdf error";
    }
  } cat;
  return cat;
}
std::error_code make_error_code(Errc e) noexcept { return {static_cast<int>(e), category()}; }

std::string kst_time(Millis ms) {
  static constexpr const char* kDays[] = {"일", "월", "화", "수", "목", "금", "토"};
  // KST is UTC+9 all year (no daylight saving time), so a fixed offset is exact.
  std::time_t secs = static_cast<std::time_t>(ms / 1000 + 9 * 3600);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d (%s) %02d:%02d KST", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, kDays[tm.tm_wday], tm.tm_hour, tm.tm_min);
  return buf;
}

std::string format_money(std::int64_t minor, std::string_view currency) {
  const bool whole = currency == "KRW" || currency == "JPY";
  const bool neg = minor < 0;
  std::uint64_t v = neg ? 0 - static_cast<std::uint64_t>(minor) : static_cast<std::uint64_t>(minor);
  std::uint64_t units = whole ? v : v / 100;
  std::string digits = std::to_string(units);
  std::string grouped;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
    grouped += digits[i];
  }
  if (!whole) {
    char frac[4];
    std::snprintf(frac, sizeof frac, ".%02u", static_cast<unsigned>(v % 100));
    grouped += frac;
  }
  return (neg ? "-" : "") + grouped + " " + std::string(currency);
}

namespace {

// libharu reports errors through a callback and keeps going; we record the first one and check
// after each step, so no longjmp crosses C++ frames.
struct HaruError {
  HPDF_STATUS error = HPDF_OK;
  HPDF_STATUS detail = 0;
};
void on_haru_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void* user) {
  auto* e = static_cast<HaruError*>(user);
  if (e->error == HPDF_OK) {
    e->error = error_no;
    e->detail = detail_no;
  }
}

struct DocDeleter {
  void operator()(HPDF_Doc d) const { HPDF_Free(d); }
};
using DocPtr = std::unique_ptr<std::remove_pointer_t<HPDF_Doc>, DocDeleter>;
struct QrDeleter {
  void operator()(QRcode* q) const { QRcode_free(q); }
};
using QrPtr = std::unique_ptr<QRcode, QrDeleter>;

// A5 portrait, in points.
constexpr HPDF_REAL kWidth = 420;
constexpr HPDF_REAL kHeight = 595;
constexpr HPDF_REAL kMargin = 32;

// Length of the UTF-8 prefix that is at most `n` bytes and ends on a character boundary.
std::size_t utf8_prefix(std::string_view s, std::size_t n) {
  if (n >= s.size()) return s.size();
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

class PageWriter {
 public:
  PageWriter(HPDF_Page page, HPDF_Font font) : page_(page), font_(font) {}

  // One line of text at (x, y); shrinks down to 7 pt, then cuts with an ellipsis, so a long
  // event title never runs off the page.
  void text(HPDF_REAL x, HPDF_REAL y, std::string_view s, HPDF_REAL size, HPDF_REAL max_w) {
    std::string line(s);
    while (size > 7 && width(line, size) > max_w) size -= 0.5f;
    if (width(line, size) > max_w) {
      std::size_t n = line.size();
      while (n > 0 && width(line.substr(0, n) + "…", size) > max_w) n = utf8_prefix(line, n - 1);
      line = line.substr(0, n) + "…";
    }
    HPDF_Page_BeginText(page_);
    HPDF_Page_SetFontAndSize(page_, font_, size);
    HPDF_Page_TextOut(page_, x, y, line.c_str());
    HPDF_Page_EndText(page_);
  }

  // A label line ("좌석 Seat") above its value.
  HPDF_REAL field(HPDF_REAL y, std::string_view label, std::string_view value) {
    HPDF_Page_SetGrayFill(page_, 0.4f);
    text(kMargin, y, label, 8.5f, kWidth - 2 * kMargin);
    HPDF_Page_SetGrayFill(page_, 0);
    text(kMargin, y - 15, value, 12, kWidth - 2 * kMargin);
    return y - 36;
  }

  HPDF_REAL width(const std::string& s, HPDF_REAL size) {
    HPDF_Page_SetFontAndSize(page_, font_, size);
    return HPDF_Page_TextWidth(page_, s.c_str());
  }

 private:
  HPDF_Page page_;
  HPDF_Font font_;
};

// QR modules as filled rectangles (one path, one fill), with the 4-module quiet zone the
// standard asks for kept white around it.
void draw_qr(HPDF_Page page, const QRcode& qr, HPDF_REAL x, HPDF_REAL y, HPDF_REAL size) {
  const int n = qr.width;
  const HPDF_REAL m = size / static_cast<HPDF_REAL>(n + 8);
  const HPDF_REAL x0 = x + 4 * m;
  const HPDF_REAL top = y + size - 4 * m;
  HPDF_Page_SetGrayFill(page, 0);
  for (int r = 0; r < n; ++r) {
    for (int c = 0; c < n; ++c) {
      if (qr.data[r * n + c] & 1) {
        // Runs of dark modules in a row become one rectangle: fewer path operators.
        int end = c;
        while (end + 1 < n && (qr.data[r * n + end + 1] & 1)) ++end;
        HPDF_Page_Rectangle(page, x0 + static_cast<HPDF_REAL>(c) * m,
                            top - static_cast<HPDF_REAL>(r + 1) * m,
                            static_cast<HPDF_REAL>(end - c + 1) * m, m);
        c = end;
      }
    }
  }
  HPDF_Page_Fill(page);
}

Status render_page(HPDF_Doc pdf, HPDF_Font font, const TicketPage& t, HaruError& err) {
  // Level M (15% recovery) keeps a ~200-character code at version 10: modules big enough for a
  // phone camera at the door.
  QrPtr qr(QRcode_encodeString8bit(t.code.c_str(), 0, QR_ECLEVEL_M));
  if (!qr) return Errc::qr_failed;

  HPDF_Page page = HPDF_AddPage(pdf);
  if (!page || err.error != HPDF_OK) return Errc::render_failed;
  HPDF_Page_SetWidth(page, kWidth);
  HPDF_Page_SetHeight(page, kHeight);
  PageWriter w(page, font);

  // Header band.
  HPDF_Page_SetRGBFill(page, 0.11f, 0.16f, 0.33f);
  HPDF_Page_Rectangle(page, 0, kHeight - 56, kWidth, 56);
  HPDF_Page_Fill(page);
  HPDF_Page_SetGrayFill(page, 1);
  w.text(kMargin, kHeight - 36, "전자 티켓 · E-TICKET", 16, kWidth - 2 * kMargin);

  HPDF_Page_SetGrayFill(page, 0);
  w.text(kMargin, kHeight - 88, t.event_title, 18, kWidth - 2 * kMargin);
  HPDF_REAL y = kHeight - 118;
  y = w.field(y, "공연장 · Venue", t.venue_name);
  y = w.field(y, "일시 · Date and time", kst_time(t.starts_at));
  const std::string seat_ko =
      t.section + "구역 " + t.row + "열 " + std::to_string(t.seat_number) + "번";
  const std::string seat_en =
      "Section " + t.section + ", Row " + t.row + ", Seat " + std::to_string(t.seat_number);
  y = w.field(y, "좌석 · Seat",
              seat_ko + " / " + seat_en + (t.grade.empty() ? "" : " (" + t.grade + ")"));
  y = w.field(y, "가격 · Price", format_money(t.price_cents, t.currency));
  y = w.field(y, "예매자 · Buyer", t.buyer);
  y = w.field(y, "티켓 번호 · Ticket ID", t.ticket_id);

  const HPDF_REAL qr_size = 170;
  const HPDF_REAL qr_x = (kWidth - qr_size) / 2;
  const HPDF_REAL qr_y = 52;
  draw_qr(page, *qr, qr_x, qr_y, qr_size);
  HPDF_Page_SetGrayFill(page, 0.3f);
  w.text(kMargin, 34, "입장 시 QR 코드를 보여 주세요 · Show this QR code at the entrance", 8.5f,
         kWidth - 2 * kMargin);
  if (t.void_ticket) {
    HPDF_Page_SetRGBFill(page, 0.8f, 0.1f, 0.1f);
    w.text(kMargin, qr_y + qr_size / 2, "취소된 티켓 · VOID (refunded)", 20, kWidth - 2 * kMargin);
  }
  (void)y;
  if (err.error != HPDF_OK) return Errc::render_failed;
  return {};
}

}  // namespace

std::string system_font_path() { return TK_SYSTEM_FONT; }
std::string default_font_path() { return TK_TICKET_FONT; }

Result<std::string> render(const TicketDocument& doc, const RenderOptions& opt) {
  if (doc.pages.empty()) return Errc::empty_document;
  HaruError err;
  DocPtr pdf(HPDF_New(on_haru_error, &err));
  if (!pdf) return Errc::render_failed;
  HPDF_SetCompressionMode(pdf.get(), HPDF_COMP_ALL);
  HPDF_UseUTFEncodings(pdf.get());
  HPDF_SetCurrentEncoder(pdf.get(), "UTF-8");
  if (err.error != HPDF_OK) return Errc::render_failed;
  // Embedded: a phone without Korean fonts still shows the page. libharu writes only the glyphs
  // the document uses, so the file stays small although the font is several MB.
  const char* name = HPDF_LoadTTFontFromFile(pdf.get(), opt.font_path.c_str(), HPDF_TRUE);
  if (!name || err.error != HPDF_OK) return Errc::font_unavailable;
  HPDF_Font font = HPDF_GetFont(pdf.get(), name, "UTF-8");
  if (!font || err.error != HPDF_OK) return Errc::font_unavailable;
  HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_TITLE, "E-ticket");
  HPDF_SetInfoAttr(pdf.get(), HPDF_INFO_CREATOR, "ticketing");

  for (const auto& page : doc.pages) {
    if (auto s = render_page(pdf.get(), font, page, err); !s) return std::move(s).error();
  }
  if (HPDF_SaveToStream(pdf.get()) != HPDF_OK || err.error != HPDF_OK) {
    return Errc::render_failed;
  }
  HPDF_ResetStream(pdf.get());
  std::string out;
  out.resize(HPDF_GetStreamSize(pdf.get()));
  HPDF_UINT32 size = static_cast<HPDF_UINT32>(out.size());
  if (HPDF_ReadFromStream(pdf.get(), reinterpret_cast<HPDF_BYTE*>(out.data()), &size) != HPDF_OK &&
      err.error != HPDF_OK) {
    return Errc::render_failed;
  }
  out.resize(size);
  return out;
}

}  // namespace tk::pdf
