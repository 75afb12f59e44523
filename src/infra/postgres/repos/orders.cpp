// Orders, the seat fence, idempotency rows, the finalising transaction, outbox and the queue
// ledger on PostgreSQL.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>
#include <set>

#include "infra/postgres/repos/repos.hpp"
#include "infra/postgres/repos/support.hpp"
#include "infra/postgres/transaction.hpp"

namespace tk::pgrepo {

using app::Errc;
using app::Task;
using pg::arg;

namespace {
constexpr const char* kOrderCols =
    "o.id, o.account_id, o.performance_id, o.hold_id, o.status, o.seat_ids, o.total_cents, "
    "o.currency, (extract(epoch from o.expires_at) * 1000)::bigint, COALESCE(o.charge_id, '')";

domain::Order order_from(const pg::Rows& r, int i) {
  domain::Order o;
  o.id = r.text(i, 0);
  o.account_id = r.text(i, 1);
  o.performance_id = r.text(i, 2);
  o.hold_id = r.text(i, 3);
  o.stored_status =
      domain::parse_order_status(r.text(i, 4)).value_or(domain::OrderStatus::cancelled);
  o.seat_ids = parse_text_array(r.text(i, 5));
  o.total_cents = r.int64(i, 6);
  o.currency = r.text(i, 7);
  o.expires_at = r.int64(i, 8);
  o.charge_id = r.text(i, 9);
  return o;
}

// A local marker: the claim was no longer valid, so the transaction is rolled back.
struct ClaimLost {};
const std::error_code kClaimLost = make_error_code(Errc::hold_expired);
// Another: the hold has its order already, so placing one writes nothing (the caller looks at
// the order it read, not at this code).
const std::error_code kHoldOrdered = make_error_code(Errc::seats_unavailable);
}  // namespace

namespace {
// An order with its tickets, newest first: the rows orders_from() reads.
std::string orders_sql(std::string_view where) {
  return std::string("SELECT ") + kOrderCols +
         ", t.id, t.seat_id, t.code, t.status, "
         "COALESCE((extract(epoch from t.checked_in_at) * 1000)::bigint, 0) "
         "FROM orders o LEFT JOIN tickets t ON t.order_id = o.id WHERE " +
         std::string(where) + " ORDER BY o.created_at DESC, o.id, t.seat_id";
}

std::vector<domain::Order> orders_from(const pg::Rows& r) {
  std::vector<domain::Order> out;
  for (int i = 0; i < r.size(); ++i) {
    if (out.empty() || out.back().id != r.text(i, 0)) out.push_back(order_from(r, i));
    if (!r.is_null(i, 10)) {
      domain::Ticket t{std::string(r.text(i, 10)), std::string(r.text(i, 11)),
                       std::string(r.text(i, 12))};
      t.status = domain::parse_ticket_status(r.text(i, 13)).value_or(domain::TicketStatus::void_);
      t.checked_in_at = r.int64(i, 14);
      out.back().tickets.push_back(std::move(t));
    }
  }
  return out;
}
}  // namespace

Task<std::vector<domain::Order>> Orders::load_orders(std::string where, std::string a) {
  PG_TRY(auto r, co_await pool_->query(orders_sql(where), P(arg(a))));
  co_return orders_from(r);
}

Task<std::optional<domain::Order>> Orders::get(std::string id) {
  PG_TRY(auto v, co_await load_orders("o.id = $1", id));
  if (v.empty()) co_return std::optional<domain::Order>{};
  co_return std::optional<domain::Order>(std::move(v.front()));
}

Task<std::optional<domain::Order>> Orders::by_hold(std::string hold_id) {
  PG_TRY(auto v, co_await load_orders("o.hold_id = $1", hold_id));
  if (v.empty()) co_return std::optional<domain::Order>{};
  co_return std::optional<domain::Order>(std::move(v.front()));
}

Task<std::vector<domain::Order>> Orders::list_for_account(std::string account_id) {
  co_return co_await load_orders("o.account_id = $1", account_id);
}

Task<app::PlacedOrder> Orders::place(const app::NewOrder& n, Millis now) {
  const auto& o = n.order;
  const auto seats = text_array(o.seat_ids);
  const auto count = static_cast<std::int64_t>(o.seat_ids.size());
  const std::string lock_key = o.account_id + "/" + o.performance_id;
  static const std::string kOrderOfHold = orders_sql("o.hold_id = $1");
  std::optional<domain::Order> existing;
  auto r = co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Status> {
    // One round trip for the lock, the hold's order if it has one, the account's count and the
    // fence (pipelined); the checks follow, and a failed one rolls the claim back with the rest.
    std::vector<pg::Statement> first;
    // One order at a time per (account, performance), so the per-account limit holds; the reads
    // after the lock see what an order placed by a concurrent call for this hold committed.
    first.push_back({"SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", P(arg(lock_key))});
    first.push_back({kOrderOfHold, P(arg(o.hold_id))});
    first.push_back(
        {"SELECT COALESCE(sum(cardinality(seat_ids)), 0) FROM orders WHERE account_id = $1 AND "
         "performance_id = $2 AND (status IN ('paid', 'refund_pending') OR (status = 'pending' "
         "AND expires_at > to_timestamp($3::float8 / 1000)))",
         P(arg(o.account_id), arg(o.performance_id), arg(now))});
    // The fence: claim every seat of the hold or none; none when the hold has an order already
    // (its claims may have run out, and must not be taken by a second order of the same hold).
    first.push_back(
        {"UPDATE performance_seats SET state = 'ordered', order_id = $1, "
         "claim_expires_at = to_timestamp($2::float8 / 1000) WHERE performance_id = $3 AND "
         "seat_id = ANY($4::text[]) AND (state = 'available' OR (state = 'ordered' AND "
         "claim_expires_at <= to_timestamp($5::float8 / 1000))) AND NOT EXISTS (SELECT 1 FROM "
         "orders WHERE hold_id = $6) RETURNING seat_id",
         P(arg(o.id), arg(o.expires_at), arg(o.performance_id), arg(seats), arg(now),
           arg(o.hold_id))});
    TK_CO_TRY(auto got, co_await c.pipeline(std::move(first)));
    if (auto had = orders_from(got[1]); !had.empty()) {
      existing = std::move(had.front());
      co_return kHoldOrdered;  // nothing was written: rolled back
    }
    const pg::Rows& held = got[2];
    const pg::Rows& claimed = got[3];
    if (held.int64(0, 0) + count > n.max_per_account) co_return Errc::seat_limit_reached;
    if (claimed.size() != count) {
      std::set<std::string> taken;
      for (int i = 0; i < claimed.size(); ++i) taken.emplace(claimed.text(i, 0));
      boost::json::array missing;
      for (const auto& s : o.seat_ids) {
        if (!taken.count(s)) missing.emplace_back(s);
      }
      co_return Error{Errc::seats_unavailable, {{"seat_ids", std::move(missing)}}};
    }
    // The order row and the COMMIT in the second round trip.
    std::vector<pg::Statement> insert;
    insert.push_back(
        {"INSERT INTO orders (id, account_id, performance_id, hold_id, status, seat_ids, "
         "total_cents, currency, expires_at) VALUES ($1, $2, $3, $4, 'pending', $5::text[], $6, "
         "$7, to_timestamp($8::float8 / 1000))",
         P(arg(o.id), arg(o.account_id), arg(o.performance_id), arg(o.hold_id), arg(seats),
           arg(o.total_cents), arg(o.currency), arg(o.expires_at))});
    TK_CO_CHECK(co_await c.pipeline(std::move(insert), pg::Connection::Then::commit));
    co_return Status{};
  });
  if (existing) co_return app::PlacedOrder{std::move(*existing), false};
  if (!r.ok()) {
    if (r.code() == pg::Errc::unique_violation) {  // a concurrent call placed this hold's order
      PG_TRY(auto again, co_await by_hold(o.hold_id));
      if (again) co_return app::PlacedOrder{std::move(*again), false};
    }
    co_return map_error(std::move(r).error());
  }
  co_return app::PlacedOrder{o, true};
}

Task<app::OrderRepo::HoldOrder> Orders::cancel_for_hold(std::string hold_id) {
  using Found = app::OrderRepo::HoldOrder;
  Found found = Found::none;
  auto r = co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Status> {
    // Waits for a finalising transaction holding the order's row, then sees its outcome.
    TK_CO_TRY(auto o, co_await c.query("UPDATE orders SET status = 'cancelled' WHERE hold_id = $1 "
                                       "AND status = 'pending' RETURNING id",
                                       P(arg(hold_id))));
    if (o.empty()) {
      TK_CO_TRY(auto paid,
                co_await c.query("SELECT 1 FROM orders WHERE hold_id = $1 AND status = 'paid'",
                                 P(arg(hold_id))));
      if (!paid.empty()) found = Found::paid;
      co_return Status{};
    }
    found = Found::cancelled;
    TK_CO_CHECK(
        co_await c.query("UPDATE performance_seats SET state = 'available', order_id = NULL, "
                         "claim_expires_at = NULL WHERE order_id = $1 AND state = 'ordered'",
                         P(arg(o.text(0, 0)))));
    co_return Status{};
  });
  if (!r.ok()) co_return map_error(std::move(r).error());
  co_return found;
}

Task<app::IdempotencyBegin> Orders::begin_payment(std::string account, std::string key,
                                                  std::string fp, std::string order_id,
                                                  std::string new_attempt, Millis now,
                                                  Millis lease) {
  using K = app::IdempotencyBegin::Kind;
  static const std::string kOrderById = orders_sql("o.id = $1");
  for (int round = 0; round < 3; ++round) {
    // One round trip: the row, written only for an order of the account, then the order as it
    // is after the row (the payment's fresh read: another key may have paid it meanwhile).
    // The conflict target is the key only: another key's attempt in progress on the same order
    // (migration 0006) is a unique violation, not a row to look at.
    std::vector<pg::Statement> batch;
    batch.push_back(
        {"INSERT INTO idempotency_keys (account_id, key, fingerprint, order_id, state, "
         "locked_until, attempt) SELECT $1, $2, $3, $4, 'in_progress', "
         "to_timestamp($5::float8 / 1000), $6 WHERE EXISTS (SELECT 1 FROM orders WHERE id = $4 "
         "AND account_id = $1) ON CONFLICT (account_id, key) DO NOTHING",
         P(arg(account), arg(key), arg(fp), arg(order_id), arg(now + lease), arg(new_attempt))});
    batch.push_back({kOrderById, P(arg(order_id))});
    auto got = co_await pool_->pipeline(std::move(batch));
    if (!got.ok()) {
      if (got.code() == pg::Errc::unique_violation) {
        co_return app::IdempotencyBegin{K::order_busy, false, 0, {}};
      }
      co_return map_error(std::move(got).error());
    }
    auto orders = orders_from((*got)[1]);
    if (orders.empty() || orders.front().account_id != account) co_return Errc::not_found;
    if ((*got)[0].affected() == 1) {
      app::IdempotencyBegin started{K::started, false, 0, {}, new_attempt};
      started.order = std::move(orders.front());
      co_return started;
    }
    PG_TRY(auto row,
           co_await pool_->query(
               "SELECT fingerprint, state, (extract(epoch from locked_until) * 1000)::bigint, "
               "response_status, response_body FROM idempotency_keys WHERE account_id = $1 "
               "AND key = $2",
               P(arg(account), arg(key))));
    if (row.empty()) continue;  // abandoned meanwhile: try to insert again
    if (row.text(0, 0) != fp) co_return app::IdempotencyBegin{K::reused, false, 0, {}};
    if (row.text(0, 1) == "completed") {
      co_return app::IdempotencyBegin{K::replay, false, static_cast<int>(row.int64(0, 3)),
                                      std::string(row.text(0, 4))};
    }
    if (row.int64(0, 2) > now) co_return app::IdempotencyBegin{K::in_progress, false, 0, {}};
    // The attempt's lease ran out (its process died or runs late): take it over, compare-and-set,
    // with its provider key, so a charge it made is found, not made twice.
    PG_TRY(auto took,
           co_await pool_->query(
               "UPDATE idempotency_keys SET locked_until = to_timestamp($3::float8 / 1000) "
               "WHERE account_id = $1 AND key = $2 AND state = 'in_progress' AND "
               "locked_until <= to_timestamp($4::float8 / 1000) RETURNING attempt",
               P(arg(account), arg(key), arg(now + lease), arg(now))));
    if (took.affected() == 1) {
      co_return app::IdempotencyBegin{K::started, true, 0, {}, std::string(took.text(0, 0))};
    }
    co_return app::IdempotencyBegin{K::in_progress, false, 0, {}};
  }
  co_return Errc::unavailable;
}

Task<void> Orders::complete_payment(std::string account, std::string key, std::string attempt,
                                    int status, std::string body) {
  PG_TRY(auto r, co_await pool_->query(
                     "UPDATE idempotency_keys SET state = 'completed', response_status = $3, "
                     "response_body = $4 WHERE account_id = $1 AND key = $2 AND attempt = $5 "
                     "AND state = 'in_progress'",
                     P(arg(account), arg(key), arg(status), arg(body), arg(attempt))));
  (void)r;
  co_return Status{};
}

Task<void> Orders::abandon_payment(std::string account, std::string key, std::string attempt) {
  PG_TRY(auto r, co_await pool_->query(
                     "DELETE FROM idempotency_keys WHERE account_id = $1 AND key = $2 AND "
                     "attempt = $3 AND state = 'in_progress'",
                     P(arg(account), arg(key), arg(attempt))));
  (void)r;
  co_return Status{};
}

Task<bool> Orders::finalise(const app::FinalSale& s) {
  std::vector<std::string> ids, seats, codes;
  for (const auto& t : s.tickets) {
    ids.push_back(t.id);
    seats.push_back(t.seat_id);
    codes.push_back(t.code);
  }
  auto r = co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Status> {
    // Two pipelined round trips: the fences, checked; then the writes with the COMMIT, which
    // nothing after them can veto. Rows are locked in the statements' order (order, seats,
    // idempotency row, tickets, sales row), the order bench/baselines/order.sql sends them in.
    // A failed fence rolls back whatever its round trip wrote.
    std::vector<pg::Statement> fences;
    fences.push_back(
        {"SELECT performance_id, cardinality(seat_ids) FROM orders WHERE id = $1 AND "
         "status = 'pending' FOR UPDATE",
         P(arg(s.order_id))});
    // Only while the claim is still valid (the fence set when the order was placed).
    fences.push_back(
        {"UPDATE performance_seats SET state = 'sold', claim_expires_at = NULL WHERE order_id = $1 "
         "AND state = 'ordered' AND claim_expires_at > to_timestamp($2::float8 / 1000)",
         P(arg(s.order_id), arg(s.now))});
    // Only while the attempt still owns its row: an attempt given up meanwhile had its provider
    // key closed, so it holds no approved charge to get this far with.
    fences.push_back(
        {"UPDATE idempotency_keys SET state = 'completed', response_status = 200, "
         "response_body = $3 WHERE account_id = $1 AND key = $2 AND attempt = $4 AND "
         "state = 'in_progress'",
         P(arg(s.account_id), arg(s.idempotency_key), arg(s.response_body), arg(s.attempt))});
    TK_CO_TRY(auto f, co_await c.pipeline(std::move(fences)));
    const pg::Rows& o = f[0];
    if (o.empty()) co_return kClaimLost;
    std::string perf(o.text(0, 0));
    std::int64_t n = o.int64(0, 1);
    if (f[1].affected() != n || f[2].affected() != 1) co_return kClaimLost;

    std::vector<pg::Statement> writes;
    writes.push_back(
        {"INSERT INTO tickets (id, order_id, performance_id, seat_id, code) SELECT t.id, $1, $2, "
         "t.seat, t.code FROM unnest($3::text[], $4::text[], $5::text[]) AS t(id, seat, code)",
         P(arg(s.order_id), arg(perf), arg(text_array(ids)), arg(text_array(seats)),
           arg(text_array(codes)))});
    writes.push_back(
        {"UPDATE orders SET status = 'paid', paid_at = now(), charge_id = $2 WHERE id = $1",
         P(arg(s.order_id), arg(s.charge_id))});
    writes.push_back(
        {"INSERT INTO outbox (topic, payload, traceparent) VALUES ('order.paid', "
         "$1::jsonb, NULLIF($2, ''))",
         P(arg(s.outbox_payload), arg(s.traceparent))});
    // One of the performance's 64 sales rows, at random: concurrent payments rarely share one
    // (a single counter row made them queue on its lock). Last, to hold that lock briefly.
    writes.push_back(
        {"INSERT INTO performance_sales (performance_id, shard, sold) VALUES ($1, $3, $2) "
         "ON CONFLICT (performance_id, shard) DO UPDATE SET sold = performance_sales.sold + "
         "EXCLUDED.sold",
         P(arg(perf), arg(n), arg(static_cast<std::int64_t>(sales_shard())))});
    TK_CO_CHECK(co_await c.pipeline(std::move(writes), pg::Connection::Then::commit));
    co_return Status{};
  });
  if (!r.ok()) {
    if (r.code() == kClaimLost) co_return false;
    co_return map_error(std::move(r).error());
  }
  co_return true;
}

Task<std::vector<app::InDoubtAttempt>> Orders::in_doubt(Millis now, int limit) {
  constexpr Millis kReconcileLease = 30000;
  PG_TRY(auto r,
         co_await pool_->query(
             "UPDATE idempotency_keys SET locked_until = to_timestamp($3::float8 / 1000) "
             "WHERE (account_id, key) IN (SELECT account_id, key FROM idempotency_keys "
             "WHERE state = 'in_progress' AND locked_until <= to_timestamp($1::float8 / 1000) "
             "ORDER BY locked_until LIMIT $2 FOR UPDATE SKIP LOCKED) "
             "RETURNING account_id, key, order_id, attempt",
             P(arg(now), arg(limit), arg(now + kReconcileLease))));
  std::vector<app::InDoubtAttempt> out;
  for (int i = 0; i < r.size(); ++i) {
    out.push_back({std::string(r.text(i, 0)), std::string(r.text(i, 1)), std::string(r.text(i, 2)),
                   std::string(r.text(i, 3))});
  }
  co_return out;
}

// The next three read tickets (of orders paid or being refunded), not performance_seats: a
// ticket row is written in the transaction that marks its seat sold, and a refund frees the seat
// in the transaction that marks its order refunded, so the sets are equal; the tickets index by
// performance reaches only seats ever sold. Filtering the performance's seats by
// state read every seat of it (~80 ms for 50,000), once per hold that found the markers missing.
Task<std::vector<std::string>> Orders::sold_seats(std::string perf) {
  // A refund voids its tickets at once but frees the seats only when it completes: until then
  // they stay sold (refund_pending), afterwards a resold seat has a new live ticket.
  PG_TRY(auto r, co_await pool_->query(
                     "SELECT t.seat_id FROM tickets t JOIN orders o ON o.id = t.order_id "
                     "WHERE t.performance_id = $1 AND o.status IN ('paid', 'refund_pending')",
                     P(arg(perf))));
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) out.emplace_back(r.text(i, 0));
  co_return out;
}

Task<std::vector<std::pair<std::string, int>>> Orders::bought_counts(std::string perf) {
  PG_TRY(auto r, co_await pool_->query(
                     "SELECT o.account_id, count(*) FROM tickets t JOIN orders o ON o.id = "
                     "t.order_id WHERE t.performance_id = $1 AND o.status IN ('paid', "
                     "'refund_pending') GROUP BY o.account_id",
                     P(arg(perf))));
  std::vector<std::pair<std::string, int>> out;
  for (int i = 0; i < r.size(); ++i)
    out.emplace_back(std::string(r.text(i, 0)), static_cast<int>(r.int64(i, 1)));
  co_return out;
}

Task<std::int64_t> Orders::paid_orders(std::string perf) {
  PG_TRY(auto r, co_await pool_->query(
                     "SELECT count(DISTINCT t.order_id) FROM tickets t JOIN orders o ON "
                     "o.id = t.order_id WHERE t.performance_id = $1 AND o.status = 'paid'",
                     P(arg(perf))));
  co_return r.int64(0, 0);
}

Task<int> Orders::expire_due(Millis now, int limit) {
  PG_TRY(auto r,
         co_await pool_->query(
             "WITH e AS (UPDATE orders SET status = 'expired' WHERE id IN (SELECT id FROM "
             "orders WHERE status = 'pending' AND expires_at <= to_timestamp($1::float8 / 1000) "
             "ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id) "
             "UPDATE performance_seats SET state = 'available', order_id = NULL, "
             "claim_expires_at = NULL WHERE state = 'ordered' AND order_id IN (SELECT id FROM e)",
             P(arg(now), arg(limit))));
  co_return static_cast<int>(r.affected());
}

// ---- Outbox

Task<std::vector<app::OutboxRow>> Outbox::claim_due(int limit, Millis retry_after_ms) {
  // outbox_claim (migrations 0011, 0020) pins the plan to the ordered index scan of the due rows
  // and a primary-key probe per claimed id: a sale's backlog would otherwise be read whole at
  // every claim (sorted with stale statistics, or scanned for a join under the generic plan).
  PG_TRY(auto r, co_await pool_->query("SELECT id, topic, payload, attempts, "
                                       "COALESCE(traceparent, '') FROM "
                                       "outbox_claim($1::int, $2::float8)",
                                       P(arg(limit), arg(retry_after_ms))));
  std::vector<app::OutboxRow> out;
  for (int i = 0; i < r.size(); ++i) {
    out.push_back({r.int64(i, 0), std::string(r.text(i, 1)), std::string(r.text(i, 2)),
                   static_cast<int>(r.int64(i, 3)), std::string(r.text(i, 4))});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.id < b.id; });
  co_return out;
}

Task<void> Outbox::delivered(std::int64_t id) {
  PG_TRY(auto r, co_await pool_->query("DELETE FROM outbox WHERE id = $1", P(arg(id))));
  (void)r;
  co_return Status{};
}

Task<void> Outbox::delivered_all(const std::vector<std::int64_t>& ids) {
  // One statement for a relayed batch; the ids go as one array literal parameter.
  std::string list = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) list += ',';
    list += std::to_string(ids[i]);
  }
  list += '}';
  PG_TRY(auto r,
         co_await pool_->query("DELETE FROM outbox WHERE id = ANY($1::bigint[])", P(arg(list))));
  (void)r;
  co_return Status{};
}

Task<std::int64_t> Outbox::pending() {
  PG_TRY(auto r, co_await pool_->query("SELECT count(*) FROM outbox WHERE parked_at IS NULL"));
  co_return r.int64(0, 0);
}

Task<void> Outbox::failed(std::int64_t id, Millis delay_ms, std::string error, bool park) {
  PG_TRY(auto r,
         co_await pool_->query(
             "UPDATE outbox SET last_error = $3, next_attempt_at = now() + "
             "make_interval(secs => $2::float8 / 1000), parked_at = CASE WHEN $4::boolean THEN "
             "now() END WHERE id = $1",
             P(arg(id), arg(delay_ms), arg(error), arg(park))));
  (void)r;
  co_return Status{};
}

Task<std::int64_t> Outbox::parked() {
  PG_TRY(auto r, co_await pool_->query("SELECT count(*) FROM outbox WHERE parked_at IS NOT NULL"));
  co_return r.int64(0, 0);
}

// ---- Consumers

Task<app::ProcessedLog::Begin> ProcessedLog::begin(std::string consumer, std::string message_id) {
  // One statement: records the attempt unless the message is done, and reports what was there.
  PG_TRY(auto r, co_await pool_->query(
                     "INSERT INTO processed_messages (consumer, message_id, state, attempts) "
                     "VALUES ($1, $2, 'attempted', 1) ON CONFLICT (consumer, message_id) DO UPDATE "
                     "SET attempts = processed_messages.attempts + 1 WHERE "
                     "processed_messages.state = 'attempted' RETURNING attempts",
                     P(arg(consumer), arg(message_id))));
  Begin b;
  if (r.empty()) {
    b.done = true;  // the conflict's WHERE excluded a done row
  } else {
    b.prior_attempts = static_cast<int>(r.int64(0, 0)) - 1;
  }
  co_return b;
}

Task<void> ProcessedLog::done(std::string consumer, std::string message_id) {
  PG_TRY(auto r,
         co_await pool_->query(
             "INSERT INTO processed_messages (consumer, message_id, state, attempts, "
             "done_at) VALUES ($1, $2, 'done', 1, now()) ON CONFLICT (consumer, message_id) "
             "DO UPDATE SET state = 'done', done_at = now()",
             P(arg(consumer), arg(message_id))));
  (void)r;
  co_return Status{};
}

Task<app::ReceiptData> ReceiptReader::receipt(std::string order_id) {
  PG_TRY(auto o, co_await pool_->query(
                     "SELECT o.id, o.status, a.email, a.name, e.title, v.name, "
                     "(extract(epoch from p.starts_at) * 1000)::bigint, o.total_cents, o.currency "
                     "FROM orders o JOIN accounts a ON a.id = o.account_id "
                     "JOIN performances p ON p.id = o.performance_id "
                     "JOIN events e ON e.id = p.event_id JOIN venues v ON v.id = p.venue_id "
                     "WHERE o.id = $1",
                     P(arg(order_id))));
  if (o.empty()) co_return Errc::not_found;
  app::ReceiptData d;
  d.order_id = o.text(0, 0);
  d.status = o.text(0, 1);
  d.email = o.text(0, 2);
  d.buyer_name = o.text(0, 3);
  d.event_title = o.text(0, 4);
  d.venue_name = o.text(0, 5);
  d.starts_at = o.int64(0, 6);
  d.total_cents = o.int64(0, 7);
  d.currency = o.text(0, 8);
  PG_TRY(auto s, co_await pool_->query(
                     "SELECT vs.section, vs.row_label, vs.number, vs.grade, "
                     "COALESCE(pg.price_cents, 0) FROM orders o "
                     "CROSS JOIN LATERAL unnest(o.seat_ids) AS u(seat_id) "
                     "JOIN venue_seats vs ON vs.id = u.seat_id "
                     "LEFT JOIN price_grades pg ON pg.performance_id = o.performance_id AND "
                     "pg.grade = vs.grade WHERE o.id = $1 ORDER BY vs.ord",
                     P(arg(order_id))));
  for (int i = 0; i < s.size(); ++i) {
    d.seats.push_back({std::string(s.text(i, 0)), std::string(s.text(i, 1)),
                       static_cast<int>(s.int64(i, 2)), std::string(s.text(i, 3)), s.int64(i, 4)});
  }
  co_return d;
}

Task<void> ReceiptLedger::handle(const app::Message& m, int) {
  auto r = co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Status> {
    TK_CO_CHECK(co_await c.query(
        "INSERT INTO receipts (outbox_id, order_id, account_id, body) SELECT $1::bigint, "
        "p->>'order_id', p->>'account_id', p FROM (SELECT $2::jsonb AS p) s "
        "WHERE p->>'order_id' IS NOT NULL AND p->>'account_id' IS NOT NULL "
        "ON CONFLICT (outbox_id) DO NOTHING",
        P(arg(m.id), arg(m.payload))));
    TK_CO_CHECK(co_await c.query(
        "INSERT INTO processed_messages (consumer, message_id, state, attempts, done_at) "
        "VALUES ($1, $2, 'done', 1, now()) ON CONFLICT (consumer, message_id) DO UPDATE SET "
        "state = 'done', done_at = now()",
        P(arg(name_), arg(m.id))));
    co_return Status{};
  });
  if (!r) {
    // A payload that is not JSON or whose id is not a number can never be recorded.
    if (r.code() == pg::Errc::query_failed) {
      Error e(Errc::invalid_field);  // by assignment: GCC 12 and braced lists in coroutines
      e.details["reason"] = "malformed message";
      co_return e;
    }
    co_return map_error(std::move(r).error());
  }
  co_return Status{};
}

// ---- Queue ledger

Task<app::QueueSnapshot> QueueLedger::load(std::string perf, Millis now, Millis) {
  PG_TRY(auto s, co_await pool_->query(
                     // A drawn pre-queue holds positions 1..its size (handed out at the draw).
                     "SELECT GREATEST(tail_reserved, COALESCE(p.prequeue_size, 0)), GREATEST("
                     "tail, COALESCE(p.prequeue_size, 0)), serving, tick_seq, epoch_ms FROM "
                     "queue_state q JOIN performances p ON p.id = q.performance_id WHERE "
                     "q.performance_id = $1",
                     P(arg(perf))));
  if (s.empty()) co_return Errc::not_found;
  app::QueueSnapshot snap;
  snap.tail_reserved = s.int64(0, 0);
  snap.tail = s.int64(0, 1);
  snap.serving = s.int64(0, 2);
  snap.seq = s.int64(0, 3);
  snap.epoch = s.int64(0, 4);
  // Access windows leave in tick order (see the tick script): everything from the first tick
  // whose window is still open stays, everything before it is expired.
  PG_TRY(auto t,
         co_await pool_->query(
             "SELECT tick_seq, from_position, to_position, admitted_at_ms, access_expires_at_ms, "
             "gap_from, gap_to FROM admission_ticks WHERE performance_id = $1 AND tick_seq >= "
             "COALESCE((SELECT min(tick_seq) FROM admission_ticks WHERE performance_id = $1 AND "
             "access_expires_at_ms > $2), 9223372036854775807) ORDER BY tick_seq",
             P(arg(perf), arg(now))));
  for (int i = 0; i < t.size(); ++i) {
    app::AdmissionTick tick{t.int64(i, 0), t.int64(i, 1), t.int64(i, 2), t.int64(i, 3),
                            t.int64(i, 4)};
    tick.gap = app::QueueGap{t.int64(i, 5), t.int64(i, 6)};
    snap.recent_ticks.push_back(std::move(tick));
  }
  std::int64_t first = snap.recent_ticks.empty() ? std::numeric_limits<std::int64_t>::max()
                                                 : snap.recent_ticks.front().seq;
  PG_TRY(auto e,
         co_await pool_->query("SELECT COALESCE(max(to_position), 0) FROM admission_ticks WHERE "
                               "performance_id = $1 AND tick_seq < $2",
                               P(arg(perf), arg(first))));
  snap.expired_upto = e.int64(0, 0);
  PG_TRY(auto g, co_await pool_->query(
                     "SELECT position, admitted_at_ms, late FROM queue_gap_admissions WHERE "
                     "performance_id = $1 AND position > $2 ORDER BY position",
                     P(arg(perf), arg(snap.expired_upto))));
  for (int i = 0; i < g.size(); ++i) {
    snap.gap_admissions.push_back({g.int64(i, 0), g.int64(i, 1), g.boolean(i, 2)});
  }
  co_return snap;
}

Task<std::int64_t> QueueLedger::reserve(std::string perf, std::int64_t at_least,
                                        std::int64_t block) {
  // Named, not a temporary inside the co_await (GCC 12 destroys such temporaries twice).
  auto once = [this, &perf, at_least, block] { return reserve_once(perf, at_least, block); };
  for (;;) {
    auto r = co_await reserving_.run(perf, once);
    // A shared reservation may have been for an older bound: then reserve again.
    if (!r.ok() || r.value() >= at_least) co_return r;
  }
}

Task<std::int64_t> QueueLedger::reserve_once(std::string perf, std::int64_t at_least,
                                             std::int64_t block) {
  PG_TRY(auto q, co_await pool_->query(
                     "UPDATE queue_state SET tail_reserved = GREATEST(tail_reserved, $2) + $3, "
                     "updated_at = now() WHERE performance_id = $1 RETURNING tail_reserved",
                     P(arg(perf), arg(at_least), arg(block))));
  if (q.empty()) co_return Errc::not_found;
  co_return q.int64(0, 0);
}

Task<app::LedgerMarks> QueueLedger::record_tick(std::string perf, const app::AdmissionTick& t,
                                                std::int64_t tail) {
  // The tail is recorded by every tick, admitting or not, so a Redis that lost its last writes
  // is found behind PostgreSQL (RETURNING: the marks after this update).
  // Gap admissions (rare: only while a gap after a Redis loss is open) as array literals.
  std::string gap_positions = "{", gap_late = "{";
  auto add = [&](std::int64_t pos, bool late) {
    if (gap_positions.size() > 1) {
      gap_positions += ',';
      gap_late += ',';
    }
    gap_positions += std::to_string(pos);
    gap_late += late ? 't' : 'f';
  };
  for (auto pos : t.late_admitted) add(pos, true);
  for (auto pos : t.gap_admitted) add(pos, false);
  gap_positions += '}';
  gap_late += '}';
  PG_TRY(auto r,
         co_await pool_->query(
             "WITH ins AS (INSERT INTO admission_ticks (performance_id, tick_seq, from_position, "
             "to_position, admitted_at_ms, access_expires_at_ms, skipped, admit_limit, "
             "interval_ms, gap_from, gap_to) SELECT $1, $2::bigint, $3::bigint, $4::bigint, "
             "$5::bigint, $7::bigint, $8::bigint, $9::integer, $10::integer, $11::bigint, "
             "$12::bigint WHERE $4::bigint > $3::bigint ON CONFLICT DO NOTHING), "
             "gap AS (INSERT INTO queue_gap_admissions (performance_id, position, admitted_at_ms, "
             "late) SELECT $1, x.pos, $5::bigint, x.late FROM unnest($13::bigint[], "
             "$14::boolean[]) AS x(pos, late) ON CONFLICT DO NOTHING) "
             "UPDATE queue_state SET tail = GREATEST(tail, $6::bigint), "
             "serving = GREATEST(serving, $4::bigint), tick_seq = GREATEST(tick_seq, $2::bigint), "
             "updated_at = now() WHERE performance_id = $1 "
             "RETURNING tick_seq, tail, serving, tail_reserved, (SELECT COALESCE(max(to_position), "
             "0) FROM admission_ticks WHERE performance_id = $1 AND to_position <= $3::bigint)",
             P(arg(perf), arg(t.seq), arg(t.from), arg(t.to), arg(t.admitted_at), arg(tail),
               arg(t.expires_at), arg(t.skipped), arg(std::int64_t{t.admit_limit}),
               arg(std::int64_t{t.interval_ms}), arg(t.gap.from), arg(t.gap.to),
               arg(std::move(gap_positions)), arg(std::move(gap_late)))));
  if (r.empty()) co_return Errc::not_found;
  app::LedgerMarks m;
  m.seq = r.int64(0, 0);
  m.tail = r.int64(0, 1);
  m.serving = r.int64(0, 2);
  m.tail_reserved = r.int64(0, 3);
  m.recorded_below = r.int64(0, 4);
  co_return m;
}

Task<std::optional<app::AdmissionTick>> QueueLedger::tick_for_position(std::string perf,
                                                                       std::int64_t position) {
  PG_TRY(auto r,
         co_await pool_->query(
             "SELECT tick_seq, from_position, to_position, admitted_at_ms, access_expires_at_ms "
             "FROM admission_ticks WHERE performance_id = $1 AND to_position >= $2 AND "
             "from_position < $2 ORDER BY to_position LIMIT 1",
             P(arg(perf), arg(position))));
  if (r.empty()) co_return std::optional<app::AdmissionTick>{};
  co_return std::optional<app::AdmissionTick>(app::AdmissionTick{
      r.int64(0, 0), r.int64(0, 1), r.int64(0, 2), r.int64(0, 3), r.int64(0, 4)});
}

Task<std::vector<app::AuditEntry>> QueueLedger::audit(std::string perf, std::int64_t after,
                                                      int limit) {
  PG_TRY(auto r,
         co_await pool_->query(
             "SELECT audit_seq, from_position, to_position, admitted_at_ms, skipped, admit_limit, "
             "interval_ms, encode(prev_hash, 'hex'), encode(hash, 'hex') FROM admission_ticks "
             "WHERE performance_id = $1 AND audit_seq > $2 ORDER BY audit_seq LIMIT $3",
             P(arg(perf), arg(after), arg(std::int64_t{limit}))));
  if (r.empty()) {
    PG_TRY(auto q, co_await pool_->query("SELECT 1 FROM queue_state WHERE performance_id = $1",
                                         P(arg(perf))));
    if (q.empty()) co_return Errc::not_found;
  }
  std::vector<app::AuditEntry> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    app::AuditEntry e;
    e.seq = r.int64(i, 0);
    e.from = r.int64(i, 1);
    e.to = r.int64(i, 2);
    e.admitted_at = r.int64(i, 3);
    e.skipped = r.int64(i, 4);
    e.admit_limit = static_cast<int>(r.int64(i, 5));
    e.interval_ms = static_cast<int>(r.int64(i, 6));
    e.prev_hash = std::string(r.text(i, 7));
    e.hash = std::string(r.text(i, 8));
    out.push_back(std::move(e));
  }
  co_return out;
}

}  // namespace tk::pgrepo
