// The pre-queue on PostgreSQL: entries are rows, durable before a join is acknowledged. Joins
// take a performance's advisory lock shared, the close takes it exclusively: the close waits for
// the joins in flight, and a join after it sees the pre-queue closed (each statement of a READ
// COMMITTED transaction reads what committed before it started).
#include "common/crypto/encoding.hpp"
#include "infra/postgres/repos/repos.hpp"
#include "infra/postgres/repos/support.hpp"
#include "infra/postgres/transaction.hpp"

namespace tk::pgrepo {

using app::Errc;
using app::Task;
using pg::arg;

namespace {
// First key of the advisory locks of pre-queues (the second is the performance's hash).
constexpr const char* kLockShared = "SELECT pg_advisory_xact_lock_shared(1885, hashtext($1))";
constexpr const char* kLock = "SELECT pg_advisory_xact_lock(1885, hashtext($1))";
}  // namespace

Task<app::PreQueueJoin> PreQueue::join(std::string perf, std::string account_id,
                                       std::int64_t account_num, Millis now) {
  auto r = co_await pg::transaction(
      *pool_, [&](pg::Connection& c) -> asio::awaitable<Result<app::PreQueueJoin>> {
        TK_CO_CHECK(co_await c.query(kLockShared, P(arg(perf))));
        TK_CO_TRY(auto ins,
                  co_await c.query(
                      "INSERT INTO prequeue_entries (performance_id, account_id, account_num, "
                      "joined_at) SELECT $1, $2, $3, to_timestamp($4::float8 / 1000) FROM "
                      "performances WHERE id = $1 AND queue_opens_at IS NOT NULL AND "
                      "prequeue_size IS NULL ON CONFLICT (performance_id, account_id) DO NOTHING "
                      "RETURNING entry_no",
                      P(arg(perf), arg(account_id), arg(account_num), arg(now))));
        app::PreQueueJoin j;
        if (!ins.empty()) {
          j.created = true;
          j.entry = ins.int64(0, 0);
          co_return j;
        }
        // The account's entry (also once closed: it is in the list), or closed without one.
        TK_CO_TRY(auto cur,
                  co_await c.query("SELECT e.entry_no, p.prequeue_size IS NOT NULL, "
                                   "p.queue_opens_at IS NOT NULL FROM performances p LEFT JOIN "
                                   "prequeue_entries e ON e.performance_id = p.id AND "
                                   "e.account_id = $2 WHERE p.id = $1",
                                   P(arg(perf), arg(account_id))));
        if (cur.empty() || !cur.boolean(0, 2)) co_return Errc::not_found;
        if (!cur.is_null(0, 0)) {
          j.entry = cur.int64(0, 0);
        } else {
          j.closed = cur.boolean(0, 1);
          if (!j.closed) co_return Errc::unavailable;  // not inserted, not closed: cannot be
        }
        co_return j;
      });
  if (!r) co_return map_error(std::move(r).error());
  co_return std::move(*r);
}

Task<app::PreQueueList> PreQueue::close(std::string perf) {
  auto r = co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Status> {
    TK_CO_CHECK(co_await c.query(kLock, P(arg(perf))));
    TK_CO_CHECK(co_await c.query(
        "UPDATE performances SET prequeue_size = (SELECT count(*) FROM prequeue_entries WHERE "
        "performance_id = $1) WHERE id = $1 AND queue_opens_at IS NOT NULL AND prequeue_size IS "
        "NULL",
        P(arg(perf))));
    co_return Status{};
  });
  if (!r) co_return map_error(std::move(r).error());
  PG_TRY(auto p, co_await pool_->query("SELECT encode(queue_seed, 'hex'), prequeue_size FROM "
                                       "performances WHERE id = $1 AND queue_opens_at IS NOT "
                                       "NULL AND queue_seed IS NOT NULL",
                                       P(arg(perf))));
  if (p.empty() || p.is_null(0, 1)) co_return Errc::not_found;
  auto seed = crypto::hex_decode(p.text(0, 0));
  if (!seed || seed->size() != 32) co_return Errc::internal;
  const std::int64_t size = p.int64(0, 1);
  PG_TRY(auto e, co_await pool_->query("SELECT entry_no, account_num FROM prequeue_entries WHERE "
                                       "performance_id = $1 ORDER BY entry_no",
                                       P(arg(perf))));
  if (e.size() != size) {
    co_return Error{Errc::internal, {{"why", "pre-queue entries differ from its recorded size"}}};
  }
  app::PreQueueList list;
  list.seed = std::move(*seed);
  list.entries.reserve(static_cast<std::size_t>(size));
  list.account_nums.reserve(static_cast<std::size_t>(size));
  for (int i = 0; i < e.size(); ++i) {
    list.entries.push_back(e.int64(i, 0));
    list.account_nums.push_back(e.int64(i, 1));
  }
  co_return list;
}

Task<bool> PreQueue::leave(std::string perf, std::int64_t entry) {
  // Under the joins' shared lock: a close (exclusive) either lists the entry or never sees it.
  auto r =
      co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Result<bool>> {
        TK_CO_CHECK(co_await c.query(kLockShared, P(arg(perf))));
        TK_CO_TRY(auto open, co_await c.query("SELECT prequeue_size IS NULL FROM performances "
                                              "WHERE id = $1 AND queue_opens_at IS NOT NULL",
                                              P(arg(perf))));
        if (open.empty()) co_return Errc::not_found;
        if (!open.boolean(0, 0)) co_return false;
        TK_CO_CHECK(co_await c.query(
            "DELETE FROM prequeue_entries WHERE performance_id = $1 AND entry_no = $2",
            P(arg(perf), arg(entry))));
        co_return true;
      });
  if (!r) co_return map_error(std::move(r).error());
  co_return *r;
}

Task<app::PreQueueFairness> PreQueue::fairness(std::string perf) {
  PG_TRY(auto p, co_await pool_->query(
                     "SELECT encode(sha256(queue_seed), 'hex'), CASE WHEN prequeue_size IS NULL "
                     "THEN '' ELSE encode(queue_seed, 'hex') END, COALESCE(prequeue_size, (SELECT "
                     "count(*) FROM prequeue_entries WHERE performance_id = $1)), prequeue_size "
                     "IS NOT NULL FROM performances WHERE id = $1 AND queue_opens_at IS NOT NULL "
                     "AND queue_seed IS NOT NULL",
                     P(arg(perf))));
  if (p.empty()) co_return Errc::not_found;
  app::PreQueueFairness f;
  f.seed_commitment = std::string(p.text(0, 0));
  f.seed = std::string(p.text(0, 1));
  f.size = p.int64(0, 2);
  f.closed = p.boolean(0, 3);
  co_return f;
}

}  // namespace tk::pgrepo
