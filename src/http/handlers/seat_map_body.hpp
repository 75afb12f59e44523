#pragma once
// The seat map bodies and their per-thread cache. A 50,000-seat map is ~2.5 MB of JSON and costs
// milliseconds to build, while every admitted buyer reads it — or, in a big venue, the section
// summary and one section (GET .../sections, GET .../seats?section=), which is what keeps a
// stadium's on-sale from sending megabytes to every admitted buyer. All of them come out of one
// pass over the map. Each I/O thread keeps the last bodies per performance and rebuilds them only
// when the seat version moved, a held seat's expiry passed, or they are older than a hard limit.
// Between version checks (kRecheckMs) the body is served as is; a map up to 100 ms old is fine
// because the hold script has the last word. Holds, releases and payments made through this process
// skip that window (note_local_write), so a buyer reading the map right after their own hold sees
// it. Not thread-safe by design: one cache per io_context (shared-nothing); only the write counter
// is shared.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "app/seats.hpp"

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
// The full body alone (tests and the microbenchmark).
std::string seat_map_body(const app::SeatMap& m);

class SeatMapCache {
 public:
  static constexpr Millis kRecheckMs = 100;  // serve without asking Redis for this long
  static constexpr Millis kMaxAgeMs = 2000;  // rebuild at least this often, whatever the version

  using Bodies = std::shared_ptr<const SeatMapBodies>;
  // Bodies that need no version check (checked less than kRecheckMs ago), or nullptr.
  Bodies fresh(std::string_view perf, Millis now) const;
  // Bodies still exact for `version` at `now` (marks them checked), or nullptr. `writes` is
  // writes() read before the version was fetched.
  Bodies current(std::string_view perf, std::int64_t version, Millis now, std::uint64_t writes);
  Bodies put(std::string_view perf, const app::SeatMap& m, Millis now, std::uint64_t writes);
  static std::uint64_t writes() { return writes_.load(std::memory_order_relaxed); }
  // Called after a hold, release or payment in this process: every thread re-checks the version.
  static void note_local_write() { writes_.fetch_add(1, std::memory_order_relaxed); }

 private:
  struct Entry {
    std::int64_t version = 0;
    Millis valid_until = 0, built_at = 0, checked_at = 0;
    std::uint64_t writes = 0;  // writes_ when last checked
    Bodies bodies;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> map_;
  static inline std::atomic<std::uint64_t> writes_{0};
};

}  // namespace tk::http
