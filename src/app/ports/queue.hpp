#pragma once
#include <optional>
#include <string>
#include <vector>

#include "app/async.hpp"
#include "domain/model.hpp"

namespace tk::app {

// Positions (from, to] that may or may not have been handed out: after Redis lost data, every
// position between PostgreSQL's recorded tail and its reserved tail. Only those whose holders
// showed up with their ticket (claimed) take an admission slot or count as people ahead.
struct QueueGap {
  std::int64_t from = 0;
  std::int64_t to = 0;
  bool contains(std::int64_t position) const { return position > from && position <= to; }
};

struct AdmissionTick {  // positions (from, to] admitted at admitted_at
  std::int64_t seq = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;
  Millis admitted_at = 0;
  // End of the access window of these positions, fixed at admission: a later change of
  // access_ttl_seconds does not move it.
  Millis expires_at = 0;
  // For the admission log: positions of (from, to] nobody holds (passed over without taking a
  // slot) and the rate the tick admitted under.
  std::int64_t skipped = 0;
  int admit_limit = 0;
  int interval_ms = 0;
  // Positions of (from, to] whose holders left or stopped polling (passed over, in `skipped`
  // too): a poll of a position in such a tick asks the store whether it was one of them.
  std::int64_t abandoned = 0;
  // While Redis's data is being rebuilt after a loss: the gap when the tick ran, and the gap
  // positions it gave a slot (claimed ones of its range; late holders passed over before). Its
  // other gap positions were passed over: PostgreSQL keeps this so a second loss forgets nothing.
  QueueGap gap;
  std::vector<std::int64_t> gap_admitted;
  std::vector<std::int64_t> late_admitted;
};

// A gap position a tick gave a slot, as PostgreSQL recorded it (see AdmissionTick).
struct GapAdmission {
  std::int64_t position = 0;
  Millis admitted_at = 0;
  bool late = false;  // passed over by an earlier tick, let in by this one
};

// One entry of the tamper-evident admission log (an admission tick as PostgreSQL chained it):
// hash = SHA-256(prev_hash || seq || from || to || admitted_at), integers as 8-byte big-endian.
struct AuditEntry {
  std::int64_t seq = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;
  Millis admitted_at = 0;
  std::int64_t skipped = 0;
  int admit_limit = 0;  // 0: not known (ticks recorded before the log existed)
  int interval_ms = 0;
  std::string prev_hash;  // lowercase hex, 64 digits
  std::string hash;
};

// What a restarted or emptied Redis resumes from (PostgreSQL's high-water marks).
struct QueueSnapshot {
  std::int64_t tail_reserved = 0;  // >= every position ever handed out
  std::int64_t tail = 0;           // recorded tail: every position <= it was handed out
  std::int64_t serving = 0;
  std::int64_t seq = 0;
  Millis epoch = 0;
  std::int64_t expired_upto = 0;             // positions <= this had their access window run out
  std::vector<AdmissionTick> recent_ticks;   // from the first one still within its window
  std::vector<GapAdmission> gap_admissions;  // above expired_upto
};

struct JoinOutcome {
  enum class Kind { created, existing, not_loaded, need_reserve } kind = Kind::created;
  std::int64_t position = 0;
  Millis issued_at = 0;
  std::int64_t hwm = 0;  // for need_reserve
};

struct TickParams {
  Millis now = 0;
  int interval_ms = 1000;
  int admit_per_interval = 100;
  int max_active = 1000;
  Millis access_ttl_ms = 600000;
  bool paused = false;
  std::int64_t expected_seq = -1;  // -1: do not compare
  // Inventory bound (see the tick script): the performance's seats (0: no bound), the sold count
  // PostgreSQL last reported, and the share of the unsold seats' buyers admitted at once.
  std::int64_t seat_count = 0;
  std::int64_t sold_floor = 0;
  int inventory_percent = 0;
  // Positions 1..tail_floor are held (a drawn pre-queue): the tail is at least there.
  std::int64_t tail_floor = 0;
  // Presence (0: off): a waiting position last seen more than this many seconds before
  // `presence_mark` (domain::presence_mark of now) is passed over as abandoned.
  std::int64_t presence_window_s = 0;
  std::int64_t presence_mark = 0;  // also with presence off when the idle window is on
  // Idle buyers (0: off): an admitted place whose token was not used for this many seconds,
  // counted from the later of its admission and its last use, gives the capacity back.
  std::int64_t idle_window_s = 0;
};

struct TickOutcome {
  enum class Kind { ticked, skipped, not_loaded } kind = Kind::skipped;
  AdmissionTick tick;  // valid when ticked and to > from
  std::int64_t seq = 0;
  std::int64_t serving = 0;
  std::int64_t tail = 0;
  std::int64_t hwm = 0;  // reserved bound Redis knows
  std::int64_t active = 0;
  std::int64_t holds_expired = 0;
  QueueGap gap;  // Redis's gap when it ticked (see QueueView::apply_tick)
  // The most this tick could admit by the inventory bound (-1: no bound).
  std::int64_t inventory_room = -1;
  // Admitted places whose buyers never used the access token within the presence window, or
  // stopped using it for the idle window: their capacity came back with this tick (they poll
  // abandoned, their holds are refused). Ascending.
  std::vector<std::int64_t> released;
  // When the next tick can admit (the script's interval rule), ticked or skipped; 0: unknown (not
  // loaded, a stale sequence being repaired).
  Millis next_at = 0;
};

struct QueueCounters {
  bool loaded = false;
  std::int64_t tail = 0;
  std::int64_t serving = 0;
  std::int64_t seq = 0;
  std::int64_t expired_upto = 0;
  std::int64_t finished_in_window = 0;
  std::vector<AdmissionTick> ticks;  // from the first one still within its access window
  QueueGap gap;
  std::vector<std::int64_t> claimed;    // claimed gap positions above expired_upto, ascending
  std::int64_t unclaimed_admitted = 0;  // unclaimed gap positions in (expired_upto, serving]
  // Places given up or released (gone) above expired_upto, ascending; at most 10,000 of each side
  // of serving.
  std::vector<std::int64_t> left;
};

// What a ticket's holder showing up did to its position.
enum class ClaimOutcome {
  none,     // not a gap position (or its window is over): nothing to claim
  claimed,  // a gap position, claimed now or before: it takes an admission slot
  waiting,  // a gap position the ticks passed over before its holder came: a coming tick admits it
};

enum class LeaveOutcome {
  left,  // given up: passed over when its turn comes, or its capacity back if admitted
  over,  // the place's access window had ended already: nothing to give back
};

// What PostgreSQL has recorded; Redis behind any of it lost data it had acknowledged.
struct LedgerMarks {
  std::int64_t seq = 0;
  std::int64_t tail = 0;
  std::int64_t serving = 0;
  std::int64_t tail_reserved = 0;
  // The end of the last recorded admission below the tick just recorded (before it was): short
  // of the tick's start when a tick admitted by Redis was never recorded (its process died).
  std::int64_t recorded_below = 0;
};

// Redis side of the waiting room: join dedupe + tail, admission ticks, finished buyers.
class QueueStore {
 public:
  virtual ~QueueStore() = default;
  // `tail_floor`: positions 1..tail_floor are taken (a drawn pre-queue): a new place comes after.
  // `presence_mark` (0: presence off): the place is marked seen with it.
  virtual Task<JoinOutcome> join(std::string perf, std::int64_t account_num, Millis now,
                                 std::int64_t tail_floor, std::int64_t presence_mark) = 0;
  virtual Task<void> raise_hwm(std::string perf, std::int64_t hwm) = 0;
  virtual Task<void> restore(std::string perf, const QueueSnapshot& s) = 0;
  virtual Task<TickOutcome> tick(std::string perf, TickParams p) = 0;
  virtual Task<QueueCounters> counters(std::string perf) = 0;
  virtual Task<void> finish(std::string perf, std::int64_t position) = 0;
  // A ticket's holder showed up: a gap position becomes a claimed one (or, once passed over,
  // waits for a tick), and the account's entry is put back if Redis lost it (a later join
  // without the ticket returns this place). not_found: the queue itself is not in Redis (restore
  // it, then claim).
  virtual Task<ClaimOutcome> claim(std::string perf, std::int64_t account_num,
                                   std::int64_t position, Millis issued_at) = 0;
  // Marks a proof-of-work challenge used until `until`: true the first time, false after. A
  // Redis that lost the mark lets a challenge be used once more before it expires (a lease: it
  // costs one place, never a seat or a charge).
  virtual Task<bool> use_challenge(std::string perf, std::string challenge_id, Millis now,
                                   Millis until) = 0;
  // Gives a place up; the account's next join is a new place. not_found: the queue is not in
  // Redis.
  virtual Task<LeaveOutcome> leave(std::string perf, std::int64_t position) = 0;
  // Whether the place was given up or passed over as abandoned (within its access window).
  virtual Task<bool> gone(std::string perf, std::int64_t position) = 0;
  // Presence: these positions were seen (polled) at `mark` (domain::presence_mark of `now`); the
  // marks are fresh as of `now` (the tick judges presence only on fresh marks).
  virtual Task<void> mark_seen(std::string perf, std::vector<std::int64_t> positions,
                               std::int64_t mark, Millis now) = 0;
};

// PostgreSQL side: high-water marks and the record of every admission tick.
class QueueLedger {
 public:
  virtual ~QueueLedger() = default;
  virtual Task<QueueSnapshot> load(std::string perf, Millis now, Millis access_ttl_ms) = 0;
  // Raises tail_reserved to at least `at_least` + block; returns the new reserved bound.
  virtual Task<std::int64_t> reserve(std::string perf, std::int64_t at_least,
                                     std::int64_t block) = 0;
  // Records an admission tick (to > from) or, for a tick that admitted nobody, the tail alone;
  // returns the marks recorded so far.
  virtual Task<LedgerMarks> record_tick(std::string perf, const AdmissionTick& t,
                                        std::int64_t tail) = 0;
  virtual Task<std::optional<AdmissionTick>> tick_for_position(std::string perf,
                                                               std::int64_t position) = 0;
  // Admission log entries with seq > after, in order, at most `limit`; not_found: no such queue.
  virtual Task<std::vector<AuditEntry>> audit(std::string perf, std::int64_t after, int limit) = 0;
};

// A pre-queue join as PostgreSQL recorded it (durable before the join is acknowledged).
struct PreQueueJoin {
  bool closed = false;  // the pre-queue had closed: join behind it instead
  bool created = false;
  std::int64_t entry = 0;
};

// A closed pre-queue: every entry, ascending, with its account, and the seed that orders them.
struct PreQueueList {
  std::string seed;                        // 32 bytes
  std::vector<std::int64_t> entries;       // ascending
  std::vector<std::int64_t> account_nums;  // of entries[i]
};

struct PreQueueFairness {
  std::string seed_commitment;  // hex SHA-256 of the seed
  std::string seed;             // hex, once the pre-queue closed; empty before
  std::int64_t size = 0;        // entries so far, final once closed
  bool closed = false;
};

// PostgreSQL side of the pre-queue. A close and the joins exclude each other, so no entry is
// added after the list was drawn.
class PreQueueRepo {
 public:
  virtual ~PreQueueRepo() = default;
  // One entry per account; the same entry again for an account that has one.
  virtual Task<PreQueueJoin> join(std::string perf, std::string account_id,
                                  std::int64_t account_num, Millis now) = 0;
  // Closes the pre-queue (once; later calls change nothing) and returns its entries.
  // not_found: no such performance or it has no pre-queue.
  virtual Task<PreQueueList> close(std::string perf) = 0;
  // not_found: no such performance or it has no pre-queue.
  virtual Task<PreQueueFairness> fairness(std::string perf) = 0;
  // Takes an entry out of a pre-queue still open (nothing to do for one already gone). false:
  // the pre-queue had closed, the entry is in the drawn list and leaves by its position.
  virtual Task<bool> leave(std::string perf, std::int64_t entry) = 0;
};

}  // namespace tk::app
