#include "domain/rules.hpp"

#include <algorithm>
#include <unordered_set>

namespace tk::domain {

const std::error_category& rule_category() {
  static const struct : std::error_category {
    const char* name() const noexcept override { return "rules"; }
    std::string message(int e) const override {
      switch (static_cast<RuleErrc>(e)) {
        case RuleErrc::empty_selection:
          return "no seats selected";
        case RuleErrc::duplicate_seat:
          return "a seat is listed twice";
        case RuleErrc::too_many_seats:
          return "more seats than allowed per order";
        case RuleErrc::seat_limit_reached:
          return "seat limit per account reached";
        case RuleErrc::hold_expires_too_soon:
          return "hold expires before payment can finish";
      }
      return "rule violated";
    }
  } cat;
  return cat;
}

std::error_code check_seat_selection(const std::vector<std::string>& seat_ids, int max_per_order) {
  // Shape first (400), then the 422 rule, as the contract orders its checks.
  if (seat_ids.empty()) return RuleErrc::empty_selection;
  std::unordered_set<std::string_view> seen;
  for (const auto& s : seat_ids) {
    if (s.empty()) return RuleErrc::empty_selection;
    if (!seen.insert(s).second) return RuleErrc::duplicate_seat;
  }
  if (static_cast<int>(seat_ids.size()) > max_per_order) return RuleErrc::too_many_seats;
  return {};
}

std::error_code check_account_limit(int already, int requested, int max_per_account) {
  if (already + requested > max_per_account) return RuleErrc::seat_limit_reached;
  return {};
}

std::error_code check_payment_window(Millis hold_expires_at, Millis now, Millis provider_timeout,
                                     Millis margin) {
  if (hold_expires_at - now < provider_timeout + margin) return RuleErrc::hold_expires_too_soon;
  return {};
}

bool plausible_email(std::string_view e) {
  if (e.size() < 3 || e.size() > 254) return false;
  auto at = e.find('@');
  if (at == 0 || at == std::string_view::npos || at != e.rfind('@')) return false;
  auto domain = e.substr(at + 1);
  if (domain.empty() || domain.find('.') == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.') {
    return false;
  }
  return std::none_of(e.begin(), e.end(),
                      [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; });
}

}  // namespace tk::domain
