#pragma once
// After a flash run: what became of the places of buyers who went away (--p-silent) and of those
// passed over while they polled; and that none of them bought a seat.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "run.hpp"

namespace loadgen {

struct PresenceFindings {
  std::int64_t went_away = 0;                  // buyers who stopped polling with a place
  std::map<std::string, std::int64_t> states;  // their places' state polled after the run
  std::int64_t passed_over = 0;                // buyers told `abandoned` while they polled
  std::int64_t abandoned = 0;                  // places polling `abandoned`: both kinds
  double waited_s = 0;  // waited after the run for the service to judge the last admitted ones
  std::optional<std::int64_t> abandoned_paid;  // paid orders of the abandoned buyers (--pg-url)
  std::string error;                           // a place whose state could not be read, or PG
};

// Polls each silent buyer's ticket once, after waiting (with a presence timeout) until the
// service could have judged every place admitted during the run; then, with --pg-url, counts the
// paid orders of every buyer whose place polls `abandoned`.
PresenceFindings check_presence(const Run& run, const Result& total);

}  // namespace loadgen
