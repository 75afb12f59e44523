#pragma once
// The slice of the HTTP contract (docs/API.md) the buyers use: raw request text and cheap
// scanners over the service's response bodies. The service writes these bodies itself (ids and
// tokens are base64url, never escaped), so a scan for `"key":` is exact and avoids a JSON DOM on
// the hot path; admin responses (rare) go through Boost.JSON instead.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"

namespace loadgen {

struct Header {
  std::string_view name, value;
};

// "METHOD target HTTP/1.1" + Host + headers (+ JSON body with its length). Bodiless POSTs get
// Content-Length: 0.
std::string build_request(std::string_view method, std::string_view target, std::string_view host,
                          std::initializer_list<Header> headers, std::string_view body = {});

// Paths of one performance, built once.
struct Paths {
  std::string host;
  std::string perf_id;
  std::string queue, status, seats, sections, holds;  // /v1/performances/{pid}/...
  Paths(std::string host, std::string pid);
};

// `"key":"value"` -> value (empty if absent).
std::string_view json_str(std::string_view body, std::string_view key);
// `"key":123` -> 123.
std::optional<std::int64_t> json_int(std::string_view body, std::string_view key);
// error.code of an error body (empty if none).
inline std::string_view error_code(std::string_view body) { return json_str(body, "code"); }

// A section chosen from a `GET .../sections` body: one with free seats, weighted by how many (so
// buyers spread as the counts show), preferring sections with at least `want` free.
struct SectionPick {
  std::string query;  // `?section=<percent-encoded name>`, empty if no section has a free seat
  std::int64_t seats = 0, available = 0, held = 0;  // over all sections
};
SectionPick pick_section(std::string_view body, int want, Rng& rng);

// Calls fn(id, state) for every seat of a `GET .../seats` body, in order.
template <class Fn>
void for_each_seat(std::string_view body, Fn&& fn) {
  static constexpr std::string_view kId = "\"id\":\"", kState = "\"state\":\"";
  std::size_t p = 0;
  while ((p = body.find(kId, p)) != std::string_view::npos) {
    p += kId.size();
    auto e = body.find('"', p);
    if (e == std::string_view::npos) return;
    auto id = body.substr(p, e - p);
    auto s = body.find(kState, e);
    if (s == std::string_view::npos) return;
    s += kState.size();
    auto se = body.find('"', s);
    if (se == std::string_view::npos) return;
    fn(id, body.substr(s, se - s));
    p = se;
  }
}

struct SeatPick {
  std::vector<std::string> seats;  // the seats to hold
  int available = 0, taken = 0;    // taken: held or sold
  int held = 0;
  bool includes_taken = false;  // one of `seats` was shown taken (deliberate conflict)
};

// Uniform random choice of min(want, available) free seats (reservoir sampling, one pass, no
// allocation per seat); with `with_taken` and a taken seat on the map, one pick is replaced by a
// random taken seat so the hold must fail with 409.
SeatPick pick_seats(std::string_view body, int want, bool with_taken, Rng& rng);

// Body of POST holds.
std::string holds_body(const std::vector<std::string>& seat_ids);

}  // namespace loadgen
