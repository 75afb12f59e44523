#include "infra/postgres/transaction.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

namespace tk::pg::detail {

std::string_view begin_sql(Isolation iso) {
  switch (iso) {
    case Isolation::repeatable_read:
      return "BEGIN ISOLATION LEVEL REPEATABLE READ";
    case Isolation::serializable:
      return "BEGIN ISOLATION LEVEL SERIALIZABLE";
    case Isolation::read_committed:
      break;
  }
  return "BEGIN";
}

asio::awaitable<void> rollback(Connection& c) {
  if (c.begin_pending()) {  // nothing was sent: no transaction began
    c.drop_begin();
    co_return;
  }
  if (c.broken()) co_return;
  auto s = co_await c.exec_script("ROLLBACK", Connection::Budget::cleanup);
  if (!s.ok() || c.tx_status() != Connection::TxStatus::idle) c.poison();
}

tk::Error commit_failed(Connection& c, tk::Error e) {
  if (c.broken()) {
    e.code = make_error_code(Errc::unavailable);
    e.details["commit"] = "unknown";
  }
  return e;
}

asio::awaitable<tk::Status> commit(Connection& c) {
  if (c.begin_pending()) {  // nothing was sent: nothing to commit
    c.drop_begin();
    co_return tk::Status{};
  }
  std::uint64_t warnings;
  tk::Status s;
  if (auto sent = c.take_batch_commit()) {  // f's last batch committed
    warnings = *sent;
  } else {
    if (c.tx_status() == Connection::TxStatus::in_error) {
      co_await rollback(c);
      co_return tk::Error{make_error_code(Errc::query_failed),
                          {{"pg", "transaction aborted by an earlier error; rolled back"}}};
    }
    warnings = c.warnings();
    s = co_await c.exec_script("COMMIT");
  }
  if (s.ok() && c.warnings() != warnings) {
    // COMMIT's only warning inside a transaction: the wait for the synchronous standby was
    // cancelled. Committed here but maybe not on the standby a failover would promote.
    co_return tk::Error{
        make_error_code(Errc::unavailable),
        {{"pg", "commit not confirmed by the synchronous standby"}, {"commit", "unknown"}}};
  }
  if (s.ok()) co_return s;
  // COMMIT itself failed: on a live connection (deferred constraint, serialization failure) the
  // server has rolled back; a lost one leaves the outcome unknown.
  co_return commit_failed(c, std::move(s).error());
}

asio::awaitable<void> retry_pause(int attempt) {
  thread_local std::minstd_rand rng{std::random_device{}()};
  std::uniform_int_distribution<int> jitter(0, 5 * attempt);
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(std::chrono::milliseconds(2 * attempt + jitter(rng)));
  co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace tk::pg::detail
