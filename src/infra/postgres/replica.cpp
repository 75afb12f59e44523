#include "infra/postgres/replica.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

namespace tk::pg {

asio::awaitable<bool> replica_fresh(Pool& primary, Pool& replica,
                                    std::chrono::milliseconds max_lag) {
  using Clock = std::chrono::steady_clock;
  const auto until = Clock::now() + max_lag;
  auto at = co_await primary.query("SELECT pg_current_wal_lsn()::text");
  if (!at.ok() || at.value().size() != 1) co_return false;
  const std::string target(at.value().text(0, 0));
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto step = std::max(std::chrono::milliseconds(10), max_lag / 10);
  for (;;) {
    auto r = co_await replica.query(
        "SELECT NOT pg_is_in_recovery() OR "
        "COALESCE(pg_last_wal_replay_lsn() >= $1::pg_lsn, false)",
        {arg(target)});
    if (!r.ok() || r.value().size() != 1) co_return false;
    if (r.value().boolean(0, 0)) co_return true;
    const auto now = Clock::now();
    if (now >= until) co_return false;
    timer.expires_after(std::min<Clock::duration>(step, until - now));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace tk::pg
