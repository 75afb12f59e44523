#pragma once
// Supervised background work on one executor, a gate in the style of Seastar's `gate` and
// Redpanda's `spawn_with_gate`: every task is counted while it runs, a task that throws is logged
// and counted (`background_task_failures_total{task}`) and, for a supervised loop, started again
// after a backoff, and close() returns only once every task has finished. Nothing runs detached,
// so no failure goes unseen and shutdown never frees what a task still uses.
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/metrics.hpp"

namespace tk {

struct SupervisorOptions {
  // Pause before a failed loop runs again; doubles per consecutive failure up to backoff_max and
  // starts over once a run has lasted backoff_max without throwing.
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{10000};
};

class Supervisor {
 public:
  using Body = std::function<boost::asio::awaitable<void>()>;

  // Tasks run on `ex`; `metrics` (optional) must outlive the tasks.
  explicit Supervisor(boost::asio::any_io_executor ex, metrics::Registry* metrics = nullptr,
                      SupervisorOptions o = {});
  ~Supervisor();  // marks stopping; call close() first so no task outlives what it uses
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // A loop that must keep running: when `body` throws it is logged, counted and started again
  // after the backoff; when it returns (it saw stopping()) the task ends. Call on the executor or
  // before it runs. Ignored once stop was requested.
  void spawn_loop(std::string name, Body body);
  // A one-shot task under the gate: a throw is logged and counted, not retried.
  void spawn(std::string name, Body body);

  // Thread-safe. Loops see stopping() and end after their current round; sleep() wakes at once.
  void request_stop();
  bool stopping() const;
  // Waits `d`, or less when stop is requested. Returns false when stopping.
  boost::asio::awaitable<bool> sleep(std::chrono::milliseconds d);
  // On the executor: requests stop and completes once every task has returned.
  boost::asio::awaitable<void> close();
  std::size_t running() const;  // tasks not yet finished

  struct State;  // shared with the running tasks

 private:
  std::shared_ptr<State> s_;
};

// The text of an exception that escaped a task (its what(), or "unknown exception").
std::string describe_exception(std::exception_ptr e);

// A completion handler for co_spawn in place of `detached` where a task is owned elsewhere: its
// exception (if any) is logged under `what` and counted in background_task_failures_total.
std::function<void(std::exception_ptr)> log_failure(std::string what,
                                                    metrics::Registry* metrics = nullptr);

}  // namespace tk
