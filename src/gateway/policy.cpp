#include "gateway/policy.hpp"

namespace tk::gateway {

namespace {

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

RouteClass classify(bhttp::verb v, std::string_view target) {
  std::string_view p = path_of(target);
  if (p == "/healthz" || p == "/readyz") return RouteClass::health;
  if (p.starts_with("/v1/admin/") || p.starts_with("/v1/test/")) return RouteClass::admin;
  if (v == bhttp::verb::post && p == "/v1/accounts") return RouteClass::sign_up;
  if (v == bhttp::verb::post && p == "/v1/sessions") return RouteClass::log_in;
  std::string_view pid = performance_of(p);
  if (!pid.empty()) {
    std::string_view rest = p.substr(std::string_view("/v1/performances/").size() + pid.size());
    if (v == bhttp::verb::get && rest == "/queue/status") return RouteClass::queue_status;
    if ((v == bhttp::verb::get && (rest == "/seats" || rest == "/sections")) ||
        (v == bhttp::verb::post && rest == "/holds")) {
      return RouteClass::admitted;
    }
  }
  return RouteClass::other;
}

std::string_view performance_of(std::string_view target) {
  constexpr std::string_view kPerf = "/v1/performances/";
  std::string_view p = path_of(target);
  if (!p.starts_with(kPerf)) return {};
  p.remove_prefix(kPerf.size());
  return p.substr(0, p.find('/'));
}

bool may_retry(bhttp::verb v, bool has_idempotency_key, FailedAt where) {
  if (where == FailedAt::before_send) return true;
  switch (v) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
      return true;
    default:
      return has_idempotency_key;
  }
}

bool HealthState::observe(bool ok) {
  bool was = healthy_;
  if (ok) {
    fails_ = 0;
    if (!healthy_ && ++oks_ >= rise_) healthy_ = true;
  } else {
    oks_ = 0;
    if (healthy_ && ++fails_ >= fall_) healthy_ = false;
  }
  if (healthy_ != was) oks_ = fails_ = 0;
  return healthy_ != was;
}

void HealthState::mark_down() {
  healthy_ = false;
  oks_ = fails_ = 0;
}

std::optional<std::size_t> pick_upstream(const std::vector<bool>& healthy,
                                         const std::vector<bool>& tried, std::size_t& cursor) {
  const std::size_t n = healthy.size();
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = (cursor + k) % n;
    if (healthy[i] && !(i < tried.size() && tried[i])) {
      cursor = i + 1;
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace tk::gateway
