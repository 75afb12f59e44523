#pragma once
// In-memory view of every live waiting room, shared by all I/O threads of a process. Status polls
// are answered from it alone (no PostgreSQL, no Redis): the admission ticker and Redis pub/sub
// keep it fresh, and a periodic refresh covers missed messages.
#include <atomic>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "app/ports/queue.hpp"
#include "app/prequeue_order.hpp"
#include "common/string_map.hpp"
#include "domain/model.hpp"

namespace tk::app {

struct LiveQueue {
  domain::Performance perf;  // settings + stored status + sold count
  std::int64_t serving = 0;
  std::int64_t tail = 0;
  std::int64_t seq = 0;
  std::int64_t expired_upto = 0;
  std::vector<AdmissionTick> ticks;   // from the first one still within its window, oldest first
  QueueGap gap;                       // positions that may never have been handed out
  std::vector<std::int64_t> claimed;  // gap positions whose holders showed up, ascending
  // Places given up (DELETE .../queue) or released by an admitted buyer who never used the access
  // token, above `expired_upto`, ascending: their polls answer abandoned at once (places passed
  // over by a tick are also that tick's `abandoned`).
  std::vector<std::int64_t> left;
  // The drawn pre-queue (positions 1..size), once this process drew it; shared by every copy.
  std::shared_ptr<const PreQueueOrder> pre;

  // The tick that admitted `position`, while it is in the view.
  std::optional<AdmissionTick> admitted_by(std::int64_t position) const;
  // End of a tick's access window (ticks recorded without one: admission + the current window).
  Millis access_expires_at(const AdmissionTick& t) const;
  // A gap position nobody has shown up for (as far as this process knows).
  bool unclaimed(std::int64_t position) const;
  // A place given up or released (as far as this process knows).
  bool has_left(std::int64_t position) const;
  // People before `position` not yet admitted, without unclaimed gap positions or places given
  // up.
  std::int64_t ahead_of(std::int64_t position) const;
  // Measured admissions per second over the recent ticks (0 when nothing was admitted lately).
  double admission_rate(Millis now) const;
};

class QueueView {
 public:
  // Immutable snapshot (copy-on-write): readers never block writers for long.
  std::shared_ptr<const LiveQueue> get(std::string_view perf) const;
  void put(std::shared_ptr<const LiveQueue> q);
  // Replaces the view even with a lower sequence (after Redis was repaired from PostgreSQL).
  void replace(std::shared_ptr<const LiveQueue> q);
  // The pre-queue drawn by this process (kept from then on; a second one is ignored).
  void set_prequeue(const std::string& perf, std::shared_ptr<const PreQueueOrder> order);
  // A gap position's holder showed up.
  void add_claim(const std::string& perf, std::int64_t position);
  // Places given up or released (by this process, or another's message): one copy of the view
  // for the whole batch a tick released.
  void add_left(std::string_view perf, std::span<const std::int64_t> positions);
  void add_left(std::string_view perf, std::int64_t position) {
    add_left(perf, std::span<const std::int64_t>(&position, 1));
  }
  // Applies one admission tick (from pub/sub or the local ticker); ignores stale sequences.
  // `gap`: Redis's gap when it ticked; a view that did not know it takes it (with no claim known,
  // its holders' polls ask Redis), so it never admits an unclaimed gap position for free.
  void apply_tick(const std::string& perf, const AdmissionTick& t, std::int64_t tail, Millis now,
                  QueueGap gap = {});
  // A performance's settings or status as changed by an operator in this process (at once).
  void update_perf(const domain::Performance& p);
  // Settings read by a periodic reload: ignored for a performance this process changed after
  // `read_at` (changes() taken before the read), so a list read just before an operator's pause
  // cannot undo it until the next reload.
  void update_perf(const domain::Performance& p, std::uint64_t read_at);
  // The last seat was sold (pushed by the sale, before PostgreSQL's count reaches the periodic
  // reload): waiting tickets poll sold_out at once. Counts as a change, so a reload read before
  // it cannot undo it; the next one brings PostgreSQL's count (lower again after a refund).
  void mark_sold_out(std::string_view perf);
  // Counts the operator changes update_perf(p) applied so far.
  std::uint64_t changes() const;
  std::vector<std::string> known() const;

 private:
  void set_perf(const domain::Performance& p);

  mutable std::shared_mutex mu_;
  std::uint64_t changes_ = 0;
  StringMap<std::uint64_t> changed_at_;  // performance -> changes_ after its last change
  // The poll path looks up by the route's string_view, no copy.
  StringMap<std::shared_ptr<const LiveQueue>> map_;
};

}  // namespace tk::app
