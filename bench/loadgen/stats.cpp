#include "stats.hpp"

#include <algorithm>

namespace loadgen {

void StepStats::record(int status, std::string_view detail, std::int64_t latency_us,
                       std::int64_t to_success_us, std::int64_t wire_us,
                       std::int64_t pool_wait_us) {
  ++requests;
  latency.record(latency_us);
  bool split = wire_us >= 0;
  if (split) {
    std::int64_t wait = std::max<std::int64_t>(0, latency_us - wire_us);
    client_wait.record(wait);
    if (pool_wait_us >= 0) {
      pool_wait.record(pool_wait_us);
      client_late.record(std::max<std::int64_t>(0, wait - pool_wait_us));
    }
  }
  if (status == 429 || status == 503) {
    ++refused;
    refusal.record(latency_us);
    if (split) refusal_wire.record(wire_us);
  } else if (status != 0) {
    accepted.record(latency_us);
    if (split) accepted_wire.record(wire_us);
  }
  if (status >= 200 && status < 300) {
    ++ok;
    if (to_success_us >= 0) to_success.record(to_success_us);
    return;
  }
  std::string key = status == 0 ? "transport" : std::to_string(status);
  if (!detail.empty()) {
    key += ' ';
    key += detail;
  }
  ++errors[key];
}

void StepStats::merge(const StepStats& o) {
  requests += o.requests;
  ok += o.ok;
  refused += o.refused;
  latency.merge(o.latency);
  accepted.merge(o.accepted);
  refusal.merge(o.refusal);
  to_success.merge(o.to_success);
  client_wait.merge(o.client_wait);
  client_late.merge(o.client_late);
  pool_wait.merge(o.pool_wait);
  accepted_wire.merge(o.accepted_wire);
  refusal_wire.merge(o.refusal_wire);
  for (const auto& [k, v] : o.errors) errors[k] += v;
}

}  // namespace loadgen
