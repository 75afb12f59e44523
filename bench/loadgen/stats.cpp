#include "stats.hpp"

namespace loadgen {

void StepStats::record(int status, std::string_view detail, std::int64_t latency_us) {
  ++requests;
  latency.record(latency_us);
  if (status >= 200 && status < 300) {
    ++ok;
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
  latency.merge(o.latency);
  for (const auto& [k, v] : o.errors) errors[k] += v;
}

}  // namespace loadgen
