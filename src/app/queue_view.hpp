#pragma once
// In-memory view of every live waiting room, shared by all I/O threads of a process. Status polls
// are answered from it alone (no PostgreSQL, no Redis): the admission ticker and Redis pub/sub
// keep it fresh, and a periodic refresh covers missed messages.
#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "app/ports/queue.hpp"
#include "common/string_map.hpp"
#include "domain/model.hpp"

namespace tk::app {

struct LiveQueue {
  domain::Performance perf;  // settings + stored status + sold count
  std::int64_t serving = 0;
  std::int64_t tail = 0;
  std::int64_t seq = 0;
  std::int64_t expired_upto = 0;
  std::vector<AdmissionTick> ticks;  // within access_ttl, oldest first

  // Admission time of `position`, when it was admitted within the access window.
  std::optional<Millis> admitted_at(std::int64_t position) const;
  // Measured admissions per second over the recent ticks (0 when nothing was admitted lately).
  double admission_rate(Millis now) const;
};

class QueueView {
 public:
  // Immutable snapshot (copy-on-write): readers never block writers for long.
  std::shared_ptr<const LiveQueue> get(std::string_view perf) const;
  void put(std::shared_ptr<const LiveQueue> q);
  // Applies one admission tick (from pub/sub or the local ticker); ignores stale sequences.
  void apply_tick(const std::string& perf, const AdmissionTick& t, std::int64_t tail, Millis now);
  void update_perf(const domain::Performance& p);
  std::vector<std::string> known() const;

 private:
  mutable std::shared_mutex mu_;
  // The poll path looks up by the route's string_view, no copy.
  StringMap<std::shared_ptr<const LiveQueue>> map_;
};

}  // namespace tk::app
