#pragma once
// Redis implementations of the app's ports (sessions, waiting room, seat holds). One instance
// per io_context, sharing that context's auto-pipelined client.
#include <memory>

#include "app/ports/holds.hpp"
#include "app/ports/identity.hpp"
#include "app/ports/queue.hpp"
#include "infra/redis/client.hpp"

namespace tk::redisstore {

inline constexpr const char* kTickChannel = "queue:ticks";

class Sessions final : public app::SessionStore {
 public:
  explicit Sessions(std::shared_ptr<redis::Client> c) : c_(std::move(c)) {}
  app::Task<void> put(std::string id, domain::Session s, Millis ttl_ms) override;
  app::Task<void> fill(std::string id, domain::Session s, Millis ttl_ms) override;
  app::Task<app::CachedSession> get(std::string id) override;
  app::Task<void> revoke(std::string id, Millis ttl_ms) override;

 private:
  std::shared_ptr<redis::Client> c_;
};

class Queue final : public app::QueueStore {
 public:
  explicit Queue(std::shared_ptr<redis::Client> c) : c_(std::move(c)) {}
  app::Task<app::JoinOutcome> join(std::string perf, std::int64_t account_num, Millis now,
                                   std::int64_t tail_floor, std::int64_t presence_mark) override;
  app::Task<void> raise_hwm(std::string perf, std::int64_t hwm) override;
  app::Task<void> restore(std::string perf, const app::QueueSnapshot& s) override;
  app::Task<app::TickOutcome> tick(std::string perf, app::TickParams p) override;
  app::Task<app::QueueCounters> counters(std::string perf) override;
  app::Task<void> finish(std::string perf, std::int64_t position) override;
  app::Task<app::ClaimOutcome> claim(std::string perf, std::int64_t account_num,
                                     std::int64_t position, Millis issued_at) override;
  app::Task<bool> use_challenge(std::string perf, std::string challenge_id, Millis now,
                                Millis until) override;
  app::Task<app::LeaveOutcome> leave(std::string perf, std::int64_t position) override;
  app::Task<bool> gone(std::string perf, std::int64_t position) override;
  app::Task<void> mark_seen(std::string perf, std::vector<std::int64_t> positions,
                            std::int64_t mark, Millis now) override;

 private:
  std::shared_ptr<redis::Client> c_;
};

class Holds final : public app::HoldStore {
 public:
  explicit Holds(std::shared_ptr<redis::Client> c) : c_(std::move(c)) {}
  app::Task<app::HoldOutcome> hold(std::string perf, const app::HoldRequest& r) override;
  app::Task<std::optional<domain::Hold>> get(std::string perf, std::string hold_id) override;
  app::Task<bool> release(std::string perf, std::string hold_id, std::string account_id) override;
  app::Task<void> mark_sold(std::string perf, std::string hold_id, std::string account_id,
                            std::int64_t position, std::vector<std::string> seat_ids,
                            std::vector<std::int64_t> seat_indexes) override;
  app::Task<void> unmark_sold(std::string perf, std::string account_id,
                              std::vector<std::string> seat_ids,
                              std::vector<std::int64_t> seat_indexes) override;
  app::Task<void> load_markers(std::string perf, const std::vector<std::string>& sold,
                               const std::vector<std::int64_t>& sold_indexes,
                               const std::vector<std::pair<std::string, int>>& bought) override;
  app::Task<app::SeatStates> seat_states(std::string perf) override;
  app::Task<std::int64_t> version(std::string perf) override;
  app::Task<SoldCounts> sold_counts(std::string perf) override;
  app::Task<std::vector<std::string>> sold_ids(std::string perf) override;
  app::Task<void> set_sold_bits(std::string perf, const std::vector<std::string>& seat_ids,
                                const std::vector<std::int64_t>& seat_indexes, bool reset) override;
  app::Task<app::HoldCounters> counters(std::string perf, Millis now) override;
  app::Task<std::int64_t> holds_active(std::string perf, Millis now) override;

 private:
  // kSoldMarks: {bitmap, SCARD, BITCOUNT} of the performance's sold markers, read in one step.
  app::Task<redis::Reply> sold_marks(const std::string& perf);
  std::shared_ptr<redis::Client> c_;
};

// Key names, all under the performance's hash tag.
struct Keys {
  explicit Keys(const std::string& perf) : tag("{p:" + perf + "}") {}
  std::string tag;
  std::string q() const { return tag + ":q"; }
  std::string bucket(std::int64_t num) const { return tag + ":a:" + std::to_string(num / 128); }
  std::string ticks() const { return tag + ":ticks"; }
  std::string fin() const { return tag + ":fin"; }
  std::string claimed() const { return tag + ":claimed"; }
  std::string late() const { return tag + ":late"; }  // late holders of passed-over gap places
  std::string late_admitted() const { return tag + ":late_admitted"; }
  std::string stats() const { return tag + ":stats"; }
  std::string seat() const { return tag + ":seat"; }
  std::string sold() const { return tag + ":sold"; }
  std::string sold_bits() const { return tag + ":soldbits"; }  // see lua::kSell
  std::string hx() const { return tag + ":hx"; }
  std::string ah(const std::string& account) const { return tag + ":ah:" + account; }
  std::string hold(const std::string& id) const { return tag + ":h:" + id; }
  std::string loaded() const { return tag + ":loaded"; }
  std::string ver() const { return tag + ":ver"; }
  std::string bought() const { return tag + ":bought"; }
  std::string pow(const std::string& id) const { return tag + ":pow:" + id; }
  std::string gone() const { return tag + ":gone"; }        // places given up or abandoned
  std::string seen() const { return tag + ":seen"; }        // presence marks, 16 bits per position
  std::string seen_at() const { return tag + ":seen_at"; }  // when marks were last written
};

}  // namespace tk::redisstore
