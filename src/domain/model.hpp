#pragma once
// Plain domain records shared by use cases and adapters. No I/O.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"

namespace tk::domain {

struct Account {
  std::string id;
  std::int64_t num = 0;  // compact integer id (Redis buckets by it)
  std::string email;
  std::string name;
  std::string password_hash;
};

struct Session {
  std::string account_id;
  std::int64_t account_num = 0;
  Millis expires_at = 0;
};

struct SeatSpec {  // one seat of a venue's static layout
  std::string id;
  std::string section;
  std::string row;
  int number = 0;
  std::string grade;
};

struct Venue {
  std::string id;
  std::string name;
  std::vector<SeatSpec> seats;  // layout order
};

struct PriceGrade {
  std::string grade;
  std::int64_t price_cents = 0;
  std::string currency;
};

struct QueueSettings {
  int admit_per_interval = 100;
  int interval_ms = 1000;
  int max_active = 1000;
  int access_ttl_seconds = 600;
  int pow_difficulty = 0;  // proof of work asked at join: leading zero bits (0: none)
  // A waiting ticket that stopped polling for this long is passed over when its turn comes
  // (0: presence off; otherwise kMinPresenceTimeout..kMaxPresenceTimeout).
  int presence_timeout_seconds = 0;
  // An admitted buyer who has not used the access for this long gives the place back; a hold
  // already made stays theirs until it expires (0: off; otherwise kMinIdleTimeout..
  // kMaxIdleTimeout).
  int idle_timeout_seconds = 0;
};

enum class SaleStatus { scheduled, on_sale, paused, sold_out, closed };
const char* to_string(SaleStatus s);
std::optional<SaleStatus> parse_sale_status(std::string_view s);

struct Performance {
  std::string id;
  std::string event_id;
  std::string venue_id;
  Millis starts_at = 0;
  Millis sale_opens_at = 0;
  SaleStatus stored_status = SaleStatus::scheduled;  // the operator's choice
  int max_seats_per_order = 4;
  int max_seats_per_account = 4;
  int hold_ttl_seconds = 300;
  QueueSettings queue;
  int seat_count = 0;
  int sold_count = 0;
  std::vector<PriceGrade> price_grades;
  // Set by the operator; 0: the default rule (starts_at minus 24 h), see refundable_until().
  Millis refundable_until = 0;
  // Pre-queue: joins from queue_opens_at (0: none) until the sale opens wait unordered; at the
  // opening they are drawn into positions 1..prequeue_size (-1: not drawn yet).
  Millis queue_opens_at = 0;
  std::int64_t prequeue_size = -1;
};

inline constexpr Millis kDefaultRefundWindowMs = 24LL * 3600 * 1000;
// Until when a buyer may ask for a refund (exclusive).
Millis refundable_until(const Performance& p);

// The status buyers see: sold_out is derived, and a scheduled sale opens by itself at
// sale_opens_at.
SaleStatus effective_status(const Performance& p, Millis now);

// Joins wait in the pre-queue: it has opened and the sale has not.
bool in_prequeue(const Performance& p, Millis now);
// The sale opened over a pre-queue (at sale_opens_at, or earlier by the operator): its entries
// must be drawn into positions before anyone joins behind them or is admitted.
bool prequeue_due(const Performance& p, Millis now);

struct PerformanceSummary {
  std::string id;
  Millis starts_at = 0;
  Millis sale_opens_at = 0;
  SaleStatus status = SaleStatus::scheduled;
};

struct Event {
  std::string id;
  std::string title;
  std::string venue_id;
  std::string venue_name;
  std::vector<PerformanceSummary> performances;
};

// paid -> refund_pending (refund requested, tickets void) -> refunded (money back, seats on sale).
enum class OrderStatus { pending, paid, expired, cancelled, refund_pending, refunded };
const char* to_string(OrderStatus s);
std::optional<OrderStatus> parse_order_status(std::string_view s);

// valid -> checked_in (first scan at the door) or void (refunded). Stored in PostgreSQL.
enum class TicketStatus { valid, checked_in, void_ };
const char* to_string(TicketStatus s);
std::optional<TicketStatus> parse_ticket_status(std::string_view s);

struct Ticket {
  std::string id;
  std::string seat_id;
  std::string code;
  TicketStatus status = TicketStatus::valid;
  Millis checked_in_at = 0;  // 0: not checked in
};

struct Order {
  std::string id;
  std::string account_id;
  std::string performance_id;
  std::string hold_id;
  OrderStatus stored_status = OrderStatus::pending;
  std::vector<std::string> seat_ids;
  std::int64_t total_cents = 0;
  std::string currency;
  Millis expires_at = 0;
  std::string charge_id;  // the provider's charge that paid it
  std::vector<Ticket> tickets;
};

// A pending order whose hold ran out is expired, whether or not a sweeper has written it yet.
OrderStatus effective_status(const Order& o, Millis now);

struct Hold {
  std::string id;
  std::string performance_id;
  std::string account_id;
  std::vector<std::string> seat_ids;
  Millis expires_at = 0;
  std::int64_t position = 0;  // queue position of the holder (for active-buyer accounting)
};

}  // namespace tk::domain
