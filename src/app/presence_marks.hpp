#pragma once
// Presence: the waiting tickets seen polling, per performance, gathered in memory and written to
// Redis once a second by the presence loop (workers::Background), so a poll costs no Redis call.
// Thread-safe: polls on every I/O thread note into one of a few shards (a short lock each); the
// loop takes everything at once. A batch that failed to reach Redis is put back and merged with
// the next, so a Redis outage never makes a polling buyer look gone.
#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tk::app {

class PresenceMarks {
 public:
  struct Batch {
    std::string perf;
    std::vector<std::int64_t> positions;  // ascending, each once
  };

  void note(std::string_view perf, std::int64_t position);
  // Everything noted since the last take, one batch per performance.
  std::vector<Batch> take();
  // A batch that could not be written: noted again.
  void put_back(Batch b);

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::vector<std::int64_t>, Hash, std::equal_to<>> by_perf;
  };
  static constexpr std::size_t kShards = 8;
  std::array<Shard, kShards> shards_;
};

}  // namespace tk::app
