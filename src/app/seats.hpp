#pragma once
// Seat map and seat holds (leases in Redis, all-or-none, expiry by the service clock).
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "app/deps.hpp"
#include "app/identity.hpp"
#include "common/crypto/tokens.hpp"
#include "domain/best_available.hpp"

namespace tk::app {

enum class SeatState : std::uint8_t { available, held, sold };
const char* to_string(SeatState s);

struct SeatMap {
  std::int64_t version = 0;
  // The map stays exact until this time (the first held seat's expiry) or a new version.
  Millis valid_until = std::numeric_limits<Millis>::max();
  std::shared_ptr<const Layout> layout;
  std::vector<SeatState> states;  // one per seat of the layout, in its order
};

// Candidate groups a best-available hold offers the hold script: buyers asking at once from the
// same seat map each find one of them still free.
inline constexpr std::size_t kBestAvailableCandidates = 16;

// The performance a hold belongs to is part of its id, so DELETE /v1/holds/{id} finds it.
std::string make_hold_id(const std::string& perf_id);
std::optional<std::string> perf_of_hold(std::string_view hold_id);

class Seats {
 public:
  explicit Seats(Deps d) : d_(d) {}
  // Errc::not_admitted unless `access_token` is this account's valid token for the performance.
  Task<crypto::AccessToken> check_access(const Principal& who, const std::string& perf_id,
                                         std::string_view access_token);
  Task<SeatMap> seat_map(std::string perf_id);
  // The seat state version (bumped by every hold, release and sale): one cheap Redis read that
  // tells a cached map whether it is still current.
  Task<std::int64_t> seat_version(std::string perf_id);
  Task<domain::Hold> hold(const Principal& who, const crypto::AccessToken& access,
                          std::string perf_id, std::vector<std::string> seat_ids);
  // The server chooses the seats (domain/best_available.hpp) from the current seat map and holds
  // the first of its candidate groups still wholly free; seats_unavailable when none fit.
  // `hold_until`: the hold's expiry (0: the performance's hold TTL from now).
  Task<domain::Hold> hold_best(const Principal& who, const crypto::AccessToken& access,
                               std::string perf_id, domain::BestAvailableRequest want,
                               Millis hold_until = 0);
  Task<void> release(const Principal& who, std::string hold_id);

  // Loads sold markers and bought counts from PostgreSQL into an emptied Redis.
  // One reload per performance in flight on this thread; concurrent callers share it.
  Task<void> reload_markers(const std::string& perf_id);
  // Re-loads the markers when Redis knows fewer sold seats than `settled_sold`, a sold count of
  // PostgreSQL old enough that every payment in it has written its markers (a payment commits
  // first and writes them right after, so a count read a moment ago may be ahead of Redis without
  // anything lost). Catches a restarted Redis that lost its last writes. Otherwise rebuilds the
  // sold bitmap from the set when their counts differ (markers written without their index).
  enum class MarkerRepair { none, reloaded, bitmap_rebuilt };
  Task<MarkerRepair> reconcile_markers(const std::string& perf_id, std::int64_t settled_sold);

  // The venue's layout, cached for good once read (layouts never change).
  Task<std::shared_ptr<const Layout>> layout_of(const std::string& venue_id);
  // Each seat's index in the performance's venue layout, in the order of `seat_ids`: what sold
  // markers are written with (HoldStore::mark_sold). Best effort, never an error: -1 for a seat
  // not in the layout or when the layout cannot be read now (that marker is then read by id).
  Task<std::vector<std::int64_t>> layout_indexes(const std::string& perf_id,
                                                 const std::vector<std::string>& seat_ids);

 private:
  // Holds the first wholly free group of `groups` (seat ids already checked against the layout).
  Task<domain::Hold> take(const Principal& who, const crypto::AccessToken& access,
                          const domain::Performance& perf,
                          std::vector<std::vector<std::string>> groups, Millis hold_until = 0);
  Task<void> load_markers_from_orders(std::string perf_id);
  Task<std::shared_ptr<const Layout>> load_layout(std::string venue_id);
  Deps d_;
};

}  // namespace tk::app
