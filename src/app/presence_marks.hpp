#pragma once
// Presence: the waiting tickets seen polling, per performance, gathered in memory and written to
// Redis once a second by the presence loop (workers::Background), so a poll costs no Redis call.
// Thread-safe: polls on every I/O thread note into one of a few shards (a short lock each); the
// loop takes everything at once. A batch that failed to reach Redis is put back and merged with
// the next, so a Redis outage never makes a polling buyer look gone.
// A waiting ticket's polls are noted once per window (note_poll): a client polling every second
// costs one mark per window instead of one per poll. The mark written is then up to a window
// older than the last poll; the caller keeps the window a small part of the presence timeout.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"

namespace tk::app {

class PresenceMarks {
 public:
  struct Batch {
    std::string perf;
    std::vector<std::int64_t> positions;  // ascending, each once
  };

  void note(std::string_view perf, std::int64_t position);
  // A waiting ticket's poll at `now`: noted unless this thread's shard noted the place already
  // in the same window (multiples of window_ms; <= 0: always noted).
  void note_poll(std::string_view perf, std::int64_t position, Millis now, Millis window_ms);
  // Everything noted since the last take, one batch per performance. With `now`, also forgets
  // the windows of performances nobody polled for a window.
  std::vector<Batch> take(Millis now = 0);
  // A batch that could not be written: noted again.
  void put_back(Batch b);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // The places a shard noted in the current window of one performance, one bit each.
  struct Window {
    std::int64_t index = -1;
    Millis length = 0;
    std::vector<std::uint64_t> bits;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<std::int64_t>, Hash, std::equal_to<>> by_perf;
    std::unordered_map<std::string, Window, Hash, std::equal_to<>> windows;
  };
  // Positions past this are always noted (bounds a window's bitmap to 2 MiB).
  static constexpr std::int64_t kMaxWindowPosition = std::int64_t{1} << 24;
  static constexpr std::size_t kShards = 8;
  std::array<Shard, kShards> shards_;
};

}  // namespace tk::app
