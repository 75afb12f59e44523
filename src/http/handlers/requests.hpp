#pragma once
// Request bodies into use-case inputs: one plain function per route body, outside the handlers'
// coroutines, so the decoding rules are testable (and fuzzed, fuzz/) on their own. Each returns
// invalid_field (400) naming the field for a missing, empty, mistyped or over-long value, and
// out_of_range / too_many_seats (422) where the contract says so; ranges that depend on stored
// state are the use cases' to check.
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/catalogue.hpp"
#include "app/waiting_room.hpp"
#include "common/clock.hpp"
#include "common/result.hpp"
#include "domain/best_available.hpp"
#include "http/context.hpp"

namespace tk::http {

struct SignUpRequest {
  std::string email, password, name;
};
struct LogInRequest {
  std::string email, password;
};
struct PaymentBody {
  std::string method;  // always "card"
  std::string card_token;
};
struct NewVenueRequest {
  std::string name;
  std::vector<app::NewSection> sections;
};
struct NewEventRequest {
  std::string title, venue_id;
  std::optional<std::string> performer;
};

Result<SignUpRequest> sign_up_request(const boost::json::object& body);
Result<LogInRequest> log_in_request(const boost::json::object& body);
// POST /v1/performances/{pid}/holds: `seat_ids` (1..100 ids, each 1..64 characters), or
// `best_available` {"count" 1..100, "grade"?, "section"?}: exactly one of the two.
struct HoldBody {
  std::vector<std::string> seat_ids;
  std::optional<domain::BestAvailableRequest> best_available;
};
Result<HoldBody> hold_request(const boost::json::object& body);
// POST /v1/performances/{pid}/queue: an optional `pow` {"challenge" (1..512), "nonce" (1..64)}.
Result<std::optional<app::JoinProof>> join_request(const boost::json::object& body);
// POST /v1/performances/{pid}/waitlist: `count`, an integer of at least 1 (at most 100, 422
// beyond; the performance's seats per order is the use case's to check).
Result<int> waitlist_request(const boost::json::object& body);
// POST /v1/orders: the hold id.
Result<std::string> order_request(const boost::json::object& body);
Result<PaymentBody> payment_request(const boost::json::object& body);
// An Idempotency-Key header: 1..64 visible ASCII characters.
Result<std::string> idempotency_key(const Request& req);
Result<NewVenueRequest> venue_request(const boost::json::object& body);
Result<NewEventRequest> event_request(const boost::json::object& body);
// POST /v1/admin/events/{event_id}/performances (event_id is the caller's to set).
Result<app::NewPerformance> performance_request(const boost::json::object& body);
// PATCH /v1/admin/performances/{pid}: the fields present, each of the right type.
Result<app::PerformanceChange> performance_change(const boost::json::object& body);
// POST /v1/admin/performances/{pid}/door-tokens: the token's lifetime; an empty body is the
// default.
Result<Millis> door_token_ttl(const Request& req);
// POST /v1/admin/checkin: the ticket code.
Result<std::string> check_in_request(const boost::json::object& body);

}  // namespace tk::http
