#pragma once
// Time buckets of the sales rankings (pure). Sales are counted per event in buckets of
// kRankBucketMs; a window is the union of the buckets it covers, the current one included (so a
// "1h" window spans between 55 and 60 minutes of sales plus the current bucket's part).
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/clock.hpp"

namespace tk::domain {

inline constexpr Millis kRankBucketMs = 5 * 60 * 1000;
// Buckets outlive the longest window by a margin (Redis TTL, garbage collection only).
inline constexpr Millis kRankBucketTtlMs = 24 * 3600 * 1000 + 2 * kRankBucketMs;

enum class RankWindow { h1, h24 };

// "1h" / "24h"; nullopt for anything else.
std::optional<RankWindow> parse_rank_window(std::string_view s);
std::string_view to_string(RankWindow w);
Millis window_ms(RankWindow w);

inline std::int64_t rank_bucket(Millis t) { return t / kRankBucketMs; }

// The buckets of the window ending at `now`, newest first.
std::vector<std::int64_t> window_buckets(RankWindow w, Millis now);

}  // namespace tk::domain
