#pragma once
// Optional after-run checks straight in the stores: PostgreSQL (libpq, synchronous) and Redis
// (hiredis, synchronous). Both run outside the measured path.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace loadgen {

// Sum of n_tup_ins + n_tup_upd + n_tup_del over the user tables; nullopt if unreachable.
std::optional<std::int64_t> pg_rows_written(const std::string& url);
// Same, once PostgreSQL's statistics stopped moving (backends flush them up to ~1 s late).
std::optional<std::int64_t> pg_rows_written_settled(const std::string& url);

struct PgFindings {
  std::int64_t tickets = 0;           // tickets of the performance
  std::int64_t seats_sold_twice = 0;  // seats with more than one ticket
  std::int64_t sold_rows = 0;         // performance_seats in state sold
  std::int64_t orders_paid = 0;
  std::int64_t paid_without_one_charge = 0;  // paid orders whose charges != 1
  // Charged but not (yet) paid after waiting for the service's reconciler (up to 120 s): an
  // attempt whose sale could not be written is in doubt until the reconciler completes the sale
  // or voids the charge. Nonzero here is a lost or double charge.
  std::int64_t charges_without_paid_order = 0;
  std::int64_t in_doubt_at_end = 0;  // the same count when the run ended, before the wait
  double settle_s = 0;               // how long the reconciler took to bring it to 0
  std::int64_t charges = 0;          // charged rows of the provider ledger for the performance
  // Admission ticks PostgreSQL recorded, and the time between consecutive ones (ms): against the
  // queue's interval it says whether the ticker kept the configured rate.
  std::int64_t admission_ticks = 0;
  std::int64_t tick_gap_median_ms = 0;
  std::int64_t tick_gap_p90_ms = 0;
};
// Throws std::runtime_error with libpq's message on failure.
PgFindings pg_findings(const std::string& url, const std::string& perf_id);

// Paid orders of the performance bought by these accounts. Throws like pg_findings.
std::int64_t pg_paid_orders_of(const std::string& url, const std::string& perf_id,
                               const std::vector<std::string>& account_ids);

// INFO memory used_memory; nullopt if unreachable.
std::optional<std::int64_t> redis_used_memory(const std::string& url);

// Bytes of the waiting room's own keys of a performance (MEMORY USAGE, every nested value
// counted): its state hash, the account buckets, the presence marks and the places given up. What
// a waiting buyer costs, apart from the sale's keys written meanwhile. nullopt if unreachable.
std::optional<std::int64_t> redis_queue_bytes(const std::string& url, const std::string& perf_id);

}  // namespace loadgen
