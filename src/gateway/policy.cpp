#include "gateway/policy.hpp"

#include <random>

namespace tk::gateway {

namespace {

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

bool is_lower_hex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

template <std::size_t N>
void random_hex(std::array<char, N>& out) {
  // Per-thread generator: no lock per request; ids only need to be unique, not secret.
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  }()};
  static constexpr char kHex[] = "0123456789abcdef";
  do {
    for (std::size_t i = 0; i < N; i += 16) {
      std::uint64_t v = rng();
      for (std::size_t j = 0; j < 16 && i + j < N; ++j, v >>= 4) out[i + j] = kHex[v & 0xf];
    }
  } while (all_zero(std::string_view(out.data(), N)));
}

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

std::optional<TraceParent> parse_traceparent(std::string_view s) {
  // version "-" trace-id "-" parent-id "-" flags; later versions may append "-" fields.
  if (s.size() < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-') return std::nullopt;
  std::string_view version = s.substr(0, 2), trace = s.substr(3, 32), parent = s.substr(36, 16),
                   flags = s.substr(53, 2);
  if (!is_lower_hex(version) || version == "ff") return std::nullopt;
  if (version == "00" && s.size() != 55) return std::nullopt;
  if (version != "00" && s.size() > 55 && s[55] != '-') return std::nullopt;
  if (!is_lower_hex(trace) || !is_lower_hex(parent) || !is_lower_hex(flags)) return std::nullopt;
  if (all_zero(trace) || all_zero(parent)) return std::nullopt;
  TraceParent t;
  std::copy(trace.begin(), trace.end(), t.trace_id.begin());
  std::copy(parent.begin(), parent.end(), t.parent_id.begin());
  t.flags = static_cast<std::uint8_t>(hex_value(flags[0]) * 16 + hex_value(flags[1]));
  return t;
}

std::string format_traceparent(const TraceParent& t) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "00-";
  out.append(t.trace_id.data(), t.trace_id.size());
  out += '-';
  out.append(t.parent_id.data(), t.parent_id.size());
  out += '-';
  out += kHex[t.flags >> 4];
  out += kHex[t.flags & 0xf];
  return out;
}

TraceParent next_hop(const std::optional<TraceParent>& incoming) {
  TraceParent t;
  if (incoming) {
    t.trace_id = incoming->trace_id;
    t.flags = incoming->flags;
  } else {
    random_hex(t.trace_id);
    t.flags = 0;  // not sampled: the gateway starts traces, it does not decide to record them
  }
  random_hex(t.parent_id);
  return t;
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
