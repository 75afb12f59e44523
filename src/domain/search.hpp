#pragma once
// Search query parsing (pure): what a user typed into the parts the index matches on.
#include <optional>
#include <string>
#include <string_view>

namespace tk::domain {

inline constexpr std::size_t kMaxQueryChars = 100;

struct SearchTerms {
  std::string text;     // trimmed, runs of whitespace as one space, ASCII lower-cased
  std::string tsquery;  // "'w1':* & 'w2':*" for to_tsquery('simple', ...); empty when no words
  std::string like;     // "%text%" with \, % and _ escaped (LIKE ... ESCAPE '\')
};

// nullopt when `q` is not valid UTF-8, has control characters, is blank, or has more than
// kMaxQueryChars characters (code points).
std::optional<SearchTerms> parse_search(std::string_view q);

}  // namespace tk::domain
