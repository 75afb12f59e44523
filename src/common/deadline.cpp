#include "common/deadline.hpp"

#include <boost/asio/execution.hpp>
#include <optional>

namespace tk {

namespace asio = boost::asio;
namespace execution = asio::execution;

namespace {
// The forms asio itself derives from an executor when it posts or tracks work; an executor held
// by a coroutine or a handler is one of them.
using Never = std::decay_t<
    typename asio::require_result<const IoExecutor&, execution::blocking_t::never_t>::type>;
using Tracked =
    std::decay_t<typename asio::prefer_result<const IoExecutor&,
                                              execution::outstanding_work_t::tracked_t>::type>;
using NeverTracked = std::decay_t<
    typename asio::prefer_result<const Never&, execution::outstanding_work_t::tracked_t>::type>;

template <class I>
IoExecutor plain(const I& inner) {
  return asio::require(asio::require(inner, execution::blocking.possibly),
                       execution::outstanding_work.untracked);
}

struct Found {
  IoExecutor inner;
  SteadyTime deadline;
};

template <class... Inner>
std::optional<Found> find(const asio::any_io_executor& ex) {
  std::optional<Found> out;
  auto try_one = [&]<class I>(I*) {
    if (out) return;
    if (auto* w = ex.target<DeadlineExecutor<I>>()) out = Found{plain(w->inner()), w->deadline()};
  };
  (try_one(static_cast<Inner*>(nullptr)), ...);
  return out;
}

std::optional<Found> find_any(const asio::any_io_executor& ex) {
  return find<IoExecutor, Never, Tracked, NeverTracked>(ex);
}
}  // namespace

asio::any_io_executor with_deadline(const asio::any_io_executor& ex, SteadyTime deadline) {
  if (auto* io = ex.target<IoExecutor>()) return RequestExecutor(*io, deadline);
  if (auto f = find_any(ex)) return RequestExecutor(f->inner, deadline);
  return ex;
}

SteadyTime deadline_of(const asio::any_io_executor& ex) noexcept {
  if (auto* w = ex.target<RequestExecutor>()) return w->deadline();  // the common case
  if (ex.target<IoExecutor>()) return no_deadline;
  auto f = find<Never, Tracked, NeverTracked>(ex);
  return f ? f->deadline : no_deadline;
}

asio::any_io_executor without_deadline(const asio::any_io_executor& ex) {
  if (auto* w = ex.target<RequestExecutor>()) return w->inner();
  if (auto f = find<Never, Tracked, NeverTracked>(ex)) return f->inner;
  return ex;
}

std::chrono::milliseconds time_left(SteadyTime deadline, SteadyTime now) {
  if (deadline == no_deadline) return std::chrono::milliseconds::max();
  if (deadline <= now) return std::chrono::milliseconds{0};
  return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
}

}  // namespace tk
