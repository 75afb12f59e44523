#pragma once
// Admission control at the door: a CoDel-style controller per route class that refuses new
// requests (503 + Retry-After, before any work) once the requests it let in have started to
// queue, so the work it accepts stays fast and the rest hear at once when to come back.
//
// The signal is CoDel's: the FASTEST request of an interval. When even that one took longer
// than the class's unloaded latency plus `target`, every request of the interval waited (for
// Redis, a pool connection or the event loop): a standing queue, not a burst. It takes two
// requests inside at once: one alone (a quiet service on a busy machine) queued behind nothing,
// and refusing the next buyer would gain nothing. The actuator is a cap on the class's requests
// in flight, cut multiplicatively at each such interval (first to the concurrency actually
// reached, so an open door closes in a few intervals) and raised additively, while it binds, at
// each interval without one.
//
// Priority between classes: a class may yield to others (Router::add_door). Their standing queue
// cuts its cap as its own would, and through min_limit to zero, so when the purchase path starts
// to queue the crowd's entry is shed first, however fast its own requests are. A class that must
// never be refused is only measured (DoorOptions::sheds false): its queue closes the doors that
// yield to it.
//
// One Door per class per Server (one thread): nothing here locks. Time is passed in.
#include <array>
#include <chrono>
#include <cstdint>
#include <string>

namespace tk::http {

struct DoorOptions {
  // Wait a request of the class may take on top of the class's unloaded latency (0: door off).
  std::chrono::microseconds target{20000};
  std::chrono::microseconds interval{100000};  // how often the cap is judged
  int min_limit = 4;  // in flight always allowed (per server) while the classes yielded to are calm
  int max_limit = 4096;         // in flight never exceeded (per server)
  double backoff = 0.75;        // cap kept at an interval with a standing queue
  int max_retry_after_s = 120;  // the longest Retry-After a refusal carries
  bool sheds = true;            // false: measured only, never refuses (a class others yield to)
};

class Door {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Door(DoorOptions opt = {}, std::uint32_t seed = 1);

  // A request of the class arrives: true lets it in (it is in flight until leave()), false
  // refuses it. With the door off, always true.
  bool enter(Clock::time_point now);
  // A request let in has its response: `latency` from its arrival to now. `unavailable`: the
  // response is a 503 from what the request waited on (a pool or a store that could not serve it
  // in time); it counts with the door's own refusals toward the class's Retry-After, so a class
  // the door only measures asks its refused buyers back later while its backend is short too,
  // instead of every second (a retry storm that keeps the backend short).
  void leave(Clock::time_point now, std::chrono::microseconds latency, bool unavailable = false);
  // A request of the class refused before it entered, for want of what it would wait on (a
  // DoorClass::full predicate): counts toward the Retry-After as a 503 of that backend would.
  void turned_away(Clock::time_point now);
  // A class this one yields to is queueing: the interval under way counts as a standing queue.
  void yield(Clock::time_point now);
  // Whether the class's last judged interval had a standing queue (judging the one under way
  // first if it is over, so a class gone quiet or stalled is not judged on old news).
  bool queueing(Clock::time_point now);

  bool enabled() const { return opt_.target.count() > 0; }
  int limit() const { return static_cast<int>(limit_); }
  int in_flight() const { return in_flight_; }
  // Unloaded latency: the least of the fastest requests of the last kFloorIntervals intervals.
  std::chrono::microseconds floor() const;
  std::uint64_t refused() const { return refused_total_; }
  // Retry-After for a refusal, in whole seconds: the door's current wait, spread at random over
  // half to one and a half times it so the refused come back apart. The wait grows (x1.25 an
  // interval) while refusals (at the door, or 503s of requests let in) outnumber half of what
  // the class completes, and falls back (x0.8) once they are under a quarter: a crowd refused
  // every second would spend the service on refusals, so it is asked back spread over as long as
  // it takes to serve it.
  int retry_after();
  double retry_after_mean() const { return retry_after_s_; }

  static constexpr int kFloorIntervals = 64;

 private:
  void roll(Clock::time_point now);

  DoorOptions opt_;
  double limit_;
  int in_flight_ = 0;
  std::uint64_t refused_total_ = 0;
  // The interval being measured.
  Clock::time_point start_{};
  bool started_ = false;
  std::chrono::microseconds fastest_ = std::chrono::microseconds::max();
  int done_ = 0;
  int peak_ = 0;             // most in flight at once
  int inside_at_start_ = 0;  // in flight when it began
  int refused_now_ = 0;      // requests refused
  int unavailable_now_ = 0;  // requests let in and answered 503
  bool yielded_ = false;     // a class this one yields to queued
  bool queued_ = false;      // the verdict on the last judged interval
  double retry_after_s_ = 1.0;
  std::uint32_t rng_;
  // The fastest request of each of the last intervals that had one (ring).
  std::array<std::chrono::microseconds, kFloorIntervals> fastest_of_{};
  int fastest_count_ = 0, fastest_next_ = 0;
};

}  // namespace tk::http
