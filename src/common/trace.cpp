#include "common/trace.hpp"

#include <algorithm>
#include <random>

namespace tk::trace {

namespace {

bool is_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

template <std::size_t N>
void random_hex(std::array<char, N>& out) {
  // Per-thread generator: no lock per span; ids only need to be unique, not secret.
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

std::optional<TraceParent> parse(std::string_view s) {
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

std::string format(const TraceParent& t) {
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

Span Span::child_of(const std::optional<TraceParent>& parent) {
  Span s;
  if (parent) {
    s.trace_id_ = parent->trace_id;
    s.parent_id_ = parent->parent_id;
    s.has_parent_ = true;
    s.flags_ = parent->flags;
  } else {
    random_hex(s.trace_id_);
  }
  random_hex(s.span_id_);
  return s;
}

Span Span::child_of(std::string_view traceparent) { return child_of(parse(traceparent)); }

TraceParent Span::next_hop() const {
  TraceParent t;
  t.trace_id = trace_id_;
  t.parent_id = span_id_;
  t.flags = flags_;
  return t;
}

void Span::add_fields(boost::json::object& fields) const {
  fields["trace_id"] = trace_id();
  fields["span_id"] = span_id();
  if (has_parent_) fields["parent_id"] = parent_id();
}

}  // namespace tk::trace
