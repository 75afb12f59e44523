// The request deadline carried by an executor: kept across suspensions and by executors asio
// derives from it, dropped by without_deadline, absent from a plain executor.
#include "common/deadline.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>

namespace tk {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(Deadline, TravelsWithTheCoroutineAndWhatItSpawns) {
  asio::io_context io;
  const auto d = std::chrono::steady_clock::now() + 5s;
  SteadyTime after_wait{}, nested{}, derived{}, stripped{}, posted_on{};
  asio::co_spawn(
      with_deadline(io.get_executor(), d),
      [&]() -> asio::awaitable<void> {
        asio::steady_timer t(co_await asio::this_coro::executor, 1ms);
        co_await t.async_wait(asio::use_awaitable);
        auto ex = co_await asio::this_coro::executor;
        after_wait = deadline_of(ex);
        // A nested awaitable runs on the same coroutine thread.
        nested = co_await []() -> asio::awaitable<SteadyTime> {
          co_return deadline_of(co_await asio::this_coro::executor);
        }();
        // Forms asio derives when it posts or keeps work alive.
        asio::any_io_executor tracked = asio::prefer(ex, asio::execution::outstanding_work.tracked);
        asio::any_io_executor never = asio::require(ex, asio::execution::blocking.never);
        derived = std::min(deadline_of(tracked), deadline_of(never));
        stripped = deadline_of(without_deadline(ex));
        asio::post(ex, [&] { posted_on = d; });
      },
      asio::detached);
  io.run();
  EXPECT_EQ(after_wait, d);
  EXPECT_EQ(nested, d);
  EXPECT_EQ(derived, d);
  EXPECT_EQ(stripped, no_deadline);
  EXPECT_EQ(posted_on, d);  // the wrapper still runs work on the io_context
}

TEST(Deadline, PlainExecutorHasNone) {
  asio::io_context io;
  EXPECT_EQ(deadline_of(io.get_executor()), no_deadline);
  asio::thread_pool pool(1);
  EXPECT_EQ(deadline_of(pool.get_executor()), no_deadline);
  // Only io_context executors can carry one; others come back unchanged.
  EXPECT_EQ(deadline_of(with_deadline(pool.get_executor(), std::chrono::steady_clock::now())),
            no_deadline);
  pool.join();
}

TEST(Deadline, TimeLeft) {
  const auto now = std::chrono::steady_clock::now();
  EXPECT_EQ(time_left(now + 1500ms, now), 1500ms);
  EXPECT_EQ(time_left(now - 1ms, now), 0ms);
  EXPECT_EQ(time_left(no_deadline, now), std::chrono::milliseconds::max());
}

}  // namespace
}  // namespace tk
