#pragma once
// The seat map bodies and their per-thread cache. A 50,000-seat map is ~2.5 MB of JSON and costs
// milliseconds to build, while every admitted buyer reads it — or, in a big venue, the section
// summary and one section (GET .../sections, GET .../seats?section=), which is what keeps a
// stadium's on-sale from sending megabytes to every admitted buyer. All of them come out of one
// pass over the map, which encodes again only the sections that changed since the last build.
// Each I/O thread keeps the last bodies per performance and looks at the seat
// version at most once per window. They are rebuilt when the version moved, when a seat they show
// held is past its hold's expiry (it must show available at once), or when they are older than a
// hard limit — once, by the first reader, while the others wait for that build (api.cpp). The
// window is 100 ms, longer for maps that are costly to rebuild (20x the last build's time, up to
// 1 s), so rebuilding stays a small share of a core whatever the venue's size and the rate of
// holds; a map a window old is fine because the hold script has the last word. A buyer who just
// held, released or paid through this thread skips the window (RecentWrites) and sees their own
// change at once. Not thread-safe by design: one cache per io_context (shared-nothing). A buyer
// whose next request lands on another thread sees a map at most one window old.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/seats.hpp"
#include "common/string_map.hpp"

namespace tk::http {

// One section's seats, encoded once and kept between builds: a build encodes again only the
// sections where a seat changed state, so a stadium's rebuild costs what changed since the last
// one (the holds and sales of one window), not the venue's size.
struct SeatSection {
  // The layout's section (its name and grades): the bodies holding this hold its layout.
  const app::LayoutSection* of = nullptr;
  std::string seats;   // the section's seat objects, comma-separated, layout order
  std::string states;  // one byte (app::SeatState) per seat, what `seats` shows
  std::int64_t available = 0, held = 0, sold = 0;
  std::int64_t count() const { return static_cast<std::int64_t>(states.size()); }
};

// Every body one seat map answers with. The summary is encoded at each build; the full map and a
// section's body are put together when asked (one copy, as any response takes), so a build never
// writes the megabytes of a stadium's full map that its buyers do not read.
struct SeatMapBodies {
  std::int64_t version = 0;
  std::string summary;  // GET .../sections: {"version", "sections": [{"name", "seats",
                        //   "available", "held", "sold", "grades": [...]}]}, layout order
  std::vector<std::shared_ptr<const SeatSection>> sections;  // as the layout's sections
  // The layout encoded: a later build from the same layout has the same sections, and keeps
  // those whose states did not change. Held, so that its address cannot be another layout's.
  std::shared_ptr<const app::Layout> layout;
  int encoded = 0;   // sections encoded by this build (the rest were kept)
  Millis as_of = 0;  // when Redis was asked for the state these bodies show

  // GET .../seats: {"version", "seats": [{"id", "state"}]}, grouped by section.
  std::string full() const;
  // GET .../seats?section=NAME: {"version", "section", "seats": [...]}; nullopt if no such section.
  std::optional<std::string> section(std::string_view name) const;
};

// The bodies of `m` (none without a layout). With `previous` (the last bodies built for the same
// performance), sections of the same layout whose seats all show the same states are taken
// over, not encoded.
SeatMapBodies seat_map_bodies(const app::SeatMap& m, const SeatMapBodies* previous = nullptr);

class SeatMapCache {
 public:
  static constexpr Millis kRecheckMs = 100;     // the shortest window: serve unchecked this long
  static constexpr Millis kMaxWindowMs = 1000;  // the longest, for maps costly to rebuild
  static constexpr int kWindowPerBuildMs = 20;  // window = 20 x the last build's duration
  static constexpr Millis kMaxAgeMs = 2000;     // rebuild at least this often, whatever the version

  using Bodies = std::shared_ptr<const SeatMapBodies>;
  // Bodies that need no version check: checked less than a window ago, and after `since` (the
  // reader's own last write, 0 if none), and no hold they show has run out since (the contract:
  // a seat whose hold expired shows available at once).
  Bodies fresh(std::string_view perf, Millis now, Millis since = 0) const;
  // Bodies still exact for `version` at `now` (marks them checked), or nullptr.
  Bodies current(std::string_view perf, std::int64_t version, Millis now);
  // Keeps `built`, the bodies of `m`, the state as of `now`. What the rebuild cost (`build_ms`:
  // reading the state and encoding it, measured by the caller) sets how long they are served
  // unchecked.
  Bodies put(std::string_view perf, const app::SeatMap& m, SeatMapBodies built, Millis now,
             Millis build_ms);
  // The last bodies kept for `perf`, however old (what a rebuild starts from), or nullptr.
  Bodies last(std::string_view perf) const;

 private:
  struct Entry {
    std::int64_t version = 0;
    Millis valid_until = 0, built_at = 0, checked_at = 0, window = kRecheckMs;
    Bodies bodies;
  };
  StringMap<Entry> map_;
};

// When each account last changed seats (hold, release, payment) through this thread, for
// SeatMapCache::fresh. Entries older than the longest window are useless (a body served by then
// was checked after them) and are dropped, so the map holds about the last second of writers.
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
