#pragma once
// A request's deadline, carried by the executor its coroutine runs on, so that every PostgreSQL
// and Redis call made on the request's behalf — however deep in a use case or adapter — can bound
// its own wait by it without each port passing it along.
//
// The HTTP server runs a handler with `co_spawn(with_deadline(ex, t), ...)`; inside it,
// `co_await asio::this_coro::executor` and the associated executor of any completion handler
// created by the coroutine are a DeadlineExecutor, and `deadline_of(ex)` reads `t` back.
// Background work (tickers, the reconciler, releases that must outlive a request) runs on the
// plain executor, so deadline_of() is `no_deadline` there; `without_deadline(ex)` strips it before
// spawning work that must outlive the request.
//
// The wrapper holds the io_context executor and the time point by value (16 bytes): it fits in
// any_io_executor's small buffer, so carrying it costs no allocation.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/query.hpp>
#include <boost/asio/require.hpp>
#include <chrono>
#include <type_traits>
#include <utility>

namespace tk {

using SteadyTime = std::chrono::steady_clock::time_point;
inline constexpr SteadyTime no_deadline = SteadyTime::max();

template <class Inner>
class DeadlineExecutor {
 public:
  DeadlineExecutor(Inner inner, SteadyTime deadline) noexcept
      : inner_(std::move(inner)), deadline_(deadline) {}

  const Inner& inner() const noexcept { return inner_; }
  SteadyTime deadline() const noexcept { return deadline_; }

  template <class F>
  void execute(F&& f) const {
    inner_.execute(std::forward<F>(f));
  }

  template <class P>
  requires boost::asio::can_query<const Inner&, P>::value decltype(auto) query(const P& p) const
      noexcept(boost::asio::is_nothrow_query<const Inner&, P>::value) {
    return boost::asio::query(inner_, p);
  }

  template <class P>
  requires boost::asio::can_require<const Inner&, P>::value auto require(const P& p) const
      noexcept(boost::asio::is_nothrow_require<const Inner&, P>::value) {
    using R = std::decay_t<typename boost::asio::require_result<const Inner&, P>::type>;
    return DeadlineExecutor<R>(boost::asio::require(inner_, p), deadline_);
  }

  template <class P>
  requires boost::asio::can_prefer<const Inner&, P>::value auto prefer(const P& p) const
      noexcept(boost::asio::is_nothrow_prefer<const Inner&, P>::value) {
    using R = std::decay_t<typename boost::asio::prefer_result<const Inner&, P>::type>;
    return DeadlineExecutor<R>(boost::asio::prefer(inner_, p), deadline_);
  }

  friend bool operator==(const DeadlineExecutor& a, const DeadlineExecutor& b) noexcept {
    return a.inner_ == b.inner_ && a.deadline_ == b.deadline_;
  }
  friend bool operator!=(const DeadlineExecutor& a, const DeadlineExecutor& b) noexcept {
    return !(a == b);
  }

 private:
  Inner inner_;
  SteadyTime deadline_;
};

using IoExecutor = boost::asio::io_context::executor_type;
using RequestExecutor = DeadlineExecutor<IoExecutor>;

// An executor that runs on `ex`'s io_context and carries `deadline`. `ex` must be (or wrap) an
// io_context executor; anything else is returned unchanged, without a deadline.
boost::asio::any_io_executor with_deadline(const boost::asio::any_io_executor& ex,
                                           SteadyTime deadline);
// The deadline `ex` carries; no_deadline for a plain executor.
SteadyTime deadline_of(const boost::asio::any_io_executor& ex) noexcept;
// `ex` without its deadline (for work that must outlive the request).
boost::asio::any_io_executor without_deadline(const boost::asio::any_io_executor& ex);
// Whole milliseconds left before `deadline` (0 once passed; a large value for no_deadline).
std::chrono::milliseconds time_left(SteadyTime deadline, SteadyTime now);

}  // namespace tk
