#pragma once
// RFC 5322/2045 rendering of an app::Mail: pure functions, unit-tested.
#include <string>
#include <string_view>

#include "app/ports/consumers.hpp"

namespace tk::mail {

// Standard base64 (RFC 4648 §4) in lines of at most 76 chars joined by CRLF.
std::string base64_lines(std::string_view bytes);
// RFC 2047 encoded-words (UTF-8, "B") for a header value; pure printable ASCII is returned as is.
// Each encoded-word stays within 75 chars and never splits a UTF-8 sequence.
std::string encode_header_word(std::string_view utf8);
// RFC 1123 date for the Date header ("Thu, 03 Dec 2026 18:12:04 +0000").
std::string rfc5322_date(Millis t);
// True for a plain addr-spec we are willing to put in headers and SMTP commands (no spaces,
// control chars, angle brackets, commas; one '@' with text on both sides).
bool plausible_address(std::string_view a);

// The whole message, CRLF line endings: headers (From, To, Subject, Date, Message-ID,
// MIME-Version, the extra headers) and a multipart/mixed body (text/plain UTF-8 base64, then one
// base64 part per attachment). `boundary` must not occur in the content (base64 never contains
// '=' followed by '_').
std::string render(const app::Mail& m, std::string_view from, Millis now,
                   std::string_view boundary = "=_tk_boundary_7f3a");

}  // namespace tk::mail
