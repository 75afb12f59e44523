#pragma once
// Refund rules, pure: whether an order may be refunded now, decided from what the request's
// transaction read under the order's row lock.
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "domain/model.hpp"

namespace tk::domain {

enum class RefundRequester { buyer, admin };
const char* to_string(RefundRequester r);

// What the request's transaction found.
struct RefundFacts {
  OrderStatus order_status = OrderStatus::pending;
  std::vector<TicketStatus> tickets;
  Millis now = 0;
  Millis starts_at = 0;
  Millis refundable_until = 0;  // effective (see domain::refundable_until)
  RefundRequester by = RefundRequester::buyer;
};

enum class RefundVerdict {
  allowed,
  already_refunded,  // refund_pending or refunded (a replay of the same key is told apart before)
  not_paid,          // pending, expired or cancelled: nothing to refund
  too_late,          // buyer only: the refund window closed or the performance started
  checked_in,        // a ticket of the order was used at the door
};

RefundVerdict judge_refund(const RefundFacts& f);

}  // namespace tk::domain
