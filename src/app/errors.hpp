#pragma once
// The errors use cases report to callers. Each value is one code of the public contract
// (docs/API.md); http/ maps them to statuses in one place.
#include <string_view>
#include <system_error>

namespace tk::app {

enum class Errc {
  malformed_json = 1,
  invalid_field,
  unauthenticated,
  invalid_ticket,
  payment_declined,
  not_admitted,
  not_found,
  seats_unavailable,
  hold_expired,
  order_already_paid,
  idempotency_key_reused,
  idempotency_in_progress,
  email_taken,
  too_many_seats,
  seat_limit_reached,
  invalid_seats,
  sale_not_open,
  sale_closed,
  sold_out,
  out_of_range,
  rate_limited,
  unavailable,  // a dependency is down or saturated: nothing was changed
  internal,
  already_checked_in,  // 409: a later scan of a ticket (details.checked_in_at)
  forbidden,           // 403: a door token of another performance
  not_refundable,      // 409: not paid, refund window closed, performance started, or checked in
  already_refunded,    // 409: a refund of this order was asked for with another key
  challenge_required,  // 422: the join needs a proof of work
  challenge_invalid,   // 422: wrong, expired, reused or another account's proof of work
  not_on_waitlist,     // 422: the account is not on the performance's waiting list
  not_sold_out,        // 409: a waiting list sign-up while seats are still free to hold
};

const std::error_category& category();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), category()}; }

// The contract's snake_case code for an app error ("seats_unavailable").
std::string_view code_name(Errc e);

// Maps any module's error (pg, redis, crypto, rules, app) onto the contract's codes: dependency
// failures become `unavailable`, unknown ones `internal`.
Errc to_app(std::error_code ec);

}  // namespace tk::app

template <>
struct std::is_error_code_enum<tk::app::Errc> : std::true_type {};
