#pragma once
// One PostgreSQL connection driven by libpq's asynchronous API on an Asio executor: the socket is
// watched with a posix::stream_descriptor, so waiting for the server never blocks the I/O thread.
// A Connection is not thread-safe and runs one operation at a time (the Pool guarantees both).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/deadline.hpp"
#include "common/result.hpp"
#include "common/string_map.hpp"
#include "infra/postgres/errors.hpp"
#include "infra/postgres/rows.hpp"

struct pg_conn;  // libpq's PGconn

namespace tk::pg {

namespace asio = boost::asio;

struct ConnectOptions {
  std::string conninfo;  // URL or key=value string
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds statement_timeout{5000};  // server side; 0 = none
  bool read_only = false;                             // default_transaction_read_only=on
  std::string application_name = "ticketing";
};

// One statement of a pipelined batch.
struct Statement {
  std::string_view sql;
  Params params;
};

class Connection {
 public:
  // PQtransactionStatus, named: the pool uses it to roll back leases returned mid-transaction.
  enum class TxStatus { idle, active, in_transaction, in_error, unknown };

  // Opens a connection within opt.connect_timeout (Errc::unavailable otherwise).
  static asio::awaitable<tk::Result<std::unique_ptr<Connection>>> connect(
      asio::any_io_executor ex, const ConnectOptions& opt);

  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Every operation is bounded by the request deadline carried by the calling coroutine's
  // executor (common/deadline.hpp), if any: past it nothing is sent (Errc::deadline_exceeded,
  // the connection stays usable); reached while the operation runs, the connection is given up
  // (broken) with the same error.
  //
  // Parameterized query ($1..$n). Each distinct SQL text is prepared once per connection (the
  // statement name is cached) and then run with PQsendQueryPrepared. SQL must outlive the call.
  asio::awaitable<tk::Result<Rows>> query(std::string_view sql, Params params = {});

  // Simple-query protocol: several ';'-separated statements, no parameters, nothing prepared.
  // Used for migrations and BEGIN/COMMIT/ROLLBACK. Stops at the first failing statement.
  // Budget::cleanup ignores the request's deadline: a ROLLBACK must run for the connection to
  // be reused (it is still bounded by the io timeout).
  enum class Budget { request, cleanup };
  asio::awaitable<tk::Status> exec_script(std::string_view sql, Budget budget = Budget::request);

  // Several queries in one round trip (libpq pipeline mode), each prepared/cached like query()
  // (past 512 texts, unnamed).
  // All or nothing: outside an explicit transaction the batch runs as one implicit transaction
  // (up to the Sync), so one failing statement rolls back the others; the first error is
  // returned. Inside BEGIN..COMMIT a failure leaves the transaction aborted, as with query().
  //
  // Then::commit ends the transaction with the batch: COMMIT goes last, in the same round trip.
  // A failing statement makes the server skip the rest, COMMIT included, and the transaction is
  // left aborted, to be rolled back. pg::transaction sends no COMMIT of its own after such a
  // batch and judges the one sent (take_batch_commit); it must be the body's last statement.
  enum class Then { stay, commit };
  asio::awaitable<tk::Result<std::vector<Rows>>> pipeline(std::vector<Statement> statements,
                                                          Then then = Then::stay);
  // After a batch sent with Then::commit, once: the warnings count before it, so the
  // transaction can tell a commit the synchronous standby did not confirm.
  std::optional<std::uint64_t> take_batch_commit() { return std::exchange(batch_commit_, {}); }

  // A transaction's BEGIN without a round trip of its own: `sql` (a literal, e.g. "BEGIN") goes
  // in front of the next statement sent (query: both pipelined; pipeline: first of the batch;
  // exec_script: first of the script). A transaction that ends before sending anything sent no
  // BEGIN, so nothing is left to commit or roll back (drop_begin). The pool drops a BEGIN still
  // pending when a lease comes back.
  void defer_begin(std::string_view sql) { pending_begin_ = sql; }
  bool begin_pending() const { return !pending_begin_.empty(); }
  void drop_begin() { pending_begin_ = {}; }

  // True once the connection is unusable (lost, timed out, protocol error); never recovers.
  bool broken() const;
  TxStatus tx_status() const;
  // Non-blocking liveness check for idle connections: reads whatever the server sent (e.g. the
  // FATAL message of a shutdown) and reports whether the connection is still usable.
  bool check_alive();
  // Client-side guard per operation, on top of the server's statement_timeout, against a server
  // that silently disappeared. 0 = wait forever (migrations waiting on an advisory lock).
  void set_io_timeout(std::chrono::milliseconds t) { io_timeout_ = t; }
  std::chrono::milliseconds io_timeout() const { return io_timeout_; }
  std::size_t prepared_count() const { return prepared_.size(); }
  // Marks the connection unusable so the pool discards it instead of reusing it.
  void poison() { broken_ = true; }
  // WARNING notices received so far. A COMMIT whose wait for the synchronous standby was
  // cancelled (a cancel request; statement_timeout does not cover that wait) succeeds with a
  // WARNING: committed here, not known to be on the standby, so a failover may still lose it.
  std::uint64_t warnings() const { return warnings_; }

 private:
  using Deadline = std::chrono::steady_clock::time_point;
  Connection(asio::any_io_executor ex, pg_conn* conn);

  enum class Wait { read, write, read_or_write };
  // The sooner of the io guard and the current operation's request deadline.
  Deadline deadline() const;
  // Records the operation's request deadline; an error if the connection is broken or the
  // deadline has already passed (then nothing is sent).
  std::optional<tk::Error> start_op(Deadline request_deadline);
  // Waits until the socket is ready: nullptr, else why not ("timeout", "socket error").
  asio::awaitable<const char*> wait(Wait what, Deadline deadline);
  void reassign_socket();
  asio::awaitable<tk::Status> flush(Deadline deadline);
  // Reads the results of one command up to its terminating NULL. Keeps the first error.
  asio::awaitable<tk::Result<Rows>> read_results(Deadline deadline);
  // Reads exactly one PGresult (nullptr result = end of command).
  asio::awaitable<tk::Result<pg_result*>> next_result(Deadline deadline);
  asio::awaitable<tk::Result<std::string>> prepare(std::string_view sql, int nparams,
                                                   Deadline deadline);
  tk::Error fail_connection(std::string_view what);  // marks broken, returns `unavailable`
  tk::Error send_failed();
  tk::Error error_from(pg_result* res);

  pg_conn* conn_;
  asio::posix::stream_descriptor socket_;
  asio::steady_timer timer_;
  bool broken_ = false;
  bool writer_ = false;  // not read_only: a read-only refusal means it lost its primary
  std::uint64_t warnings_ = 0;
  std::chrono::milliseconds io_timeout_{0};
  Deadline request_deadline_ = Deadline::max();  // of the operation in progress
  std::uint64_t next_stmt_ = 0;
  std::string_view pending_begin_;             // defer_begin
  std::optional<std::uint64_t> batch_commit_;  // take_batch_commit
  tk::StringMap<std::string> prepared_;
};

}  // namespace tk::pg
