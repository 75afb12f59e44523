#pragma once
// The sale's route classes at the door (door.hpp), declared the same way wherever a buyer's
// request first arrives: in an API process (pattern B's one service, or pattern A's API
// processes) and in a gateway (pattern A), which measures what it forwards.
//
// The join is the class that sheds: a crowd larger than the service can take in is refused at
// once and asked back, spread over a wait that grows while it keeps coming. It yields to the
// waiting buyers' polls and to the sale itself (holds, orders, payments), which are only
// measured, never refused: when any of them starts to queue, the crowd's entry is shed until it
// drains. A cap on the sale judged on its own latency throttled the sale instead of the crowd
// (docs/BENCHMARKS.md, the door on the 1M crowd); the PostgreSQL pool still sheds what it cannot
// serve in time, and orders and payments are refused on arrival while it would.
#include <functional>

#include "http/door.hpp"
#include "http/router.hpp"

namespace tk::http {

struct SaleDoors {  // Router door ids; -1 when the door is off
  int poll = -1;
  int hold = -1;
  int order = -1;
  int payment = -1;
  int join = -1;
};

// The longest Retry-After of the classes that are only measured (their 503s, see Door::leave).
inline constexpr int kMeasuredMaxRetryAfterS = 10;

// Declares the five classes on `r` with `o` (the join's options; the others the same, measured
// only). A target of 0 turns the door off: nothing is declared. `database_full` (DoorClass::full
// of orders and payments, whose first step is a PostgreSQL statement): the pool would shed a new
// request now, so it is refused on arrival rather than after its session check.
SaleDoors add_sale_doors(Router& r, const DoorOptions& o,
                         const std::function<bool()>& database_full = {});

}  // namespace tk::http
