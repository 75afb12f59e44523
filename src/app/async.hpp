#pragma once
#include <boost/asio/awaitable.hpp>

#include "common/result.hpp"

namespace tk::app {
// Use cases and ports are C++20 coroutines on the caller's io_context.
template <class T>
using Task = boost::asio::awaitable<Result<T>>;
}  // namespace tk::app
