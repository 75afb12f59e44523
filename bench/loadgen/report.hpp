#pragma once
// After the run: admission-order inversions, the store checks, the human and JSON reports and
// the --assert verdict.
#include <optional>
#include <string>
#include <vector>

#include "checks.hpp"
#include "presence.hpp"
#include "run.hpp"

namespace loadgen {

// Admission order: the position order (join order without a pre-queue; with one, the drawn
// order and then join order behind it).
struct Inversions {
  std::int64_t pairs = 0;     // (A, B): pos A < pos B, B seen admitted before A was told waiting
  std::int64_t buyers = 0;    // buyers A with at least one such B
  std::int64_t waiting = 0;   // buyers with a position told `waiting` at least once (the As)
  std::int64_t admitted = 0;  // buyers with a position seen `admitted` (the Bs)
};
// O(n log n): buyers by descending position, a Fenwick tree over the admission times seen so far.
Inversions count_inversions(const Run& run);

struct Findings {
  Result total;
  Inversions inv;
  std::optional<PgFindings> pg;
  std::string pg_error;
  std::optional<std::int64_t> pg_after;
  std::optional<std::int64_t> redis_after_joins;
  std::optional<std::int64_t> redis_queue_bytes;  // the waiting room's keys at the end
  std::optional<PresenceFindings> presence;
  std::vector<std::string> failures;  // --assert
};

// Fills `failures`; prints the report; writes --json. Returns the process exit code.
int report(const Run& run, Findings& f);

}  // namespace loadgen
