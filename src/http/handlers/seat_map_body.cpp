#include "http/handlers/seat_map_body.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <charconv>

namespace tk::http {

namespace {
bool plain(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == '"' || c == '\\') return false;
  }
  return true;
}
}  // namespace

std::string seat_map_body(const app::SeatMap& m) {
  std::string out;
  out.reserve(32 + m.seats.size() * 48);
  char num[24];
  auto [end, ec] = std::to_chars(num, num + sizeof num, m.version);
  (void)ec;
  out += "{\"version\":";
  out.append(num, end);
  out += ",\"seats\":[";
  bool first = true;
  for (const auto& [id, state] : m.seats) {
    if (!first) out += ',';
    first = false;
    out += "{\"id\":";
    // Seat ids come from the organiser's venue: escape the rare one that needs it.
    if (plain(*id)) {
      out += '"';
      out += *id;
      out += '"';
    } else {
      out += boost::json::serialize(boost::json::string(*id));
    }
    out += ",\"state\":\"";
    out += app::to_string(state);
    out += "\"}";
  }
  out += "]}";
  return out;
}

std::shared_ptr<const std::string> SeatMapCache::fresh(std::string_view perf, Millis now) const {
  auto it = map_.find(perf);
  if (it == map_.end()) return nullptr;
  const Entry& e = it->second;
  if (now - e.checked_at >= kRecheckMs || now >= e.valid_until || now - e.built_at >= kMaxAgeMs ||
      now < e.checked_at || e.writes != writes_.load(std::memory_order_relaxed)) {
    return nullptr;
  }
  return e.body;
}

std::shared_ptr<const std::string> SeatMapCache::current(std::string_view perf,
                                                         std::int64_t version, Millis now,
                                                         std::uint64_t writes) {
  auto it = map_.find(perf);
  if (it == map_.end()) return nullptr;
  Entry& e = it->second;
  if (e.version != version || now >= e.valid_until || now - e.built_at >= kMaxAgeMs ||
      now < e.built_at) {
    return nullptr;
  }
  e.checked_at = now;
  e.writes = writes;
  return e.body;
}

std::shared_ptr<const std::string> SeatMapCache::put(std::string_view perf, const app::SeatMap& m,
                                                     Millis now, std::uint64_t writes) {
  auto body = std::make_shared<const std::string>(seat_map_body(m));
  auto it = map_.find(perf);
  if (it == map_.end()) it = map_.emplace(std::string(perf), Entry{}).first;
  it->second = Entry{m.version, m.valid_until, now, now, writes, body};
  return body;
}

}  // namespace tk::http
