#pragma once
// A bounded pool of Connections owned by ONE executor (one io_context thread). The service
// creates one pool per io_context (shared-nothing), so nothing here is locked: every member
// function, and every Lease destructor, must run on that executor's thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/deadline.hpp"
#include "common/result.hpp"
#include "infra/postgres/connection.hpp"
#include "infra/postgres/errors.hpp"
#include "infra/postgres/rows.hpp"

namespace tk::pg {

struct PoolOptions {
  std::string conninfo;
  int size = 8;
  std::chrono::milliseconds acquire_timeout{500}, connect_timeout{2000}, statement_timeout{5000};
  bool read_only = false;  // default_transaction_read_only=on for every session
  std::string application_name = "ticketing";
  // After a failed connect, new connects are not attempted (acquire fails fast with
  // `unavailable`) for a backoff that doubles from min to max; reset by a success.
  std::chrono::milliseconds reconnect_backoff_min{50}, reconnect_backoff_max{1000};
  // Refuse at once (pool_timeout) an acquire that would queue behind more work than the pool
  // can finish within acquire_timeout, judged by how long leases have lately been held. A crowd
  // then gets its 503 + Retry-After immediately instead of each request holding its client's
  // connection (and a coroutine) for the whole timeout only to be refused anyway.
  bool shed_when_late = true;
  // The expected wait past which a new acquire is shed (with shed_when_late), when shorter than
  // acquire_timeout: what a request accepted into the queue may wait, so accepted work stays
  // fast while the rest is told at once to come back. 0: acquire_timeout.
  std::chrono::milliseconds wait_target{0};
  // healthy() turns false only once the server has been unreachable this long: a failover
  // (the old primary gone, the new one not yet promoted) of a few seconds is not "down". 0: at
  // the first failure.
  std::chrono::milliseconds unhealthy_after{0};
};

struct PoolStats {
  int size = 0;    // configured maximum
  int open = 0;    // connections open or being opened
  int in_use = 0;  // leased out
  int idle = 0;
  int waiting = 0;  // acquirers queued for a connection
  std::uint64_t acquires = 0, waits = 0, timeouts = 0, connects = 0, connect_failures = 0,
                discarded = 0;
  std::uint64_t shed = 0;  // refused at once: the queue could not be served in time
  // Waits of requests that had a connection of this pool before (a use case's second or later
  // statement): queued ahead of new requests and never shed, so work under way is finished
  // rather than thrown away half done when the pool is short.
  std::uint64_t resumed = 0;
  std::chrono::microseconds lease_avg{0};  // recent time a connection stays leased (EWMA)
};

struct DurationHash {
  std::size_t operator()(std::chrono::steady_clock::duration d) const noexcept {
    return std::hash<std::chrono::steady_clock::rep>{}(d.count());
  }
};

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  static std::shared_ptr<Pool> create(asio::any_io_executor ex, PoolOptions opt);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Exclusive use of one connection; returns it to the pool when destroyed. A broken
  // connection is discarded; one returned inside a transaction is rolled back first.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& o) noexcept = default;
    Lease& operator=(Lease&& o) noexcept;
    ~Lease();
    Connection* get() const { return conn_.get(); }
    Connection* operator->() const { return conn_.get(); }
    Connection& operator*() const { return *conn_; }
    explicit operator bool() const { return conn_ != nullptr; }
    void reset();  // return the connection now

   private:
    friend class Pool;
    Lease(std::shared_ptr<Pool> pool, std::unique_ptr<Connection> c)
        : pool_(std::move(pool)), conn_(std::move(c)), since_(std::chrono::steady_clock::now()) {}
    std::shared_ptr<Pool> pool_;  // keeps the pool alive while connections are out
    std::unique_ptr<Connection> conn_;
    std::chrono::steady_clock::time_point since_;
  };

  // An idle connection, a new one (if fewer than `size` are open), or the next one returned
  // within acquire_timeout (else Errc::pool_timeout). A request that was given a connection
  // before (told apart by its deadline, which is unique to each request of a thread) waits ahead
  // of new ones and is never shed: refusing it would waste the work it has done. Errc::unavailable
  // when the server cannot be reached, immediately while in reconnect backoff. Under a request
  // deadline (carried by the caller's executor, common/deadline.hpp) the wait ends at that deadline
  // if it is sooner, with Errc::deadline_exceeded.
  asio::awaitable<tk::Result<Lease>> acquire();
  // acquire + Connection::query + release. SQL must outlive the call.
  asio::awaitable<tk::Result<Rows>> query(std::string_view sql, Params params = {});
  // acquire + Connection::pipeline (one round trip, one implicit transaction) + release.
  asio::awaitable<tk::Result<std::vector<Rows>>> pipeline(std::vector<Statement> statements);
  // Opens connections up to `n` (default: size) now, so start-up fails early when the database
  // is unreachable and first requests do not pay for connecting.
  asio::awaitable<tk::Status> warm_up(int n = -1);
  // Drains: closes idle connections, fails waiters and later acquires with `unavailable`;
  // leased connections are closed when returned.
  void close();

  // The server was reached by the last connect/query, or has been unreachable for less than
  // unhealthy_after.
  bool healthy() const;
  // Whether a request's first acquire, arriving now, would be shed: every connection busy and
  // the line longer than the wait target. Queues nothing, so a caller can refuse a request
  // before it spends a round trip elsewhere only to be shed here.
  bool would_shed() const;
  PoolStats stats() const;
  const PoolOptions& options() const { return opt_; }
  asio::any_io_executor get_executor() const { return ex_; }

 private:
  struct Waiter;
  Pool(asio::any_io_executor ex, PoolOptions opt);
  // From a Lease (was in use for `held`).
  void release(std::unique_ptr<Connection> c, std::chrono::steady_clock::duration held);
  // Whether a new waiter, queued behind the current ones, would outlast `budget` (the acquire
  // timeout or the wait target, or less when the request's deadline is sooner).
  bool late(std::chrono::microseconds budget) const;
  // The longest expected wait a new request is queued for: the wait target, else the timeout.
  std::chrono::microseconds shed_budget() const;
  void release_unleased(std::unique_ptr<Connection> c);  // idle, to a waiter, or discarded
  void discard(std::unique_ptr<Connection> c);           // close it and give back its slot
  // One connection fewer is open: lets the first waiter (if any) open one in its place.
  void give_back_slot();
  asio::awaitable<tk::Result<Lease>> open_new();  // caller has already counted it in open_
  asio::awaitable<tk::Result<Lease>> acquire_for(SteadyTime deadline);
  static asio::awaitable<void> rollback_then_release(std::shared_ptr<Pool> self,
                                                     std::unique_ptr<Connection> c);

  asio::any_io_executor ex_;
  PoolOptions opt_;
  ConnectOptions copt_;
  std::vector<std::unique_ptr<Connection>> idle_;  // LIFO: the warmest connection first
  std::list<Waiter*> resumed_;                     // FIFO: requests served before, first
  std::list<Waiter*> waiters_;                     // FIFO: new requests
  Waiter* next_waiter();                           // dequeued, or nullptr
  // Requests given a connection, by deadline, until it passes (stale ones dropped as new come).
  class Served {
   public:
    void add(SteadyTime deadline, SteadyTime now);
    bool contains(SteadyTime deadline) const { return set_.contains(deadline.time_since_epoch()); }

   private:
    std::deque<SteadyTime> order_;
    std::unordered_set<SteadyTime::duration, DurationHash> set_;
  };
  Served served_;
  int open_ = 0;
  int in_use_ = 0;
  void reached(bool ok);
  void outcome(bool ok, const Connection& c);  // after a statement on a lease: reached or not
  // Since when connects/queries have failed to reach the server (none: the last one did).
  std::optional<std::chrono::steady_clock::time_point> down_since_;
  bool closed_ = false;
  std::chrono::milliseconds backoff_{0};
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::microseconds lease_avg_{0};
  PoolStats counters_;
};

}  // namespace tk::pg
