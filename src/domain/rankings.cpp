#include "domain/rankings.hpp"

namespace tk::domain {

std::optional<RankWindow> parse_rank_window(std::string_view s) {
  if (s == "1h") return RankWindow::h1;
  if (s == "24h") return RankWindow::h24;
  return std::nullopt;
}

std::string_view to_string(RankWindow w) { return w == RankWindow::h1 ? "1h" : "24h"; }

Millis window_ms(RankWindow w) { return w == RankWindow::h1 ? 3600 * 1000 : 24 * 3600 * 1000; }

std::vector<std::int64_t> window_buckets(RankWindow w, Millis now) {
  const std::int64_t last = rank_bucket(now);
  const std::int64_t n = window_ms(w) / kRankBucketMs;
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(n));
  for (std::int64_t b = last; b > last - n; --b) out.push_back(b);
  return out;
}

}  // namespace tk::domain
