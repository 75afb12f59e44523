#pragma once
// Optional after-run checks straight in the stores: PostgreSQL (libpq, synchronous) and Redis
// (hiredis, synchronous). Both run outside the measured path.
#include <cstdint>
#include <optional>
#include <string>

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
  std::int64_t charges_without_paid_order = 0;
  std::int64_t charges = 0;  // charged rows of the provider ledger for the performance
};
// Throws std::runtime_error with libpq's message on failure.
PgFindings pg_findings(const std::string& url, const std::string& perf_id);

// INFO memory used_memory; nullopt if unreachable.
std::optional<std::int64_t> redis_used_memory(const std::string& url);

}  // namespace loadgen
