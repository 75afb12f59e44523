#pragma once
// transaction(pool, f): runs f(Connection&) between BEGIN and COMMIT on one leased connection.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "common/result.hpp"
#include "infra/postgres/connection.hpp"
#include "infra/postgres/errors.hpp"
#include "infra/postgres/pool.hpp"

namespace tk::pg {

enum class Isolation { read_committed, repeatable_read, serializable };

struct TxOptions {
  Isolation isolation = Isolation::read_committed;
  int max_attempts = 3;  // total tries when the server reports serialization_failure/deadlock
};

namespace detail {
std::string_view begin_sql(Isolation iso);
inline bool retryable(std::error_code ec) {
  return ec == Errc::serialization_failure || ec == Errc::deadlock;
}
// Best effort; a connection that cannot roll back is poisoned so the pool discards it.
asio::awaitable<void> rollback(Connection& c);
// COMMIT. Refuses (and rolls back) a transaction already aborted by an error f swallowed, since
// PostgreSQL would answer COMMIT with a silent ROLLBACK. A connection lost during COMMIT gives
// `unavailable` with details {"commit": "unknown"}: the outcome cannot be known. When f's last
// batch carried the COMMIT (Connection::Then::commit) nothing more is sent: that COMMIT is judged.
asio::awaitable<tk::Status> commit(Connection& c);
// A COMMIT sent (alone or last of f's batch) that failed: on a lost connection its outcome is not
// known (`unavailable`, details {"commit": "unknown"}); otherwise the server rolled back.
tk::Error commit_failed(Connection& c, tk::Error e);
// Short randomized pause before retrying, so two conflicting transactions do not collide again.
asio::awaitable<void> retry_pause(int attempt);
}  // namespace detail

// F: callable as f(Connection&) -> asio::awaitable<tk::Result<T>> (or tk::Status). It may be
// called several times (retries), so it must not move out of its captures. When f fails the
// transaction is rolled back and f's error returned; serialization failures and deadlocks (from
// f or from COMMIT) are retried up to opt.max_attempts in total.
template <class F>
auto transaction(Pool& pool, F f, TxOptions opt = {})
    -> asio::awaitable<typename std::invoke_result_t<F&, Connection&>::value_type> {
  using R = typename std::invoke_result_t<F&, Connection&>::value_type;
  auto lease = co_await pool.acquire();
  if (!lease.ok()) co_return R(std::move(lease).error());
  Connection& c = *lease.value();
  for (int attempt = 1;; ++attempt) {
    // Sent with f's first statement: a transaction costs no round trip for its BEGIN.
    c.defer_begin(detail::begin_sql(opt.isolation));
    R r = co_await f(c);
    if (!r.ok() && c.take_batch_commit()) {
      r = R(detail::commit_failed(c, std::move(r).error()));
    }
    if (r.ok()) {
      auto s = co_await detail::commit(c);
      if (s.ok()) co_return std::move(r);
      if (!detail::retryable(s.code()) || attempt >= opt.max_attempts) {
        co_return R(std::move(s).error());
      }
    } else {
      co_await detail::rollback(c);
      if (!detail::retryable(r.code()) || attempt >= opt.max_attempts) co_return std::move(r);
    }
    co_await detail::retry_pause(attempt);
  }
}

}  // namespace tk::pg
