#pragma once
// The seat map bodies and their per-thread cache. A 50,000-seat map is ~2.5 MB of JSON and costs
// milliseconds to build, while every admitted buyer reads it — or, in a big venue, the section
// summary and one section (GET .../sections, GET .../seats?section=), which is what keeps a
// stadium's on-sale from sending megabytes to every admitted buyer. All of them come out of one
// pass over the map. Each I/O thread keeps the last bodies per performance and rebuilds them only
// when the seat version moved, a held seat's expiry passed, or they are older than a hard limit.
// Between version checks (kRecheckMs) the bodies are served as is; a map up to 100 ms old is fine
// because the hold script has the last word. A buyer who just held, released or paid through this
// thread skips that window (RecentWrites), so they see their own change at once; other buyers'
// writes cost no rebuild per request, which at an on-sale's hundreds of holds a second meant a
// rebuild for nearly every read. Not thread-safe by design: one cache per io_context
// (shared-nothing). A buyer whose next request lands on another thread sees a map at most
// kRecheckMs old.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/seats.hpp"
#include "common/string_map.hpp"

namespace tk::http {

// Every body one seat map answers with.
struct SeatMapBodies {
  std::string full;     // GET .../seats: {"version", "seats": [{"id", "state"}]}
  std::string summary;  // GET .../sections: {"version", "sections": [{"name", "seats",
                        //   "available", "held", "sold", "grades": [...]}]}, layout order
  // GET .../seats?section=NAME: {"version", "section", "seats": [...]}; nullptr if no such section.
  const std::string* section(std::string_view name) const;

  std::vector<std::pair<std::string, std::string>> by_section;  // (name, body), layout order
};

SeatMapBodies seat_map_bodies(const app::SeatMap& m);

class SeatMapCache {
 public:
  static constexpr Millis kRecheckMs = 100;  // serve without asking Redis for this long
  static constexpr Millis kMaxAgeMs = 2000;  // rebuild at least this often, whatever the version

  using Bodies = std::shared_ptr<const SeatMapBodies>;
  // Bodies that need no version check: checked less than kRecheckMs ago, and after `since` (the
  // reader's own last write, 0 if none). nullptr otherwise.
  Bodies fresh(std::string_view perf, Millis now, Millis since = 0) const;
  // Bodies still exact for `version` at `now` (marks them checked), or nullptr.
  Bodies current(std::string_view perf, std::int64_t version, Millis now);
  Bodies put(std::string_view perf, const app::SeatMap& m, Millis now);

 private:
  struct Entry {
    std::int64_t version = 0;
    Millis valid_until = 0, built_at = 0, checked_at = 0;
    Bodies bodies;
  };
  StringMap<Entry> map_;
};

// When each account last changed seats (hold, release, payment) through this thread, for
// SeatMapCache::fresh. Entries older than the recheck window are useless (a body served by then
// was checked after them) and are dropped, so the map holds about the last 100 ms of writers.
class RecentWrites {
 public:
  void note(std::string_view account, Millis now);
  Millis last(std::string_view account, Millis now) const;  // 0 if none within the window
  std::size_t size() const { return map_.size(); }

 private:
  StringMap<Millis> map_;
  Millis swept_at_ = 0;
};

}  // namespace tk::http
