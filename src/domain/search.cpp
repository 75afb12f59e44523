#include "domain/search.hpp"

#include <cstdint>
#include <vector>

namespace tk::domain {

namespace {
// Code points of valid UTF-8 (no overlongs, surrogates or values past U+10FFFF); -1 otherwise.
long utf8_length(std::string_view s) {
  long n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    if (len == 0 || i + len > s.size()) return -1;
    std::uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    i += len;
  }
  return n;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// ASCII punctuation separates words and never reaches to_tsquery, so no user text can form
// tsquery operators (& | ! ( ) : * < >) or break its quoting (' and \).
bool is_separator(char c) {
  auto u = static_cast<unsigned char>(c);
  return is_space(c) || (u < 0x80 && ((u >= 0x21 && u <= 0x2F) || (u >= 0x3A && u <= 0x40) ||
                                      (u >= 0x5B && u <= 0x60) || (u >= 0x7B && u <= 0x7E)));
}
}  // namespace

std::optional<SearchTerms> parse_search(std::string_view q) {
  const long chars = utf8_length(q);
  if (chars < 1 || static_cast<std::size_t>(chars) > kMaxQueryChars) return std::nullopt;
  SearchTerms t;
  for (char c : q) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && !is_space(c)) || u == 0x7F) return std::nullopt;
    if (is_space(c)) {
      if (!t.text.empty() && t.text.back() != ' ') t.text.push_back(' ');
      continue;
    }
    t.text.push_back(u < 0x80 && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  if (!t.text.empty() && t.text.back() == ' ') t.text.pop_back();
  if (t.text.empty()) return std::nullopt;

  std::vector<std::string> words;
  std::string w;
  for (char c : t.text) {
    if (is_separator(c)) {
      if (!w.empty()) words.push_back(std::move(w));
      w.clear();
    } else {
      w.push_back(c);
    }
  }
  if (!w.empty()) words.push_back(std::move(w));
  for (const auto& x : words) {
    if (!t.tsquery.empty()) t.tsquery += " & ";
    t.tsquery += "'" + x + "':*";
  }

  t.like = "%";
  for (char c : t.text) {
    if (c == '\\' || c == '%' || c == '_') t.like.push_back('\\');
    t.like.push_back(c);
  }
  t.like.push_back('%');
  return t;
}

}  // namespace tk::domain
