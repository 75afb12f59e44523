// Refunds on PostgreSQL: the request's transaction and the worker's completing transaction.
#include <boost/json.hpp>

#include "infra/postgres/repos/repos.hpp"
#include "infra/postgres/repos/support.hpp"
#include "infra/postgres/transaction.hpp"

namespace tk::pgrepo {

using app::Errc;
using app::Task;
using pg::arg;

Task<app::RefundAccepted> Refunds::request(const app::RefundRequest& q) {
  app::RefundAccepted out;
  out.order_id = q.order_id;
  const char* by = domain::to_string(q.by);
  auto r = co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Status> {
    out.replay = false;
    // The order's row lock serialises this request with every other refund of the order, and
    // with the worker's completing transaction.
    TK_CO_TRY(auto o, co_await c.query(
                          "SELECT o.account_id, o.status, o.performance_id, "
                          "(extract(epoch from p.starts_at) * 1000)::bigint, "
                          "COALESCE((extract(epoch from p.refundable_until) * 1000)::bigint, 0) "
                          "FROM orders o JOIN performances p ON p.id = o.performance_id "
                          "WHERE o.id = $1 FOR UPDATE OF o",
                          P(arg(q.order_id))));
    if (o.empty()) co_return Errc::not_found;
    if (q.by == domain::RefundRequester::buyer && o.text(0, 0) != q.account_id) {
      co_return Errc::not_found;  // another account's order is not told apart from none
    }
    auto status = domain::parse_order_status(o.text(0, 1)).value_or(domain::OrderStatus::cancelled);
    std::string account(o.text(0, 0));
    std::string perf(o.text(0, 2));
    domain::Performance p;
    p.starts_at = o.int64(0, 3);
    p.refundable_until = o.int64(0, 4);
    TK_CO_TRY(auto prior,
              co_await c.query("SELECT idempotency_key FROM refunds WHERE order_id = $1",
                               P(arg(q.order_id))));
    if (!prior.empty()) {
      if (prior.text(0, 0) != q.idempotency_key) co_return Errc::already_refunded;
      out.replay = true;
      out.status = status;
      co_return Status{};
    }
    // The tickets' row locks decide against the door: a scan that committed first is seen here
    // (checked_in: refused), a scan arriving later waits for this transaction and then finds
    // the ticket void.
    TK_CO_TRY(auto t, co_await c.query(
                          "SELECT status FROM tickets WHERE order_id = $1 ORDER BY id FOR UPDATE",
                          P(arg(q.order_id))));
    domain::RefundFacts f;
    f.order_status = status;
    for (int i = 0; i < t.size(); ++i) {
      f.tickets.push_back(
          domain::parse_ticket_status(t.text(i, 0)).value_or(domain::TicketStatus::void_));
    }
    f.now = q.now;
    f.starts_at = p.starts_at;
    f.refundable_until = domain::refundable_until(p);
    f.by = q.by;
    switch (domain::judge_refund(f)) {
      case domain::RefundVerdict::allowed:
        break;
      case domain::RefundVerdict::already_refunded:
        co_return Errc::already_refunded;
      case domain::RefundVerdict::not_paid:
      case domain::RefundVerdict::too_late:
      case domain::RefundVerdict::checked_in:
        co_return Errc::not_refundable;
    }
    TK_CO_CHECK(co_await c.query(
        "UPDATE tickets SET status = 'void' WHERE order_id = $1 AND status = 'valid'",
        P(arg(q.order_id))));
    TK_CO_CHECK(co_await c.query("UPDATE orders SET status = 'refund_pending' WHERE id = $1",
                                 P(arg(q.order_id))));
    TK_CO_CHECK(co_await c.query(
        "INSERT INTO refunds (order_id, account_id, idempotency_key, requested_by, state, "
        "requested_at) VALUES ($1, $2, $3, $4, 'requested', to_timestamp($5::float8 / 1000))",
        P(arg(q.order_id), arg(account), arg(q.idempotency_key), arg(by), arg(q.now))));
    std::string payload = boost::json::serialize(boost::json::object{{"order_id", q.order_id},
                                                                     {"account_id", account},
                                                                     {"performance_id", perf},
                                                                     {"requested_by", by}});
    TK_CO_CHECK(co_await c.query(
        "INSERT INTO outbox (topic, payload, traceparent) VALUES ('order.refund_requested', "
        "$1::jsonb, NULLIF($2, ''))",
        P(arg(payload), arg(q.traceparent))));
    out.status = domain::OrderStatus::refund_pending;
    co_return Status{};
  });
  if (!r.ok()) co_return map_error(std::move(r).error());
  co_return out;
}

Task<std::optional<app::RefundWork>> Refunds::work(std::string order_id) {
  using Found = std::optional<app::RefundWork>;
  PG_TRY(auto r,
         co_await pool_->query("SELECT o.id, o.account_id, o.performance_id, o.hold_id, "
                               "COALESCE(o.charge_id, ''), o.total_cents, o.currency, o.seat_ids, "
                               "f.state FROM refunds f JOIN orders o ON o.id = f.order_id "
                               "WHERE f.order_id = $1",
                               P(arg(order_id))));
  if (r.empty()) co_return Found{};
  app::RefundWork w;
  w.order_id = r.text(0, 0);
  w.account_id = r.text(0, 1);
  w.performance_id = r.text(0, 2);
  w.hold_id = r.text(0, 3);
  w.charge_id = r.text(0, 4);
  w.total_cents = r.int64(0, 5);
  w.currency = r.text(0, 6);
  w.seat_ids = parse_text_array(r.text(0, 7));
  w.refunded = r.text(0, 8) == "refunded";
  co_return Found(std::move(w));
}

Task<bool> Refunds::complete(std::string order_id, std::string refund_id, std::string payload,
                             std::string traceparent, Millis now) {
  bool committed = false;
  auto r = co_await pg::transaction(*pool_, [&](pg::Connection& c) -> asio::awaitable<Status> {
    committed = false;
    TK_CO_TRY(auto o,
              co_await c.query("SELECT status, performance_id FROM orders WHERE id = $1 FOR UPDATE",
                               P(arg(order_id))));
    if (o.empty()) co_return Errc::not_found;
    if (o.text(0, 0) == "refunded") co_return Status{};  // an earlier run committed
    if (o.text(0, 0) != "refund_pending") co_return Errc::internal;
    std::string perf(o.text(0, 1));
    // The seats this order bought go back on sale; the sales count drops by as many, in the
    // same transaction, so sold + held + available = capacity holds at every commit.
    TK_CO_TRY(auto freed,
              co_await c.query("UPDATE performance_seats SET state = 'available', order_id = NULL, "
                               "claim_expires_at = NULL WHERE order_id = $1 AND state = 'sold'",
                               P(arg(order_id))));
    const auto n = static_cast<std::int64_t>(freed.affected());
    TK_CO_CHECK(co_await c.query(
        "UPDATE orders SET status = 'refunded', refunded_at = to_timestamp($2::float8 / 1000) "
        "WHERE id = $1",
        P(arg(order_id), arg(now))));
    TK_CO_CHECK(co_await c.query(
        "UPDATE refunds SET state = 'refunded', provider_refund_id = $2, refunded_at = "
        "to_timestamp($3::float8 / 1000) WHERE order_id = $1",
        P(arg(order_id), arg(refund_id), arg(now))));
    TK_CO_CHECK(
        co_await c.query("INSERT INTO outbox (topic, payload, traceparent) VALUES "
                         "('order.refunded', $1::jsonb, NULLIF($2, ''))",
                         P(arg(payload), arg(traceparent))));
    if (n > 0) {
      TK_CO_CHECK(co_await c.query(
          "INSERT INTO performance_sales (performance_id, shard, sold) VALUES ($1, $3, -$2::int) "
          "ON CONFLICT (performance_id, shard) DO UPDATE SET sold = performance_sales.sold + "
          "EXCLUDED.sold",
          P(arg(perf), arg(n), arg(static_cast<std::int64_t>(sales_shard())))));
    }
    committed = true;
    co_return Status{};
  });
  if (!r.ok()) co_return map_error(std::move(r).error());
  co_return committed;
}

Task<std::vector<std::string>> Refunds::unsold(std::string perf,
                                               std::vector<std::string> seat_ids) {
  PG_TRY(auto r, co_await pool_->query(
                     "SELECT seat_id FROM performance_seats WHERE performance_id = $1 AND "
                     "seat_id = ANY($2::text[]) AND state <> 'sold'",
                     P(arg(perf), arg(text_array(seat_ids)))));
  std::vector<std::string> out;
  for (int i = 0; i < r.size(); ++i) out.emplace_back(r.text(i, 0));
  co_return out;
}

}  // namespace tk::pgrepo
