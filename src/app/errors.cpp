#include "app/errors.hpp"

#include <string>

#include "domain/rules.hpp"

namespace tk::app {

std::string_view code_name(Errc e) {
  switch (e) {
    case Errc::malformed_json:
      return "malformed_json";
    case Errc::invalid_field:
      return "invalid_field";
    case Errc::unauthenticated:
      return "unauthenticated";
    case Errc::invalid_ticket:
      return "invalid_ticket";
    case Errc::payment_declined:
      return "payment_declined";
    case Errc::not_admitted:
      return "not_admitted";
    case Errc::not_found:
      return "not_found";
    case Errc::seats_unavailable:
      return "seats_unavailable";
    case Errc::hold_expired:
      return "hold_expired";
    case Errc::order_already_paid:
      return "order_already_paid";
    case Errc::idempotency_key_reused:
      return "idempotency_key_reused";
    case Errc::idempotency_in_progress:
      return "idempotency_in_progress";
    case Errc::email_taken:
      return "email_taken";
    case Errc::too_many_seats:
      return "too_many_seats";
    case Errc::seat_limit_reached:
      return "seat_limit_reached";
    case Errc::invalid_seats:
      return "invalid_seats";
    case Errc::sale_not_open:
      return "sale_not_open";
    case Errc::sale_closed:
      return "sale_closed";
    case Errc::sold_out:
      return "sold_out";
    case Errc::out_of_range:
      return "out_of_range";
    case Errc::rate_limited:
      return "rate_limited";
    case Errc::unavailable:
      return "unavailable";
    case Errc::internal:
      return "internal";
    case Errc::already_checked_in:
      return "already_checked_in";
    case Errc::forbidden:
      return "forbidden";
    case Errc::not_refundable:
      return "not_refundable";
    case Errc::already_refunded:
      return "already_refunded";
    case Errc::challenge_required:
      return "challenge_required";
    case Errc::challenge_invalid:
      return "challenge_invalid";
    case Errc::not_on_waitlist:
      return "not_on_waitlist";
    case Errc::not_sold_out:
      return "not_sold_out";
  }
  return "internal";
}

const std::error_category& category() {
  static const struct : std::error_category {
    const char* name() const noexcept override { return "app"; }
    std::string message(int e) const override {
      return std::string(code_name(static_cast<Errc>(e)));
    }
  } cat;
  return cat;
}

Errc to_app(std::error_code ec) {
  if (ec.category() == category()) return static_cast<Errc>(ec.value());
  if (ec.category() == domain::rule_category()) {
    switch (static_cast<domain::RuleErrc>(ec.value())) {
      case domain::RuleErrc::empty_selection:
      case domain::RuleErrc::duplicate_seat:
        return Errc::invalid_field;
      case domain::RuleErrc::too_many_seats:
        return Errc::too_many_seats;
      case domain::RuleErrc::seat_limit_reached:
        return Errc::seat_limit_reached;
      case domain::RuleErrc::hold_expires_too_soon:
        return Errc::hold_expired;
    }
  }
  // Infrastructure modules name themselves "pg", "redis", "pool"...: a failing dependency.
  std::string_view n = ec.category().name();
  if (n == "pg" || n == "redis" || n == "payment" || n == "tk.pg" || n == "tk.redis") {
    return Errc::unavailable;
  }
  return Errc::internal;
}

}  // namespace tk::app
