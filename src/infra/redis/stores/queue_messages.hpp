#pragma once
// The messages the waiting-room scripts publish on the tick channel (kTickChannel), decoded for
// the processes' queue views:
//   "perf|seq|from|to|admitted_at|tail|access_expires_at|gap_from|gap_to|abandoned"  a tick
//   "perf|seq|from|to|admitted_at|tail|access_expires_at|gap_from|gap_to"  (earlier releases: no
//   abandoned count) and "perf|seq|from|to|admitted_at|tail|access_expires_at" (no gap either)
//   "perf|sold_out"  the sale that took the last seat
//   "perf|left|position,position,..."  places given up (kLeave: one) or released by a tick
#include <cstdint>
#include <string_view>
#include <vector>

#include "app/ports/queue.hpp"
#include "app/queue_view.hpp"

namespace tk::redisstore {

struct QueueMessage {
  enum class Kind { unknown, tick, sold_out, left } kind = Kind::unknown;
  std::string_view perf;  // views into the decoded message
  app::AdmissionTick tick;
  std::int64_t tail = 0;
  std::vector<std::int64_t> positions;  // places given up or released, as published
  app::QueueGap gap;                    // empty in a message without one
};

QueueMessage parse_queue_message(std::string_view msg);

// Decodes one message and applies it to a process's view (unknown messages are ignored).
void apply_queue_message(std::string_view msg, app::QueueView& view, Millis now);

}  // namespace tk::redisstore
