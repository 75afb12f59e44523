#pragma once
// Waiting-room arithmetic for the answers to polls. The admission rule itself (who is admitted
// by a tick) lives only in the Redis tick script (infra/redis/stores/lua.hpp), which runs it
// atomically; its tests run that script against a real Redis.
#include <cstdint>

#include "common/clock.hpp"
#include "domain/model.hpp"

namespace tk::domain {

// Estimated wait from the measured admission rate (people/s); falls back to the configured rate
// when nothing was measured yet (a lull, or a paused sale).
std::int64_t estimated_wait_seconds(std::int64_t ahead, double measured_rate_per_s,
                                    double configured_rate_per_s);

// Seconds until the next poll: 1 s near the front, about a quarter of the expected wait further
// back, so the back of a long queue polls rarely (a million waiting buyers polling every 30 s
// would be most of an on-sale's traffic). Capped at a quarter of the access window (an admission
// the estimate did not foresee costs a buyer at most a quarter of their window) and at 120 s; at
// 30 s while no admission rate is known (paused or not yet open: it may resume any moment).
int retry_after_seconds(std::int64_t ahead, std::int64_t estimated_wait_s,
                        std::int64_t access_ttl_s, bool rate_known);

// Presence: a waiting ticket is seen each time it polls; one not seen for the performance's
// presence timeout is passed over as abandoned when its turn comes.
inline constexpr int kMinPresenceTimeout = 10;    // s: a few polls, the marks' flush and skew
inline constexpr int kMaxPresenceTimeout = 3600;  // s

// Idle buyers: an admitted buyer is seen each time the access is used (the buyer app keeps it in
// use while a sale page is open); one not seen for the idle timeout gives the place back.
inline constexpr int kMinIdleTimeout = 30;    // s: the buyer app's keep-alive, a few times over
inline constexpr int kMaxIdleTimeout = 3600;  // s

// Whether the queue keeps presence marks: for waiting tickets (presence) or admitted buyers
// (idle timeout).
bool keeps_marks(const QueueSettings& q);

// The mark a poll at `now` leaves: the second, mod 65535, plus 1 (0 means never marked). Marks
// of 16 bits wrap after 18 hours; the tick compares them modulo the same period.
std::int64_t presence_mark(Millis now);

// Seconds since the last mark past which the tick passes a position over: the timeout plus the
// marks' flush interval and the rounding of both marks to the second.
std::int64_t presence_window_seconds(int presence_timeout_s);
// The same slack for the idle timeout: seconds since the later of the admission and the last use
// past which the tick releases an admitted place.
std::int64_t idle_window_seconds(int idle_timeout_s);

// With presence on, a waiting ticket is asked to poll at least three times per timeout, so one
// that follows its Retry-After is never taken for gone.
int presence_retry_cap(int presence_timeout_s);

// A waiting ticket's polls leave one mark per window of this length (the first poll in it), so a
// client polling faster than asked costs no more marks. The mark then lags the last poll by up to
// a window: a ticket polling as told is marked at most retry cap + window (half the timeout)
// before any moment, well inside the judge's window.
Millis presence_poll_window_ms(int presence_timeout_s);

}  // namespace tk::domain
