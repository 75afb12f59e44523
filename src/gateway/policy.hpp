#pragma once
// The gateway's pure decisions, kept apart from I/O so they are unit-tested on their own: which
// limit a request falls under, whether a failed forward may be sent again, and the health state
// machine and round-robin choice of an upstream.
#include <array>
#include <atomic>
#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tk::gateway {

namespace bhttp = boost::beast::http;

// What the gateway does with a request before forwarding it (docs/API.md names the routes).
enum class RouteClass {
  queue_status,  // GET /v1/performances/{pid}/queue/status: answered by the gateway itself
  admin,         // /v1/admin/..., /v1/test/...: wrong tokens counted per address (lock-out)
  sign_up,       // POST /v1/accounts: per-address sign-up limit
  log_in,        // POST /v1/sessions: per-address log-in limit
  health,        // /healthz, /readyz: the gateway's own
  admitted,      // seats, sections, holds of a performance: a session and its access token
  other,         // everything else: the session's account, or the address when anonymous
};
RouteClass classify(bhttp::verb v, std::string_view target);
// The {pid} of a /v1/performances/{pid}/... target; empty when it is not one.
std::string_view performance_of(std::string_view target);

// Where a forward attempt failed: before the request left (connect refused, a pooled connection
// found dead before writing), or after (written, answer missing or cut).
enum class FailedAt { before_send, after_send };

// Whether a request may be sent again after a failed attempt. Before it left: always (nothing
// reached an upstream). After: only when a repeat cannot do a second thing: an idempotent method
// (RFC 9110 9.2.2), or a request carrying an Idempotency-Key (the API replays its first answer).
bool may_retry(bhttp::verb v, bool has_idempotency_key, FailedAt where);

// Health of one upstream from its /readyz checks: `fall` failures in a row take it out, `rise`
// successes in a row bring it back. A failed forward (connection refused or cut) takes it out at
// once, without waiting for the next check.
class HealthState {
 public:
  HealthState(int rise, int fall) : rise_(rise), fall_(fall) {}
  // A check's result; true when the state changed.
  bool observe(bool ok);
  void mark_down();
  bool healthy() const { return healthy_; }

 private:
  int rise_, fall_;
  bool healthy_ = true;  // optimistic until the first checks say otherwise
  int oks_ = 0, fails_ = 0;
};

// Round-robin over the healthy upstreams not tried yet for this request; nullopt when none is
// left. `cursor` advances on every pick (shared by a thread's requests).
std::optional<std::size_t> pick_upstream(const std::vector<bool>& healthy,
                                         const std::vector<bool>& tried, std::size_t& cursor);

}  // namespace tk::gateway
