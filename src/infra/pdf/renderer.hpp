#pragma once
// E-ticket PDFs: a pure function from a TicketDocument to PDF bytes (libharu + libqrencode).
// One A5 page per ticket with Korean and English labels in an embedded TrueType font and the
// ticket's signed code as a QR code drawn from rectangles. No I/O besides reading the font file.
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/clock.hpp"
#include "common/result.hpp"

namespace tk::pdf {

enum class Errc {
  font_unavailable = 1,  // the TrueType font cannot be read or parsed
  qr_failed,             // the code does not fit a QR symbol (or qrencode ran out of memory)
  render_failed,         // libharu reported an error while drawing or saving
  empty_document,        // no pages to render
};
const std::error_category& category() noexcept;
std::error_code make_error_code(Errc e) noexcept;

// Fonts-nanum's NanumGothic (Debian): Hangul, Hanja and Latin glyphs in one face.
std::string system_font_path();
// The same face with its cmap rewritten into few segments, made by the build (compact_cmap.py):
// the same glyphs, and about a quarter of the CPU per document, since libharu searches the cmap
// linearly for each of the 65,536 code points of its UTF-8 encoder.
std::string default_font_path();

struct TicketPage {
  std::string ticket_id;
  std::string event_title;
  std::string venue_name;
  Millis starts_at = 0;
  std::string section;
  std::string row;
  int seat_number = 0;
  std::string grade;
  std::int64_t price_cents = 0;  // minor units of `currency` (1 KRW, 1/100 USD)
  std::string currency;
  std::string buyer;         // the account's name, or its e-mail when the name is empty
  std::string code;          // the signed ticket code, printed as the QR code
  bool void_ticket = false;  // refunded: the page says so across the QR code
};

struct TicketDocument {
  std::vector<TicketPage> pages;
};

struct RenderOptions {
  std::string font_path = default_font_path();
};

// Thread-safe (each call owns its libharu document); CPU-bound: a few ms per page.
Result<std::string> render(const TicketDocument& doc, const RenderOptions& opt = {});

// "2026-12-24 (목) 19:00 KST" — the venue's local time whatever the server's zone.
std::string kst_time(Millis ms);
// "55,000 KRW" / "12.50 USD": KRW and JPY have no minor unit, others two decimals.
std::string format_money(std::int64_t minor, std::string_view currency);

}  // namespace tk::pdf

template <>
struct std::is_error_code_enum<tk::pdf::Errc> : std::true_type {};
