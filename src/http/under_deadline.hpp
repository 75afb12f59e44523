#pragma once
// Runs a piece of a request's work under the request's deadline: in a coroutine of its own, on an
// executor that carries ctx.deadline to every PostgreSQL and Redis call made inside it
// (common/deadline.hpp). The server does this for whole handlers of Budget::request routes;
// Budget::none handlers use it on their rare slow paths.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>

#include "common/deadline.hpp"
#include "http/context.hpp"

namespace tk::http {

namespace detail {
template <class T>
asio::awaitable<void> fill(std::optional<T>& out, asio::awaitable<T> work) {
  out.emplace(co_await std::move(work));
}
}  // namespace detail

template <class T>
asio::awaitable<T> under_deadline(const RequestContext& ctx, asio::awaitable<T> work) {
  auto ex = tk::with_deadline(co_await asio::this_coro::executor, ctx.deadline);
  // Through an optional: co_spawn's awaitable result must be default-constructible; Result is
  // not. An exception in `work` is rethrown here.
  std::optional<T> out;
  auto filled = detail::fill(out, std::move(work));
  co_await asio::co_spawn(ex, std::move(filled), asio::use_awaitable);
  co_return std::move(*out);
}

}  // namespace tk::http
