#include "domain/model.hpp"

namespace tk::domain {

const char* to_string(SaleStatus s) {
  switch (s) {
    case SaleStatus::scheduled:
      return "scheduled";
    case SaleStatus::on_sale:
      return "on_sale";
    case SaleStatus::paused:
      return "paused";
    case SaleStatus::sold_out:
      return "sold_out";
    case SaleStatus::closed:
      return "closed";
  }
  return "closed";
}

std::optional<SaleStatus> parse_sale_status(std::string_view s) {
  for (auto v : {SaleStatus::scheduled, SaleStatus::on_sale, SaleStatus::paused,
                 SaleStatus::sold_out, SaleStatus::closed}) {
    if (s == to_string(v)) return v;
  }
  return std::nullopt;
}

SaleStatus effective_status(const Performance& p, Millis now) {
  if (p.stored_status == SaleStatus::closed) return SaleStatus::closed;
  if (p.seat_count > 0 && p.sold_count >= p.seat_count) return SaleStatus::sold_out;
  if (p.stored_status == SaleStatus::scheduled && now >= p.sale_opens_at) {
    return SaleStatus::on_sale;
  }
  return p.stored_status;
}

bool in_prequeue(const Performance& p, Millis now) {
  return p.queue_opens_at > 0 && now >= p.queue_opens_at && !prequeue_due(p, now) &&
         effective_status(p, now) != SaleStatus::closed;
}

bool prequeue_due(const Performance& p, Millis now) {
  if (p.queue_opens_at <= 0 || effective_status(p, now) == SaleStatus::closed) return false;
  // The opening: its time, or an operator opening the sale early. A pause before the opening
  // keeps the pre-queue open (it holds admissions, not joins).
  return now >= p.sale_opens_at || p.stored_status == SaleStatus::on_sale;
}

const char* to_string(OrderStatus s) {
  switch (s) {
    case OrderStatus::pending:
      return "pending";
    case OrderStatus::paid:
      return "paid";
    case OrderStatus::expired:
      return "expired";
    case OrderStatus::cancelled:
      return "cancelled";
    case OrderStatus::refund_pending:
      return "refund_pending";
    case OrderStatus::refunded:
      return "refunded";
  }
  return "cancelled";
}

std::optional<OrderStatus> parse_order_status(std::string_view s) {
  for (auto v : {OrderStatus::pending, OrderStatus::paid, OrderStatus::expired,
                 OrderStatus::cancelled, OrderStatus::refund_pending, OrderStatus::refunded}) {
    if (s == to_string(v)) return v;
  }
  return std::nullopt;
}

const char* to_string(TicketStatus s) {
  switch (s) {
    case TicketStatus::valid:
      return "valid";
    case TicketStatus::checked_in:
      return "checked_in";
    case TicketStatus::void_:
      return "void";
  }
  return "void";
}

std::optional<TicketStatus> parse_ticket_status(std::string_view s) {
  for (auto v : {TicketStatus::valid, TicketStatus::checked_in, TicketStatus::void_}) {
    if (s == to_string(v)) return v;
  }
  return std::nullopt;
}

Millis refundable_until(const Performance& p) {
  return p.refundable_until != 0 ? p.refundable_until : p.starts_at - kDefaultRefundWindowMs;
}

OrderStatus effective_status(const Order& o, Millis now) {
  if (o.stored_status == OrderStatus::pending && now >= o.expires_at) return OrderStatus::expired;
  return o.stored_status;
}

}  // namespace tk::domain
