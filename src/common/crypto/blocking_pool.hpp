#pragma once
// A small bounded thread pool for CPU-heavy work (argon2id) that must never run on an I/O thread.
// Coroutines co_await pool.run(f): f runs on a pool thread, and the coroutine resumes on its own
// executor. When the queue is full the call completes at once with Errc::overloaded, so callers
// answer 503 instead of letting latency grow without bound.
//
// Two lanes: `normal` jobs queue up to max_queue; `spare` jobs (work that may be skipped, such as
// the dummy hash of a log-in for an unknown e-mail) have a budget of their own, counted queued
// and running, and a thread takes one only when no normal job waits. So spare work never takes a
// normal job's queue slot nor delays it by more than one job already running.
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/crypto/errors.hpp"
#include "common/result.hpp"

namespace tk::crypto {

class BlockingPool {
 public:
  enum class Lane { normal, spare };

  // threads < 1 is taken as 1. max_queue counts normal jobs waiting for a thread (running ones
  // excluded); max_spare counts spare jobs queued or running.
  BlockingPool(int threads, std::size_t max_queue, std::size_t max_spare = 0);
  // Jobs already running finish; queued ones complete with Errc::overloaded without running.
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // F: () -> tk::Result<T>. An exception escaping f completes the call with Errc::overloaded.
  // A spare job over its budget completes at once with Errc::overloaded, like a full queue.
  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&>> run(F f, Lane lane = Lane::normal);

  std::size_t queued() const;  // normal jobs waiting, for metrics
  std::size_t spare_in_flight() const;
  // True when a normal job would be refused right now.
  bool saturated() const;
  std::size_t max_queue() const { return max_queue_; }
  std::size_t threads() const { return threads_.size(); }

 private:
  struct Job {
    virtual ~Job() = default;
    virtual void run() = 0;      // on a pool thread; keeps the result for finish()
    virtual void finish() = 0;   // completes with the result of run()
    virtual void abandon() = 0;  // completes with overloaded without running
  };

  template <class R, class Handler, class F>
  void submit(Handler handler, F f, Lane lane);
  bool try_push(std::unique_ptr<Job>& job, Lane lane);  // leaves `job` untouched when refused
  void worker();

  const std::size_t max_queue_;
  const std::size_t max_spare_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Job>> queue_;
  std::deque<std::unique_ptr<Job>> spare_;
  std::size_t spare_in_flight_ = 0;  // spare jobs queued or running
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Deliberately not a coroutine itself: one frame less, and GCC 12 mis-moves prvalue class
// arguments of coroutines (the moved string kept pointing into the caller's frame).
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> BlockingPool::run(F f, Lane lane) {
  using R = std::invoke_result_t<F&>;
  return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, void(R)>(
      [this, lane](auto handler, F fn) { submit<R>(std::move(handler), std::move(fn), lane); },
      boost::asio::use_awaitable, std::move(f));
}

template <class R, class Handler, class F>
void BlockingPool::submit(Handler handler, F f, Lane lane) {
  // Tracked work keeps the caller's io_context alive (run() does not return) while the job is out.
  auto work = boost::asio::prefer(boost::asio::get_associated_executor(handler),
                                  boost::asio::execution::outstanding_work.tracked);
  using Work = decltype(work);
  struct J final : Job {
    Handler h;
    F fn;
    Work ex;
    J(Handler h, F fn, Work e) : h(std::move(h)), fn(std::move(fn)), ex(std::move(e)) {}
    std::optional<R> result;
    void run() override {
      try {
        result.emplace(fn());
      } catch (...) {
        result.emplace(Errc::overloaded);
      }
    }
    void finish() override { complete(std::move(*result)); }
    void abandon() override { complete(R(Errc::overloaded)); }
    void complete(R r) {
      // Resume the coroutine on its own executor, never on the pool thread.
      auto e = std::move(ex);
      boost::asio::post(
          e, [h = std::move(h), r = std::move(r)]() mutable { std::move(h)(std::move(r)); });
    }
  };
  std::unique_ptr<Job> job = std::make_unique<J>(std::move(handler), std::move(f), std::move(work));
  if (!try_push(job, lane)) job->abandon();  // posts, so the caller is never resumed inline
}

}  // namespace tk::crypto
