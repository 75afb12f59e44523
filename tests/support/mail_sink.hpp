#pragma once
// The test fixture's SMTP sink (tests/support/smtp_sink.py keeps each accepted message as a .eml
// file in TK_MAIL_DIR): finding messages by header and reading their text part.
#include <string>
#include <vector>

namespace tk::test {

// The value of a header of a raw message ("" when absent).
std::string mail_header(const std::string& raw, const std::string& name);
// Every raw message in the sink whose header `name` has `value`.
std::vector<std::string> sink_mails(const std::string& name, const std::string& value);
// The first text/plain part of a raw message, its base64 decoded.
std::string mail_text(const std::string& raw);

}  // namespace tk::test
