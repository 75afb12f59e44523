#include "domain/refund.hpp"

namespace tk::domain {

const char* to_string(RefundRequester r) { return r == RefundRequester::admin ? "admin" : "buyer"; }

RefundVerdict judge_refund(const RefundFacts& f) {
  if (f.order_status == OrderStatus::refund_pending || f.order_status == OrderStatus::refunded) {
    return RefundVerdict::already_refunded;
  }
  if (f.order_status != OrderStatus::paid) return RefundVerdict::not_paid;
  // A used ticket cannot be given back, whoever asks.
  for (auto t : f.tickets) {
    if (t == TicketStatus::checked_in) return RefundVerdict::checked_in;
  }
  if (f.by == RefundRequester::buyer && (f.now >= f.refundable_until || f.now >= f.starts_at)) {
    return RefundVerdict::too_late;
  }
  return RefundVerdict::allowed;
}

}  // namespace tk::domain
