#include "app/presence_marks.hpp"

#include <algorithm>
#include <atomic>

namespace tk::app {

namespace {
std::size_t shard_of_this_thread(std::size_t shards) {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine % shards;
}
}  // namespace

void PresenceMarks::note(std::string_view perf, std::int64_t position) {
  auto& sh = shards_[shard_of_this_thread(kShards)];
  std::lock_guard lk(sh.mu);
  auto it = sh.by_perf.find(perf);
  if (it == sh.by_perf.end()) it = sh.by_perf.emplace(std::string(perf), 0).first;
  it->second.push_back(position);
}

std::vector<PresenceMarks::Batch> PresenceMarks::take() {
  std::unordered_map<std::string, std::vector<std::int64_t>> all;
  for (auto& sh : shards_) {
    std::unordered_map<std::string, std::vector<std::int64_t>, Hash, std::equal_to<>> mine;
    {
      std::lock_guard lk(sh.mu);
      mine.swap(sh.by_perf);
    }
    for (auto& [perf, v] : mine) {
      auto& dst = all[perf];
      if (dst.empty()) {
        dst = std::move(v);
      } else {
        dst.insert(dst.end(), v.begin(), v.end());
      }
    }
  }
  std::vector<Batch> out;
  out.reserve(all.size());
  for (auto& [perf, v] : all) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    out.push_back(Batch{perf, std::move(v)});
  }
  return out;
}

void PresenceMarks::put_back(Batch b) {
  auto& sh = shards_[shard_of_this_thread(kShards)];
  std::lock_guard lk(sh.mu);
  auto& dst = sh.by_perf[b.perf];
  dst.insert(dst.end(), b.positions.begin(), b.positions.end());
}

}  // namespace tk::app
