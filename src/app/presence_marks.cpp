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

void PresenceMarks::note_poll(std::string_view perf, std::int64_t position, Millis now,
                              Millis window_ms) {
  if (window_ms <= 0 || position < 0 || position >= kMaxWindowPosition || now < 0) {
    note(perf, position);
    return;
  }
  auto& sh = shards_[shard_of_this_thread(kShards)];
  std::lock_guard lk(sh.mu);
  auto w = sh.windows.find(perf);
  if (w == sh.windows.end()) w = sh.windows.emplace(std::string(perf), Window{}).first;
  Window& win = w->second;
  const std::int64_t index = now / window_ms;
  if (win.index != index || win.length != window_ms) {
    win.index = index;
    win.length = window_ms;
    std::fill(win.bits.begin(), win.bits.end(), 0);
  }
  const auto word = static_cast<std::size_t>(position >> 6);
  const std::uint64_t bit = std::uint64_t{1} << (position & 63);
  if (word >= win.bits.size()) win.bits.resize(std::max(word + 1, win.bits.size() * 2), 0);
  if (win.bits[word] & bit) return;
  win.bits[word] |= bit;
  auto it = sh.by_perf.find(perf);
  if (it == sh.by_perf.end()) it = sh.by_perf.emplace(std::string(perf), 0).first;
  it->second.push_back(position);
}

std::vector<PresenceMarks::Batch> PresenceMarks::take(Millis now) {
  std::unordered_map<std::string, std::vector<std::int64_t>> all;
  for (auto& sh : shards_) {
    std::unordered_map<std::string, std::vector<std::int64_t>, Hash, std::equal_to<>> mine;
    {
      std::lock_guard lk(sh.mu);
      mine.swap(sh.by_perf);
      if (now > 0) {
        std::erase_if(sh.windows,
                      [&](const auto& kv) { return now / kv.second.length > kv.second.index + 1; });
      }
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
