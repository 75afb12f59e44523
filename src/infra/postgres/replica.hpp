#pragma once
// Catalogue reads on a streaming replica, only while it is fresh. One checker per process
// measures the replica against the primary every interval and publishes the verdict; every
// thread's CatalogReader reads it and picks its replica or its primary pool.
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>

#include "infra/postgres/pool.hpp"

namespace tk::pg {

// Process-wide, thread-safe verdict of the last check.
class ReplicaFreshness {
 public:
  bool fresh() const { return fresh_.load(std::memory_order_relaxed); }
  void set(bool f) { fresh_.store(f, std::memory_order_relaxed); }

 private:
  // Stale until measured: the first reads after a start go to the primary.
  std::atomic<bool> fresh_{false};
};

// One check: true when the replica has replayed, within `max_lag` of the check's start,
// everything the primary had written at that start (`pg_current_wal_lsn()` on the primary,
// `pg_last_wal_replay_lsn()` on the replica, polled). A server reached through the read pool
// that is not in recovery is a primary (libpq's prefer-standby fell back to it): fresh. Either
// pool failing: not fresh. A replica that passed a check serves reads until the next one, so a
// read misses at most the commits of the last max_lag + interval.
asio::awaitable<bool> replica_fresh(Pool& primary, Pool& replica,
                                    std::chrono::milliseconds max_lag);

}  // namespace tk::pg
