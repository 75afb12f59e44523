#include "infra/postgres/connection.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <optional>

namespace tk::pg {

namespace {

using asio::posix::descriptor_base;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// Dynamic SQL (e.g. generated IN lists) must not grow the per-connection statement cache without
// bound: past this many distinct texts, statements run unnamed (parsed every time).
constexpr std::size_t kMaxPrepared = 512;

std::string trim(const char* s) {
  std::string_view v = s ? s : "";
  while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
  return std::string(v);
}

}  // namespace

Connection::Connection(asio::any_io_executor ex, pg_conn* conn)
    : conn_(conn), socket_(ex), timer_(ex) {}

Connection::~Connection() {
  // libpq owns the socket: take it back from Asio (deregisters it from the reactor) so that only
  // PQfinish closes it.
  if (socket_.is_open()) {
    socket_.release();
  }
  PQfinish(conn_);
}

asio::awaitable<tk::Result<std::unique_ptr<Connection>>> Connection::connect(
    asio::any_io_executor ex, const ConnectOptions& opt) {
  // Server settings travel in the startup packet ("options"), so they hold for the whole session
  // without an extra round trip, and RESET returns to them.
  std::string options;
  if (opt.statement_timeout.count() > 0) {
    options += "-c statement_timeout=" + std::to_string(opt.statement_timeout.count());
  }
  if (opt.read_only) options += " -c default_transaction_read_only=on";
  // A connection given up at a request's deadline is closed mid-statement: the backend notices
  // the closed socket within this interval and stops, instead of running to statement_timeout
  // with its locks held.
  options += " -c client_connection_check_interval=1000";
  std::vector<const char*> keys{"dbname"};
  std::vector<const char*> values{opt.conninfo.c_str()};
  if (!options.empty()) {
    keys.push_back("options");
    values.push_back(options.c_str());
  }
  if (!opt.application_name.empty()) {
    keys.push_back("application_name");
    values.push_back(opt.application_name.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);

  pg_conn* raw = PQconnectStartParams(keys.data(), values.data(), /*expand_dbname=*/1);
  if (raw == nullptr) {
    co_return tk::Error{make_error_code(Errc::unavailable), {{"pg", "out of memory"}}};
  }
  std::unique_ptr<Connection> c(new Connection(ex, raw));
  c->writer_ = !opt.read_only;
  if (PQstatus(raw) == CONNECTION_BAD) co_return c->fail_connection("connect");
  // Notices ("relation already exists, skipping") would otherwise go to stderr; only WARNINGs
  // are counted (see warnings()). The Connection never moves: it lives in its unique_ptr.
  PQsetNoticeReceiver(
      raw,
      [](void* self, const pg_result* res) {
        const char* sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
        if (sev != nullptr && std::string_view(sev) == "WARNING") {
          ++static_cast<Connection*>(self)->warnings_;
        }
      },
      c.get());

  const auto deadline = std::chrono::steady_clock::now() + opt.connect_timeout;
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;  // what libpq documents before 1st poll
  while (st != PGRES_POLLING_OK) {
    if (st == PGRES_POLLING_FAILED) co_return c->fail_connection("connect");
    // libpq may close and reopen its socket while connecting (next address, SSL fallback), and
    // a new socket can reuse the old number, which epoll would not notice: re-register each time.
    c->reassign_socket();
    if (const char* why =
            co_await c->wait(st == PGRES_POLLING_WRITING ? Wait::write : Wait::read, deadline)) {
      co_return c->fail_connection(why);
    }
    st = PQconnectPoll(raw);
  }
  c->reassign_socket();
  if (PQsetnonblocking(raw, 1) != 0) co_return c->fail_connection("set nonblocking");
  co_return std::move(c);
}

void Connection::reassign_socket() {
  boost::system::error_code ec;
  if (socket_.is_open()) socket_.release();
  int fd = PQsocket(conn_);
  if (fd >= 0) socket_.assign(fd, ec);
}

Connection::Deadline Connection::deadline() const {
  auto guard =
      io_timeout_.count() > 0 ? std::chrono::steady_clock::now() + io_timeout_ : Deadline::max();
  return std::min(guard, request_deadline_);
}

std::optional<tk::Error> Connection::start_op(Deadline request_deadline) {
  request_deadline_ = request_deadline;
  if (broken()) return tk::Error{make_error_code(Errc::unavailable), {{"pg", "broken"}}};
  // Nothing sent yet: the connection stays clean and reusable.
  if (request_deadline_ != Deadline::max() && std::chrono::steady_clock::now() >= request_deadline_)
    return tk::Error{make_error_code(Errc::deadline_exceeded), {{"pg", "not sent"}}};
  return std::nullopt;
}

asio::awaitable<const char*> Connection::wait(Wait what, Deadline deadline) {
  using namespace asio::experimental::awaitable_operators;
  const auto dir = what == Wait::write ? descriptor_base::wait_write : descriptor_base::wait_read;
  if (what == Wait::read_or_write) {
    timer_.expires_at(deadline);
    auto r = co_await (socket_.async_wait(descriptor_base::wait_read, use_tuple) ||
                       socket_.async_wait(descriptor_base::wait_write, use_tuple) ||
                       timer_.async_wait(use_tuple));
    if (r.index() == 2) co_return "timeout";
    auto [ec] = r.index() == 0 ? std::get<0>(r) : std::get<1>(r);
    co_return ec ? "socket error" : nullptr;
  }
  if (deadline == Deadline::max()) {
    auto [ec] = co_await socket_.async_wait(dir, use_tuple);
    co_return ec ? "socket error" : nullptr;
  }
  timer_.expires_at(deadline);
  auto r = co_await (socket_.async_wait(dir, use_tuple) || timer_.async_wait(use_tuple));
  if (r.index() == 1) co_return "timeout";
  auto [ec] = std::get<0>(r);
  co_return ec ? "socket error" : nullptr;
}

tk::Error Connection::fail_connection(std::string_view what) {
  broken_ = true;
  boost::json::object d;
  d["pg"] = std::string(what) + ": " + trim(PQerrorMessage(conn_));
  // Cut off by the request's deadline rather than by the guard against a vanished server.
  const bool late = what == "timeout" && request_deadline_ != Deadline::max() &&
                    std::chrono::steady_clock::now() >= request_deadline_;
  return tk::Error{make_error_code(late ? Errc::deadline_exceeded : Errc::unavailable),
                   std::move(d)};
}

tk::Error Connection::send_failed() {
  // PQsend* fails either because the connection is gone or because of a client-side problem
  // (e.g. too many parameters); only the first is `unavailable`.
  if (PQstatus(conn_) != CONNECTION_OK) return fail_connection("send");
  boost::json::object d;
  d["pg"] = trim(PQerrorMessage(conn_));
  return tk::Error{make_error_code(Errc::query_failed), std::move(d)};
}

tk::Error Connection::error_from(pg_result* res) {
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  Errc e = state != nullptr ? errc_from_sqlstate(state) : Errc::query_failed;
  if (PQstatus(conn_) != CONNECTION_OK) {
    broken_ = true;
    e = Errc::unavailable;
  }
  if (e == Errc::read_only && writer_) {
    // A connection meant for writes reached a node that refuses them: a demoted primary back as a
    // replica, or a single-host URL after a failover. Dropped, so the next connect looks for a
    // writable node (target_session_attrs=read-write); meanwhile the database is unavailable.
    broken_ = true;
    e = Errc::unavailable;
  }
  boost::json::object d;
  d["pg"] = trim(PQresultErrorMessage(res));
  if (state != nullptr) d["sqlstate"] = state;
  // The constraint name lets callers tell e.g. a duplicate idempotency key from a sold seat.
  if (const char* c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME)) d["constraint"] = c;
  return tk::Error{make_error_code(e), std::move(d)};
}

asio::awaitable<tk::Status> Connection::flush(Deadline deadline) {
  for (;;) {
    int r = PQflush(conn_);
    if (r == 0) co_return tk::Status{};
    if (r < 0) co_return fail_connection("flush");
    // Send buffer full. Wait for either direction: if the server is blocked writing results to
    // us, only reading (PQconsumeInput) unblocks it (libpq's documented flush protocol).
    if (const char* why = co_await wait(Wait::read_or_write, deadline)) {
      co_return fail_connection(why);
    }
    if (PQconsumeInput(conn_) == 0) co_return fail_connection("read");
  }
}

asio::awaitable<tk::Result<pg_result*>> Connection::next_result(Deadline deadline) {
  while (PQisBusy(conn_) != 0) {
    if (const char* why = co_await wait(Wait::read, deadline)) co_return fail_connection(why);
    if (PQconsumeInput(conn_) == 0) co_return fail_connection("read");
  }
  co_return PQgetResult(conn_);
}

asio::awaitable<tk::Result<Rows>> Connection::read_results(Deadline deadline) {
  std::optional<Rows> ok;
  std::optional<tk::Error> err;
  for (;;) {
    auto next = co_await next_result(deadline);
    if (!next.ok()) co_return std::move(next).error();
    pg_result* r = next.value();
    if (r == nullptr) break;
    switch (PQresultStatus(r)) {
      case PGRES_COMMAND_OK:
      case PGRES_TUPLES_OK:
      case PGRES_EMPTY_QUERY:
        ok.emplace(r);  // the last successful result wins (scripts), owned by Rows
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        // COPY is not supported; the protocol state cannot be recovered cheaply.
        PQclear(r);
        broken_ = true;
        co_return tk::Error{make_error_code(Errc::query_failed), {{"pg", "COPY not supported"}}};
      default:
        if (!err) err = error_from(r);
        PQclear(r);
        break;
    }
  }
  if (err) co_return std::move(*err);
  if (!ok) co_return Rows{};
  co_return std::move(*ok);
}

bool Connection::broken() const { return broken_ || PQstatus(conn_) != CONNECTION_OK; }

Connection::TxStatus Connection::tx_status() const {
  switch (PQtransactionStatus(conn_)) {
    case PQTRANS_IDLE:
      return TxStatus::idle;
    case PQTRANS_ACTIVE:
      return TxStatus::active;
    case PQTRANS_INTRANS:
      return TxStatus::in_transaction;
    case PQTRANS_INERROR:
      return TxStatus::in_error;
    default:
      return TxStatus::unknown;
  }
}

bool Connection::check_alive() {
  if (broken()) return false;
  // A server that shut down (or killed this backend) while the connection sat idle has sent a
  // FATAL message and closed the socket. One poll() tells without blocking; POLLRDHUP catches
  // the close even when the message before it has not been read yet.
  pollfd p{PQsocket(conn_), POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) < 0) return true;
  if ((p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0) {
    broken_ = true;
    return false;
  }
  if ((p.revents & POLLIN) != 0) {
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
      broken_ = true;
      return false;
    }
    while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);  // LISTEN is not used; drop
  }
  return true;
}

asio::awaitable<tk::Result<std::string>> Connection::prepare(std::string_view sql, int nparams,
                                                             Deadline deadline) {
  std::string name = "tk_" + std::to_string(++next_stmt_);
  if (PQsendPrepare(conn_, name.c_str(), std::string(sql).c_str(), nparams, nullptr) == 0) {
    co_return send_failed();
  }
  if (auto f = co_await flush(deadline); !f.ok()) co_return std::move(f).error();
  auto r = co_await read_results(deadline);
  if (!r.ok()) co_return std::move(r).error();
  co_return name;
}

asio::awaitable<tk::Result<Rows>> Connection::query(std::string_view sql, Params params) {
  if (begin_pending()) {  // the BEGIN and the query in one round trip
    std::vector<Statement> one;
    one.push_back(Statement{sql, std::move(params)});
    auto r = co_await pipeline(std::move(one));
    if (!r.ok()) co_return std::move(r).error();
    co_return std::move(r.value().back());
  }
  if (auto refused = start_op(deadline_of(co_await asio::this_coro::executor)))
    co_return std::move(*refused);
  const auto dl = deadline();
  const int n = static_cast<int>(params.size());
  std::vector<const char*> values(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i] ? params[i]->c_str() : nullptr;
  }
  auto it = prepared_.find(sql);
  if (it == prepared_.end() && prepared_.size() < kMaxPrepared) {
    auto name = co_await prepare(sql, n, dl);
    if (!name.ok()) co_return std::move(name).error();
    it = prepared_.emplace(std::string(sql), std::move(name).value()).first;
  }
  int sent = it != prepared_.end() ? PQsendQueryPrepared(conn_, it->second.c_str(), n,
                                                         values.data(), nullptr, nullptr, 0)
                                   : PQsendQueryParams(conn_, std::string(sql).c_str(), n, nullptr,
                                                       values.data(), nullptr, nullptr, 0);
  if (sent == 0) co_return send_failed();
  if (auto f = co_await flush(dl); !f.ok()) co_return std::move(f).error();
  co_return co_await read_results(dl);
}

asio::awaitable<tk::Status> Connection::exec_script(std::string_view sql, Budget budget) {
  auto request_deadline =
      budget == Budget::request ? deadline_of(co_await asio::this_coro::executor) : Deadline::max();
  if (auto refused = start_op(request_deadline)) co_return std::move(*refused);
  const auto dl = deadline();
  std::string script;
  if (begin_pending()) {  // a multi-statement simple query: the BEGIN holds past its end
    script.append(pending_begin_).append(";");
    drop_begin();
  }
  script.append(sql);
  if (PQsendQuery(conn_, script.c_str()) == 0) co_return send_failed();
  if (auto f = co_await flush(dl); !f.ok()) co_return std::move(f).error();
  auto r = co_await read_results(dl);
  if (!r.ok()) co_return std::move(r).error();
  co_return tk::Status{};
}

asio::awaitable<tk::Result<std::vector<Rows>>> Connection::pipeline(
    std::vector<Statement> statements, Then then) {
  std::vector<Rows> out;
  if (statements.empty()) co_return out;
  if (auto refused = start_op(deadline_of(co_await asio::this_coro::executor)))
    co_return std::move(*refused);
  const auto dl = deadline();
  // A deferred BEGIN leads the batch; its result is not returned. After it the batch is part of
  // an explicit transaction that outlives the Sync.
  const bool with_begin = begin_pending();
  if (with_begin) {
    statements.insert(statements.begin(), Statement{pending_begin_, {}});
    drop_begin();
  }
  const bool with_commit = then == Then::commit;
  if (with_commit) {
    statements.push_back(Statement{"COMMIT", {}});
    batch_commit_ = warnings_;  // from here on the transaction's outcome is this batch's
  }
  if (PQenterPipelineMode(conn_) == 0) co_return send_failed();

  // Queue everything: a Parse for each SQL text not prepared yet, then each execution.
  struct Pending {
    std::string sql, name;
  };
  std::vector<std::optional<Pending>> prepares(statements.size());
  std::unordered_map<std::string_view, std::string> batch_names;  // same SQL twice in a batch
  bool send_ok = true;
  for (std::size_t i = 0; i < statements.size() && send_ok; ++i) {
    const auto& s = statements[i];
    const int n = static_cast<int>(s.params.size());
    std::vector<const char*> values(s.params.size());
    for (std::size_t j = 0; j < s.params.size(); ++j) {
      values[j] = s.params[j] ? s.params[j]->c_str() : nullptr;
    }
    std::string name;
    if (auto it = prepared_.find(s.sql); it != prepared_.end()) {
      name = it->second;
    } else if (auto b = batch_names.find(s.sql); b != batch_names.end()) {
      name = b->second;
    } else if (prepared_.size() + batch_names.size() >= kMaxPrepared) {
      // Past the bound on prepared statements, as query(): parsed again each time (unnamed).
      send_ok = PQsendQueryParams(conn_, std::string(s.sql).c_str(), n, nullptr, values.data(),
                                  nullptr, nullptr, 0) != 0;
      continue;
    } else {
      name = "tk_" + std::to_string(++next_stmt_);
      prepares[i] = Pending{std::string(s.sql), name};
      batch_names.emplace(s.sql, name);
      send_ok = PQsendPrepare(conn_, name.c_str(), prepares[i]->sql.c_str(), n, nullptr) != 0;
    }
    send_ok = send_ok &&
              PQsendQueryPrepared(conn_, name.c_str(), n, values.data(), nullptr, nullptr, 0) != 0;
  }
  if (!send_ok || PQpipelineSync(conn_) == 0) {
    // Half-queued pipeline: the protocol state is unknown, never reuse this connection.
    auto e = send_failed();
    broken_ = true;
    co_return e;
  }
  if (auto f = co_await flush(dl); !f.ok()) co_return std::move(f).error();

  // Read every result up to the Sync even after an error, so the connection stays in step.
  std::optional<tk::Error> first_error;
  auto take = [&](tk::Result<Rows>&& r) {
    if (r.ok()) {
      out.push_back(std::move(r).value());
      return true;
    }
    if (!first_error) first_error = std::move(r).error();  // later ones are PIPELINE_ABORTED
    return false;
  };
  for (std::size_t i = 0; i < statements.size(); ++i) {
    if (prepares[i]) {
      auto p = co_await read_results(dl);
      if (broken()) co_return p.ok() ? fail_connection("read") : std::move(p).error();
      if (p.ok())
        prepared_.emplace(std::move(prepares[i]->sql), std::move(prepares[i]->name));
      else
        take(std::move(p));
    }
    auto r = co_await read_results(dl);
    if (broken()) co_return r.ok() ? fail_connection("read") : std::move(r).error();
    take(std::move(r));
  }
  auto sync = co_await next_result(dl);
  if (!sync.ok()) co_return std::move(sync).error();
  const bool synced =
      sync.value() != nullptr && PQresultStatus(sync.value()) == PGRES_PIPELINE_SYNC;
  PQclear(sync.value());
  if (!synced || PQexitPipelineMode(conn_) == 0) {
    broken_ = true;
    co_return tk::Error{make_error_code(Errc::query_failed), {{"pg", "pipeline out of step"}}};
  }
  if (first_error) co_return std::move(*first_error);
  if (with_commit) out.pop_back();
  if (with_begin) out.erase(out.begin());
  co_return out;
}

}  // namespace tk::pg
