#include "http/handlers/seat_map_body.hpp"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <chrono>

#include "http/handlers/support.hpp"

namespace tk::http {

namespace {
bool plain(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == '"' || c == '\\') return false;
  }
  return true;
}

// Seat ids, section names and grades come from the organiser: escape the rare one that needs it.
void append_string(std::string& out, std::string_view v) {
  if (plain(v)) {
    out += '"';
    out += v;
    out += '"';
  } else {
    out += boost::json::serialize(boost::json::string(v));
  }
}

void append_seat(std::string& out, const domain::SeatSpec& seat, app::SeatState state) {
  out += "{\"id\":";
  append_string(out, seat.id);
  out += ",\"state\":\"";
  out += app::to_string(state);
  out += "\"}";
}

struct SectionAcc {
  std::string_view name;
  std::string seats;  // the section's seat objects, comma-separated
  std::int64_t count = 0, available = 0, held = 0, sold = 0;
  std::vector<std::string_view> grades;  // distinct, first-seen order
};
}  // namespace

const std::string* SeatMapBodies::section(std::string_view name) const {
  // A venue has tens to a few hundred sections: a scan is as fast as a hash here.
  for (const auto& [n, body] : by_section) {
    if (n == name) return &body;
  }
  return nullptr;
}

SeatMapBodies seat_map_bodies(const app::SeatMap& m) {
  SeatMapBodies b;
  std::string head = "{\"version\":";
  append_int(head, m.version);
  b.full.reserve(32 + m.seats.size() * 48);
  b.full = head;
  b.full += ",\"seats\":[";
  std::vector<SectionAcc> secs;
  SectionAcc* cur = nullptr;
  for (const auto& [seat, state] : m.seats) {
    // Seats of a section are contiguous in layout order; a lookup only when the name changes.
    if (!cur || cur->name != seat->section) {
      cur = nullptr;
      for (auto& s : secs) {
        if (s.name == seat->section) cur = &s;
      }
      if (!cur) cur = &secs.emplace_back(SectionAcc{seat->section, {}, 0, 0, 0, 0, {}});
    }
    if (cur->count > 0) cur->seats += ',';
    append_seat(cur->seats, *seat, state);
    ++cur->count;
    switch (state) {
      case app::SeatState::available:
        ++cur->available;
        break;
      case app::SeatState::held:
        ++cur->held;
        break;
      case app::SeatState::sold:
        ++cur->sold;
        break;
    }
    if (std::find(cur->grades.begin(), cur->grades.end(), seat->grade) == cur->grades.end()) {
      cur->grades.push_back(seat->grade);
    }
  }
  b.summary = head;
  b.summary += ",\"sections\":[";
  b.by_section.reserve(secs.size());
  for (std::size_t i = 0; i < secs.size(); ++i) {
    const auto& s = secs[i];
    if (i > 0) {
      b.full += ',';
      b.summary += ',';
    }
    b.full += s.seats;
    b.summary += "{\"name\":";
    append_string(b.summary, s.name);
    b.summary += ",\"seats\":";
    append_int(b.summary, s.count);
    b.summary += ",\"available\":";
    append_int(b.summary, s.available);
    b.summary += ",\"held\":";
    append_int(b.summary, s.held);
    b.summary += ",\"sold\":";
    append_int(b.summary, s.sold);
    b.summary += ",\"grades\":[";
    for (std::size_t g = 0; g < s.grades.size(); ++g) {
      if (g > 0) b.summary += ',';
      append_string(b.summary, s.grades[g]);
    }
    b.summary += "]}";
    std::string body;
    body.reserve(head.size() + s.name.size() + s.seats.size() + 32);
    body = head;
    body += ",\"section\":";
    append_string(body, s.name);
    body += ",\"seats\":[";
    body += s.seats;
    body += "]}";
    b.by_section.emplace_back(std::string(s.name), std::move(body));
  }
  b.full += "]}";
  b.summary += "]}";
  return b;
}

SeatMapCache::Bodies SeatMapCache::fresh(std::string_view perf, Millis now, Millis since) const {
  auto it = map_.find(perf);
  if (it == map_.end()) return nullptr;
  const Entry& e = it->second;
  if (now - e.checked_at >= e.window || now >= e.valid_until || now - e.built_at >= kMaxAgeMs ||
      now < e.checked_at || e.checked_at <= since) {
    return nullptr;
  }
  return e.bodies;
}

SeatMapCache::Bodies SeatMapCache::current(std::string_view perf, std::int64_t version,
                                           Millis now) {
  auto it = map_.find(perf);
  if (it == map_.end()) return nullptr;
  Entry& e = it->second;
  if (e.version != version || now >= e.valid_until || now - e.built_at >= kMaxAgeMs ||
      now < e.built_at) {
    return nullptr;
  }
  e.checked_at = now;
  return e.bodies;
}

SeatMapCache::Bodies SeatMapCache::put(std::string_view perf, const app::SeatMap& m,
                                       SeatMapBodies built, Millis now, Millis build_ms) {
  built.as_of = now;
  auto bodies = std::make_shared<const SeatMapBodies>(std::move(built));
  auto it = map_.find(perf);
  if (it == map_.end()) it = map_.emplace(std::string(perf), Entry{}).first;
  Millis window = std::clamp<Millis>(build_ms * kWindowPerBuildMs, kRecheckMs, kMaxWindowMs);
  it->second = Entry{m.version, m.valid_until, now, now, window, bodies};
  return bodies;
}

void RecentWrites::note(std::string_view account, Millis now) {
  // Amortised: one sweep per window, so the map holds about one window of writers.
  if (now - swept_at_ >= SeatMapCache::kMaxWindowMs) {
    std::erase_if(map_,
                  [&](const auto& kv) { return now - kv.second >= SeatMapCache::kMaxWindowMs; });
    swept_at_ = now;
  }
  auto it = map_.find(account);
  if (it == map_.end()) {
    map_.emplace(std::string(account), now);
  } else {
    it->second = std::max(it->second, now);
  }
}

Millis RecentWrites::last(std::string_view account, Millis now) const {
  auto it = map_.find(account);
  if (it == map_.end() || now - it->second >= SeatMapCache::kMaxWindowMs) return 0;
  return it->second;
}

}  // namespace tk::http
