#include "infra/postgres/pool.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/supervisor.hpp"

namespace tk::pg {

namespace {
using Clock = std::chrono::steady_clock;
// Client-side guard on top of the server's statement_timeout: only a dead or unreachable server
// (no RST, e.g. a network partition) makes it fire, so it can be generous.
constexpr std::chrono::milliseconds kIoGuardMargin{2000};

tk::Error unavailable(std::string_view why) {
  return tk::Error{make_error_code(Errc::unavailable), {{"pg", why}}};
}
}  // namespace

// One queued acquire(), living in that coroutine's frame. Whoever dequeues it sets `conn` (a
// returned connection) or `slot` (permission to open one, already counted in open_) or `closed`,
// then cancels the timer to resume it; otherwise the timer expiring means pool_timeout.
struct Pool::Waiter {
  Waiter(Pool& p, asio::any_io_executor ex) : pool(p), timer(std::move(ex)) {}
  ~Waiter() {
    // The coroutine can be destroyed while suspended (io_context torn down): leave the pool
    // consistent.
    if (queued) list->erase(pos);
    if (conn) pool.release_unleased(std::move(conn));
    if (slot) pool.give_back_slot();
  }
  Pool& pool;
  asio::steady_timer timer;
  std::list<Waiter*>* list = nullptr;  // resumed_ or waiters_
  std::list<Waiter*>::iterator pos;
  bool queued = false;
  std::unique_ptr<Connection> conn;
  bool slot = false;
  bool closed = false;
};

Pool::Pool(asio::any_io_executor ex, PoolOptions opt)
    : ex_(std::move(ex)),
      opt_(std::move(opt)),
      copt_{opt_.conninfo, opt_.connect_timeout, opt_.statement_timeout, opt_.read_only,
            opt_.application_name} {
  opt_.size = std::max(1, opt_.size);
}

Pool::~Pool() = default;

std::shared_ptr<Pool> Pool::create(asio::any_io_executor ex, PoolOptions opt) {
  return std::shared_ptr<Pool>(new Pool(std::move(ex), std::move(opt)));
}

Pool::Lease& Pool::Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    reset();
    pool_ = std::move(o.pool_);
    conn_ = std::move(o.conn_);
    since_ = o.since_;
  }
  return *this;
}

Pool::Lease::~Lease() { reset(); }

void Pool::Lease::reset() {
  if (conn_) pool_->release(std::move(conn_), std::chrono::steady_clock::now() - since_);
  pool_.reset();
}

void Pool::Served::add(SteadyTime deadline, SteadyTime now) {
  // Deadlines come in about the order requests arrive: the oldest are dropped from the front
  // once passed, and a bound keeps a thread's burst of requests from growing the set unchecked.
  constexpr std::size_t kMax = 1 << 16;
  while (!order_.empty() && (order_.front() < now || order_.size() >= kMax)) {
    set_.erase(order_.front().time_since_epoch());
    order_.pop_front();
  }
  if (set_.insert(deadline.time_since_epoch()).second) order_.push_back(deadline);
}

Pool::Waiter* Pool::next_waiter() {
  for (auto* list : {&resumed_, &waiters_}) {
    if (list->empty()) continue;
    Waiter* w = list->front();
    list->pop_front();
    w->queued = false;
    return w;
  }
  return nullptr;
}

asio::awaitable<tk::Result<Pool::Lease>> Pool::acquire() {
  const auto deadline = deadline_of(co_await asio::this_coro::executor);
  auto lease = co_await acquire_for(deadline);
  if (lease.ok() && deadline != no_deadline) served_.add(deadline, Clock::now());
  co_return lease;
}

asio::awaitable<tk::Result<Pool::Lease>> Pool::acquire_for(SteadyTime request_deadline) {
  auto self = shared_from_this();
  ++counters_.acquires;
  if (closed_) co_return unavailable("pool closed");
  while (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    // Idle connections die silently when the server restarts; find out before handing one out.
    if (c->check_alive()) {
      ++in_use_;
      co_return Lease(self, std::move(c));
    }
    discard(std::move(c));
  }
  if (open_ < opt_.size) {
    ++open_;
    co_return co_await open_new();
  }

  // The wait is bounded by the request's deadline too: a request whose budget runs out in the
  // queue must not be handed a connection it can no longer use.
  const auto now = Clock::now();
  const auto wait_until = std::min(now + opt_.acquire_timeout, request_deadline);
  if (wait_until <= now) co_return make_error_code(Errc::deadline_exceeded);
  const bool resumed = request_deadline != no_deadline && served_.contains(request_deadline);
  const auto budget = std::min(
      std::chrono::duration_cast<std::chrono::microseconds>(wait_until - now), shed_budget());
  if (!resumed && late(budget)) {
    ++counters_.shed;
    co_return make_error_code(Errc::pool_timeout);
  }
  Waiter w(*this, ex_);
  w.timer.expires_at(wait_until);
  w.list = resumed ? &resumed_ : &waiters_;
  w.pos = w.list->insert(w.list->end(), &w);
  w.queued = true;
  ++counters_.waits;
  if (resumed) ++counters_.resumed;
  co_await w.timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (w.queued) {
    w.list->erase(w.pos);
    w.queued = false;
  }
  // A hand-over can race the expiry (both already queued): a delivered connection wins.
  if (w.conn) {
    ++in_use_;
    co_return Lease(self, std::move(w.conn));
  }
  if (w.slot) {
    w.slot = false;
    co_return co_await open_new();
  }
  if (w.closed) co_return unavailable("pool closed");
  ++counters_.timeouts;
  if (wait_until == request_deadline) co_return make_error_code(Errc::deadline_exceeded);
  co_return make_error_code(Errc::pool_timeout);
}

asio::awaitable<tk::Result<Pool::Lease>> Pool::open_new() {
  auto self = shared_from_this();
  if (closed_) {
    give_back_slot();
    co_return unavailable("pool closed");
  }
  // Fail fast while the server is known to be down; the first caller after the backoff probes.
  if (Clock::now() < retry_at_) {
    give_back_slot();
    co_return unavailable("reconnect backoff");
  }
  ++counters_.connects;
  auto r = co_await Connection::connect(ex_, copt_);
  if (!r.ok()) {
    ++counters_.connect_failures;
    reached(false);
    backoff_ = backoff_.count() == 0 ? opt_.reconnect_backoff_min
                                     : std::min(backoff_ * 2, opt_.reconnect_backoff_max);
    retry_at_ = Clock::now() + backoff_;
    give_back_slot();
    co_return std::move(r).error();
  }
  reached(true);
  backoff_ = {};
  retry_at_ = {};
  auto c = std::move(r).value();
  c->set_io_timeout(opt_.statement_timeout.count() > 0 ? opt_.statement_timeout + kIoGuardMargin
                                                       : std::chrono::milliseconds{0});
  if (closed_) {
    discard(std::move(c));
    co_return unavailable("pool closed");
  }
  ++in_use_;
  co_return Lease(self, std::move(c));
}

void Pool::give_back_slot() {
  --open_;
  // A waiter queued because the pool was full may now open a connection itself. While the
  // server is down this cascades: each waiter fails fast in open_new instead of timing out.
  if (closed_) return;
  if (Waiter* w = next_waiter()) {
    w->slot = true;
    ++open_;
    w->timer.cancel();
  }
}

std::chrono::microseconds Pool::shed_budget() const {
  const std::chrono::microseconds timeout = opt_.acquire_timeout;
  return opt_.wait_target.count() > 0
             ? std::min<std::chrono::microseconds>(timeout, opt_.wait_target)
             : timeout;
}

bool Pool::would_shed() const {
  // Mirrors acquire_for's order: an idle connection or a free slot serves at once.
  if (closed_ || !idle_.empty() || open_ < opt_.size) return false;
  return late(shed_budget());
}

bool Pool::late(std::chrono::microseconds budget) const {
  if (!opt_.shed_when_late) return false;
  // Every connection is busy; each frees up after about lease_avg_, so the n-th in line gets
  // one after about n * lease_avg_ / size.
  auto ahead = static_cast<std::int64_t>(resumed_.size() + waiters_.size()) + 1;
  auto expected = lease_avg_ * ahead / opt_.size;
  return expected > budget;
}

void Pool::release(std::unique_ptr<Connection> c, std::chrono::steady_clock::duration held) {
  // Exponentially weighted (1/8): follows a change of load within tens of leases.
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(held);
  lease_avg_ = lease_avg_.count() == 0 ? us : lease_avg_ + (us - lease_avg_) / 8;
  --in_use_;
  release_unleased(std::move(c));
}

void Pool::release_unleased(std::unique_ptr<Connection> c) {
  if (closed_ || c->broken()) {
    discard(std::move(c));
    return;
  }
  c->drop_begin();  // a transaction abandoned before its first statement: nothing was sent
  (void)c->take_batch_commit();  // a batch's COMMIT judged by no transaction: not the next's
  switch (c->tx_status()) {
    case Connection::TxStatus::idle:
      break;
    case Connection::TxStatus::in_transaction:
    case Connection::TxStatus::in_error:
      // Returned mid-transaction (an error path that skipped ROLLBACK, or a cancelled
      // coroutine): roll back before anyone else sees that transaction. Counts as in use.
      ++in_use_;
      asio::co_spawn(ex_, rollback_then_release(shared_from_this(), std::move(c)),
                     log_failure("pg rollback"));
      return;
    default:
      // A query still running (coroutine destroyed mid-flight): protocol state unknown.
      discard(std::move(c));
      return;
  }
  Waiter* w = next_waiter();
  if (w == nullptr) {
    idle_.push_back(std::move(c));
    return;
  }
  w->conn = std::move(c);
  w->timer.cancel();
}

asio::awaitable<void> Pool::rollback_then_release(std::shared_ptr<Pool> self,
                                                  std::unique_ptr<Connection> c) {
  auto s = co_await c->exec_script("ROLLBACK", Connection::Budget::cleanup);
  if (!s.ok() || c->tx_status() != Connection::TxStatus::idle) c->poison();
  --self->in_use_;  // not a lease: leaves the average alone
  self->release_unleased(std::move(c));
}

void Pool::discard(std::unique_ptr<Connection> c) {
  ++counters_.discarded;
  c.reset();
  give_back_slot();
}

asio::awaitable<tk::Result<Rows>> Pool::query(std::string_view sql, Params params) {
  auto lease = co_await acquire();
  if (!lease.ok()) co_return std::move(lease).error();
  auto r = co_await lease.value()->query(sql, std::move(params));
  outcome(r.ok(), *lease.value());
  co_return r;
}

asio::awaitable<tk::Result<std::vector<Rows>>> Pool::pipeline(std::vector<Statement> statements) {
  auto lease = co_await acquire();
  if (!lease.ok()) co_return std::move(lease).error();
  auto r = co_await lease.value()->pipeline(std::move(statements));
  outcome(r.ok(), *lease.value());
  co_return r;
}

void Pool::outcome(bool ok, const Connection& c) {
  // healthy() answers "can we reach the server": a statement timeout (also `unavailable`) on a
  // live connection does not count against it.
  if (ok) {
    reached(true);
  } else if (c.broken()) {
    reached(false);
  }
}

void Pool::reached(bool ok) {
  if (ok) {
    down_since_.reset();
  } else if (!down_since_) {
    down_since_ = Clock::now();
  }
}

bool Pool::healthy() const {
  if (!down_since_) return true;
  return opt_.unhealthy_after.count() > 0 && Clock::now() - *down_since_ < opt_.unhealthy_after;
}

asio::awaitable<tk::Status> Pool::warm_up(int n) {
  if (n < 0 || n > opt_.size) n = opt_.size;
  std::vector<Lease> leases;  // held until the end so each acquire opens a new connection
  while (open_ < n) {
    ++open_;
    auto l = co_await open_new();
    if (!l.ok()) co_return std::move(l).error();
    leases.push_back(std::move(l).value());
  }
  co_return tk::Status{};
}

void Pool::close() {
  closed_ = true;
  open_ -= static_cast<int>(idle_.size());
  idle_.clear();
  while (Waiter* w = next_waiter()) {
    w->closed = true;
    w->timer.cancel();
  }
}

PoolStats Pool::stats() const {
  PoolStats s = counters_;
  s.lease_avg = lease_avg_;
  s.size = opt_.size;
  s.open = open_;
  s.in_use = in_use_;
  s.idle = static_cast<int>(idle_.size());
  s.waiting = static_cast<int>(resumed_.size() + waiters_.size());
  return s;
}

}  // namespace tk::pg
