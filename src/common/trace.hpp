#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header and the
// spans of this process. A request, an outbox relay and a worker's handling of a message are each
// a span: a child of the traceparent that came in (or the root of a new trace), with an id of its
// own that the next hop receives as its parent. Each span is one log line with `trace_id`,
// `span_id` and `parent_id` (fields()), so the log of every process can be joined on trace_id.
// No exporter: OpenTelemetry's C++ SDK is not packaged for Debian 12, and the log lines carry
// what a collector (e.g. the OpenTelemetry Collector's filelog receiver) needs to build the trace.
//
// Threading: values only; ids come from a per-thread generator (unique, not secret).
#include <array>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tk::trace {

// version 00: 32 hex trace id, 16 hex parent id, 2 hex flags.
struct TraceParent {
  std::array<char, 32> trace_id{};
  std::array<char, 16> parent_id{};
  std::uint8_t flags = 0;
};

// Nullopt unless valid per the spec: lowercase hex, ids not all zero, version not ff; a future
// version is accepted by its first four fields.
std::optional<TraceParent> parse(std::string_view s);
std::string format(const TraceParent& t);

class Span {
 public:
  // A child of `parent`, or the root of a new trace (not sampled: this process starts traces, it
  // does not decide to record them).
  static Span child_of(const std::optional<TraceParent>& parent);
  // Parses `traceparent` first; an invalid or empty value starts a new trace.
  static Span child_of(std::string_view traceparent);

  std::string_view trace_id() const { return {trace_id_.data(), trace_id_.size()}; }
  std::string_view span_id() const { return {span_id_.data(), span_id_.size()}; }
  // Empty for the root of a trace.
  std::string_view parent_id() const {
    return has_parent_ ? std::string_view(parent_id_.data(), parent_id_.size())
                       : std::string_view();
  }
  // The header for the next hop: this trace, this span as the parent.
  TraceParent next_hop() const;
  std::string traceparent() const { return format(next_hop()); }
  // trace_id, span_id and (with a parent) parent_id, for a log line.
  void add_fields(boost::json::object& fields) const;

 private:
  std::array<char, 32> trace_id_{};
  std::array<char, 16> span_id_{};
  std::array<char, 16> parent_id_{};
  bool has_parent_ = false;
  std::uint8_t flags_ = 0;
};

}  // namespace tk::trace
