#pragma once
// Refunds on PostgreSQL: the request's transaction (the decision, void tickets, outbox row) and
// the worker's completing transaction (seats back on sale, order refunded, outbox row).
#include <optional>
#include <string>
#include <vector>

#include "app/async.hpp"
#include "domain/model.hpp"
#include "domain/refund.hpp"

namespace tk::app {

struct RefundRequest {
  std::string order_id;
  std::string account_id;  // the buyer asking (empty for the operator)
  std::string idempotency_key;
  domain::RefundRequester by = domain::RefundRequester::buyer;
  Millis now = 0;
  std::string traceparent;  // the trace the order.refund_requested row continues (empty: none)
};

struct RefundAccepted {
  std::string order_id;
  domain::OrderStatus status = domain::OrderStatus::refund_pending;
  bool replay = false;  // the same key asked before; nothing was written now
};

// What the worker needs to finish a refund.
struct RefundWork {
  std::string order_id;
  std::string account_id;
  std::string performance_id;
  std::string hold_id;
  std::string charge_id;
  std::int64_t total_cents = 0;
  std::string currency;
  std::vector<std::string> seat_ids;
  bool refunded = false;  // the completing transaction committed already
};

class RefundRepo {
 public:
  virtual ~RefundRepo() = default;
  // One transaction under the order's row lock: owner check (not_found for another account's
  // order), replay of the same key, domain::judge_refund, then every ticket void, the order
  // refund_pending, the refund record and an order.refund_requested outbox row.
  // Errors: not_found, not_refundable, already_refunded.
  virtual Task<RefundAccepted> request(const RefundRequest& r) = 0;
  // nullopt: no refund was requested for this order.
  virtual Task<std::optional<RefundWork>> work(std::string order_id) = 0;
  // After the provider refunded: the order's sold seats available again, the sales count lowered,
  // order refunded, refund record refunded, an order.refunded outbox row — one transaction.
  // false: it committed before (a repeated delivery); nothing changes. `traceparent`: the trace
  // the order.refunded row continues (empty: none).
  virtual Task<bool> complete(std::string order_id, std::string provider_refund_id,
                              std::string outbox_payload, std::string traceparent, Millis now) = 0;
  // Of `seat_ids`, those PostgreSQL does not count as sold now: their Redis sold markers may go.
  virtual Task<std::vector<std::string>> unsold(std::string performance_id,
                                                std::vector<std::string> seat_ids) = 0;
};

}  // namespace tk::app
