#include "presence.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "checks.hpp"
#include "clock.hpp"

namespace loadgen {

namespace {

// One status poll, retried on transport errors, 429 and 5xx; the state, or "<status> <code>".
std::string state_of(const Run& run, const std::string& ticket) {
  const auto req =
      build_request("GET", run.paths->status, run.paths->host, {{"Queue-Ticket", ticket}});
  Reply r;
  for (int attempt = 0; attempt < 10; ++attempt) {
    r = blocking_request(run.opt, req);
    if (r.status != 0 && r.status != 429 && r.status < 500) break;
    std::this_thread::sleep_for(
        std::chrono::milliseconds(r.retry_after > 0 ? r.retry_after * 1000 : 200));
  }
  if (r.status == 200) return std::string(json_str(r.body, "state"));
  if (r.status == 0) return "transport " + r.ec.message();
  return std::to_string(r.status) + " " + std::string(error_code(r.body));
}

}  // namespace

PresenceFindings check_presence(const Run& run, const Result& total) {
  PresenceFindings f;
  f.went_away = static_cast<std::int64_t>(total.silent.size());
  f.passed_over = static_cast<std::int64_t>(total.passed_over.size());
  std::vector<std::size_t> abandoned(total.passed_over.begin(), total.passed_over.end());
  if (const int timeout = run.perf.presence_timeout_s; timeout > 0 && !total.silent.empty()) {
    // A silent buyer admitted during the run is judged a no-show once its admission is a
    // presence window old (the timeout + 2 s, marks by the second): the last admission any buyer
    // saw, plus a tick or two for the ones nobody polling saw.
    std::int64_t last = 0;
    for (auto t : run.admitted_recv) {
      if (t != kNever) last = std::max(last, t);
    }
    std::int64_t until = last + (static_cast<std::int64_t>(timeout) + 2 + 4) * 1'000'000'000;
    std::int64_t wait = until - now_ns();
    if (last > 0 && wait > 0) {
      f.waited_s = static_cast<double>(wait) / 1e9;
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    }
  }
  for (const auto& [g, ticket] : total.silent) {
    auto s = state_of(run, ticket);
    ++f.states[s];
    if (s == "abandoned") abandoned.push_back(g);
    if (s.empty() || (s[0] >= '0' && s[0] <= '9') || s.rfind("transport", 0) == 0) {
      f.error = "a silent buyer's place answered " + (s.empty() ? "no state" : s);
    }
  }
  f.abandoned = static_cast<std::int64_t>(abandoned.size());
  if (!run.opt.pg_url.empty() && !abandoned.empty()) {
    try {
      f.abandoned_paid =
          pg_paid_orders_of(run.opt.pg_url, run.opt.perf, account_ids(run.opt.tokens, abandoned));
    } catch (const std::exception& e) {
      f.error = e.what();
    }
  }
  return f;
}

}  // namespace loadgen
