#pragma once
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/async.hpp"
#include "domain/model.hpp"

namespace tk::app {

struct HoldRequest {
  std::string hold_id;
  std::string account_id;
  std::int64_t position = 0;
  std::vector<std::string> seat_ids;
  // Best available: further groups of as many seats, worse than seat_ids; the store holds the
  // first group wholly free (HoldOutcome::group) or answers unavailable for seat_ids.
  std::vector<std::vector<std::string>> alternatives;
  Millis now = 0;
  Millis expires_at = 0;
  int max_per_account = 4;
  int seat_count = 0;    // capacity: all sold -> sold_out
  Millis gc_ttl_ms = 0;  // Redis TTL: garbage collection only, never the expiry decision
};

struct HoldOutcome {
  // left: the access token's place was given up (DELETE .../queue): no more holds with it.
  enum class Kind { held, unavailable, limit, sold_out, not_loaded, left } kind = Kind::held;
  std::vector<std::string> unavailable_seats;
  std::int64_t version = 0;
  std::size_t group = 0;  // held: 0 for seat_ids, k for alternatives[k - 1]
};

struct SeatStates {
  std::int64_t version = 0;
  std::unordered_map<std::string, Millis> held;  // seat -> hold expiry (may be past: expired)
  // The sold seats: a bitmap over the venue's layout order (bit i, most significant bit of a byte
  // first, is venue.seats[i]) when the store's bitmap holds every sold marker, else their ids.
  bool sold_as_bits = false;
  std::string sold_bits;
  std::vector<std::string> sold;
};

struct HoldCounters {
  std::int64_t holds_active = 0;
  std::int64_t holds_expired_total = 0;
  std::int64_t seats_held = 0;
  std::int64_t seats_sold = 0;
};

// Seat holds are leases in Redis; every decision on expiry uses the `now` passed in.
class HoldStore {
 public:
  virtual ~HoldStore() = default;
  virtual Task<HoldOutcome> hold(std::string perf, const HoldRequest& r) = 0;
  virtual Task<std::optional<domain::Hold>> get(std::string perf, std::string hold_id) = 0;
  // Compare-and-delete by hold id: seats now held by someone else are never touched.
  virtual Task<bool> release(std::string perf, std::string hold_id, std::string account_id) = 0;
  // Sold markers are written with each seat's index in the venue's layout (`seat_indexes`, in
  // the order of the ids; -1 or missing where unknown: that marker is then read from the ids).
  // After a committed sale: permanent sold markers, hold consumed, buyer finished.
  virtual Task<void> mark_sold(std::string perf, std::string hold_id, std::string account_id,
                               std::int64_t position, std::vector<std::string> seat_ids,
                               std::vector<std::int64_t> seat_indexes) = 0;
  // After a committed refund: the seats' sold markers removed (only those still set, so a repeat
  // changes nothing), the buyer's bought count lowered by as many, the seat-map version bumped.
  virtual Task<void> unmark_sold(std::string perf, std::string account_id,
                                 std::vector<std::string> seat_ids,
                                 std::vector<std::int64_t> seat_indexes) = 0;
  // Re-load sold markers and per-account bought counts from PostgreSQL (Redis came back empty).
  virtual Task<void> load_markers(std::string perf, const std::vector<std::string>& sold,
                                  const std::vector<std::int64_t>& sold_indexes,
                                  const std::vector<std::pair<std::string, int>>& bought) = 0;
  virtual Task<SeatStates> seat_states(std::string perf) = 0;
  virtual Task<std::int64_t> version(std::string perf) = 0;
  // Number of permanent sold markers (compared with PostgreSQL's count to detect lost writes)
  // and the sold bitmap's count of seats (equal when the bitmap is exact), read in one step so a
  // sale between two reads cannot make them differ.
  struct SoldCounts {
    std::int64_t markers = 0;
    std::int64_t bits = 0;
  };
  virtual Task<SoldCounts> sold_counts(std::string perf) = 0;
  // The sold set's seat ids; writing the bits of those of `seat_ids` still in the set (`reset`:
  // clearing it first).
  virtual Task<std::vector<std::string>> sold_ids(std::string perf) = 0;
  virtual Task<void> set_sold_bits(std::string perf, const std::vector<std::string>& seat_ids,
                                   const std::vector<std::int64_t>& seat_indexes, bool reset) = 0;
  // Every counter; reads each held seat's expiry (O(seats held), for the operator's stats).
  virtual Task<HoldCounters> counters(std::string perf, Millis now) = 0;
  // Holds not yet expired: one ZCOUNT, cheap enough for a gauge refreshed every second.
  virtual Task<std::int64_t> holds_active(std::string perf, Millis now) = 0;
};

}  // namespace tk::app
