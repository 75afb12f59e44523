#include "api.hpp"

#include <boost/json/parse.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <charconv>

namespace loadgen {

std::string build_request(std::string_view method, std::string_view target, std::string_view host,
                          std::initializer_list<Header> headers, std::string_view body) {
  std::string r;
  r.reserve(64 + target.size() + host.size() + body.size() + headers.size() * 160);
  r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host);
  r.append("\r\n");
  for (const auto& h : headers) r.append(h.name).append(": ").append(h.value).append("\r\n");
  if (!body.empty()) {
    r.append("Content-Type: application/json\r\nContent-Length: ");
    r.append(std::to_string(body.size())).append("\r\n\r\n").append(body);
  } else if (method == "POST" || method == "PATCH") {
    r.append("Content-Length: 0\r\n\r\n");
  } else {
    r.append("\r\n");
  }
  return r;
}

Paths::Paths(std::string h, std::string pid) : host(std::move(h)), perf_id(std::move(pid)) {
  std::string base = "/v1/performances/" + perf_id;
  queue = base + "/queue";
  status = base + "/queue/status";
  seats = base + "/seats";
  sections = base + "/sections";
  holds = base + "/holds";
}

namespace {
std::size_t find_key(std::string_view body, std::string_view key) {
  // `"key":` without building a string: look for the key and check its quotes and colon.
  std::size_t p = 0;
  while ((p = body.find(key, p)) != std::string_view::npos) {
    if (p > 0 && body[p - 1] == '"' && p + key.size() + 1 < body.size() &&
        body[p + key.size()] == '"' && body[p + key.size() + 1] == ':') {
      return p + key.size() + 2;
    }
    p += key.size();
  }
  return std::string_view::npos;
}
}  // namespace

std::string_view json_str(std::string_view body, std::string_view key) {
  auto p = find_key(body, key);
  if (p == std::string_view::npos || p >= body.size() || body[p] != '"') return {};
  auto e = body.find('"', p + 1);
  if (e == std::string_view::npos) return {};
  return body.substr(p + 1, e - p - 1);
}

std::optional<std::int64_t> json_int(std::string_view body, std::string_view key) {
  auto p = find_key(body, key);
  if (p == std::string_view::npos) return std::nullopt;
  std::int64_t v = 0;
  auto r = std::from_chars(body.data() + p, body.data() + body.size(), v);
  if (r.ec != std::errc()) return std::nullopt;
  return v;
}

SeatPick pick_seats(std::string_view body, int want, bool with_taken, Rng& rng) {
  SeatPick out;
  std::vector<std::string_view> picks;
  picks.reserve(static_cast<std::size_t>(want));
  std::string_view taken;
  for_each_seat(body, [&](std::string_view id, std::string_view state) {
    if (state == "available") {
      ++out.available;
      if (static_cast<int>(picks.size()) < want) {
        picks.push_back(id);
      } else {
        auto j = rng.below(static_cast<std::uint64_t>(out.available));
        if (j < static_cast<std::uint64_t>(want)) picks[j] = id;
      }
    } else {
      ++out.taken;
      if (state == "held") ++out.held;
      if (rng.below(static_cast<std::uint64_t>(out.taken)) == 0) taken = id;
    }
  });
  if (with_taken && !taken.empty() && !picks.empty()) {
    picks[rng.below(picks.size())] = taken;
    out.includes_taken = true;
  }
  out.seats.reserve(picks.size());
  for (auto v : picks) out.seats.emplace_back(v);
  return out;
}

SectionPick pick_section(std::string_view body, int want, Rng& rng) {
  SectionPick out;
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return out;
  const auto* secs = v.as_object().if_contains("sections");
  if (!secs || !secs->is_array()) return out;
  // Weighted reservoir over sections with free seats; `enough` ones (>= want free) win if any.
  std::string_view chosen;
  bool chosen_enough = false;
  std::int64_t weight = 0;
  for (const auto& s : secs->as_array()) {
    const auto& o = s.as_object();
    std::int64_t avail = o.at("available").to_number<std::int64_t>();
    out.seats += o.at("seats").to_number<std::int64_t>();
    out.available += avail;
    out.held += o.at("held").to_number<std::int64_t>();
    if (avail <= 0) continue;
    bool enough = avail >= want;
    if (chosen_enough && !enough) continue;
    if (enough && !chosen_enough) weight = 0;  // restart among sections with enough
    weight += avail;
    if (rng.below(static_cast<std::uint64_t>(weight)) < static_cast<std::uint64_t>(avail)) {
      chosen = o.at("name").as_string();
      chosen_enough = enough;
    }
  }
  if (!chosen.empty()) {
    out.query = "?section=" + boost::urls::encode(chosen, boost::urls::unreserved_chars);
  }
  return out;
}

std::string holds_body(const std::vector<std::string>& seat_ids) {
  std::string b = "{\"seat_ids\":[";
  for (std::size_t i = 0; i < seat_ids.size(); ++i) {
    if (i) b += ',';
    b += '"';
    b += seat_ids[i];
    b += '"';
  }
  b += "]}";
  return b;
}

}  // namespace loadgen
