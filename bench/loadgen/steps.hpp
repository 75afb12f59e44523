#pragma once
// Step scenarios for bench/run.sh: one kind of request measured at a time, after an unmeasured
// setup. join: one join per buyer. poll: everyone joins, then status polls. hold: everyone joins
// and is admitted, then holds of disjoint free seats. order: same plus the holds, then order +
// payment per buyer. The measured phase keeps --concurrency requests in flight (closed) or sends
// --rate per second (open), for --duration seconds or until the buyers run out.
#include <barrier>

#include "run.hpp"

namespace loadgen {

// Per-buyer state the step scenarios share between phases and threads (each buyer is written
// only by the thread that owns its items; phases are separated by a barrier).
struct StepShared {
  struct Buyer {
    std::string ticket, access, hold_id;
  };
  std::vector<Buyer> buyers;
  std::vector<std::uint32_t> usable;  // buyers the measured phase uses, in item order
  std::vector<std::string> seat_ids;  // hold/order: seats_per * usable.size() free seats
  int seats_per = 4;
  std::string setup_error;  // set by the thread that found the setup impossible
};

Result run_steps(Run& run, StepShared& shared, int shard, std::barrier<>& barrier);

}  // namespace loadgen
