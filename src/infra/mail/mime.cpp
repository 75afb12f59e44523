#include "infra/mail/mime.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace tk::mail {

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                 (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += kB64[v >> 18];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool printable_ascii(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

// Header values we build from data (order ids, file names) must not break the header block.
std::string header_safe(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != '\r' && c != '\n') out += c;
  }
  return out;
}

// A filename parameter: ASCII quoted-string, or RFC 2231 UTF-8 percent-encoding otherwise.
std::string filename_param(std::string_view name) {
  bool plain = printable_ascii(name) && name.find('"') == std::string_view::npos &&
               name.find('\\') == std::string_view::npos;
  if (plain) return "filename=\"" + std::string(name) + "\"";
  std::string out = "filename*=UTF-8''";
  for (unsigned char c : name) {
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}
}  // namespace

std::string base64_lines(std::string_view bytes) {
  std::string b = base64(bytes);
  std::string out;
  out.reserve(b.size() + b.size() / 76 * 2 + 2);
  for (std::size_t i = 0; i < b.size(); i += 76) {
    if (i) out += "\r\n";
    out.append(b, i, 76);
  }
  return out;
}

std::string encode_header_word(std::string_view utf8) {
  if (printable_ascii(utf8)) return std::string(utf8);
  // "=?UTF-8?B?" + text + "?=" is 12 chars: 63 left, i.e. 45 input bytes (60 base64 chars).
  constexpr std::size_t kChunk = 45;
  std::string out;
  std::size_t i = 0;
  while (i < utf8.size()) {
    std::size_t end = std::min(utf8.size(), i + kChunk);
    // Back off to a character boundary (never end before a continuation byte).
    while (end < utf8.size() && end > i && (static_cast<unsigned char>(utf8[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(utf8.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string rfc5322_date(Millis t) {
  static const char* kDays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::int64_t secs = t / 1000 - (t % 1000 < 0);
  std::int64_t days = secs / 86400 - (secs % 86400 < 0);
  std::int64_t in_day = secs - days * 86400;
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04lld %02d:%02d:%02d +0000",
                kDays[((days % 7) + 7) % 7], d, kMonths[m - 1], static_cast<long long>(y),
                static_cast<int>(in_day / 3600), static_cast<int>(in_day / 60 % 60),
                static_cast<int>(in_day % 60));
  return buf;
}

bool plausible_address(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  auto at = a.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= a.size()) return false;
  if (a.find('@', at + 1) != std::string_view::npos) return false;
  for (unsigned char c : a) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == '"' || c == '\\') {
      return false;
    }
  }
  return true;
}

std::string render(const app::Mail& m, std::string_view from, Millis now,
                   std::string_view boundary) {
  std::string out;
  auto h = [&](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  h("From", "<" + std::string(from) + ">");
  h("To", "<" + header_safe(m.to) + ">");
  h("Subject", encode_header_word(header_safe(m.subject)));
  h("Date", rfc5322_date(now));
  h("Message-ID", "<" + header_safe(m.message_id) + ">");
  for (const auto& [name, value] : m.headers) h(header_safe(name), header_safe(value));
  h("MIME-Version", "1.0");
  h("Content-Type", "multipart/mixed; boundary=\"" + std::string(boundary) + "\"");
  out += "\r\n";
  const std::string dash = "--" + std::string(boundary);
  out += dash + "\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: base64\r\n\r\n";
  out += base64_lines(m.text) + "\r\n";
  for (const auto& a : m.attachments) {
    out += dash + "\r\n";
    out += "Content-Type: " + header_safe(a.content_type) + "\r\n";
    out += "Content-Transfer-Encoding: base64\r\n";
    out +=
        "Content-Disposition: attachment; " + filename_param(header_safe(a.filename)) + "\r\n\r\n";
    out += base64_lines(a.data) + "\r\n";
  }
  out += dash + "--\r\n";
  return out;
}

}  // namespace tk::mail
