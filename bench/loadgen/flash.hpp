#pragma once
// The full buyer journey (--scenario flash), one instance per io thread over that thread's share
// of the buyers: join -> poll status (honouring Retry-After) -> seat map -> hold (some pick taken
// seats and retry, some release, some let it expire) -> order -> pay (idempotent retries).
#include "run.hpp"

namespace loadgen {

// Runs this thread's buyers to the end (or --timeout) and returns what it saw.
Result run_flash(Run& run, int shard);

}  // namespace loadgen
