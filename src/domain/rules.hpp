#pragma once
// Request rules that need no I/O: seat selections, account fields, payment timing.
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/clock.hpp"

namespace tk::domain {

enum class RuleErrc {
  empty_selection = 1,   // 400
  duplicate_seat,        // 400
  too_many_seats,        // 422
  seat_limit_reached,    // 422
  hold_expires_too_soon  // 409 hold_expired
};
const std::error_category& rule_category();
inline std::error_code make_error_code(RuleErrc e) {
  return {static_cast<int>(e), rule_category()};
}

// Checks a hold request's seat list: not empty, no duplicates (400), then at most max_per_order
// (422, checked before the per-account limit).
std::error_code check_seat_selection(const std::vector<std::string>& seat_ids, int max_per_order);

// held + bought + requested must stay within max_per_account.
std::error_code check_account_limit(int already, int requested, int max_per_account);

// A payment may start only if the hold outlives the provider's timeout plus a safety margin, so a
// charge can never land after the seats were released.
std::error_code check_payment_window(Millis hold_expires_at, Millis now, Millis provider_timeout,
                                     Millis margin);

bool plausible_email(std::string_view email);

}  // namespace tk::domain

template <>
struct std::is_error_code_enum<tk::domain::RuleErrc> : std::true_type {};
