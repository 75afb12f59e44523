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

std::string head_of(std::int64_t version) {
  std::string head = "{\"version\":";
  append_int(head, version);
  return head;
}

std::shared_ptr<const SeatSection> encode(const app::LayoutSection& ls,
                                          const std::vector<domain::SeatSpec>& all,
                                          std::string states) {
  auto s = std::make_shared<SeatSection>();
  s->of = &ls;
  s->states = std::move(states);
  // {"id":"<id>","state":"available"}, and a comma: one allocation for the section.
  s->seats.reserve(ls.seats.size() * (all[ls.seats.front()].id.size() + 32));
  for (std::size_t i = 0; i < ls.seats.size(); ++i) {
    if (i > 0) s->seats += ',';
    const auto state = static_cast<app::SeatState>(s->states[i]);
    append_seat(s->seats, all[ls.seats[i]], state);
    switch (state) {
      case app::SeatState::available:
        ++s->available;
        break;
      case app::SeatState::held:
        ++s->held;
        break;
      case app::SeatState::sold:
        ++s->sold;
        break;
    }
  }
  return s;
}
}  // namespace

std::string SeatMapBodies::full() const {
  std::string head = head_of(version);
  std::size_t size = head.size() + 16;
  for (const auto& s : sections) size += s->seats.size() + 1;
  std::string out;
  out.reserve(size);
  out = head;
  out += ",\"seats\":[";
  for (std::size_t i = 0; i < sections.size(); ++i) {
    if (i > 0) out += ',';
    out += sections[i]->seats;
  }
  out += "]}";
  return out;
}

std::optional<std::string> SeatMapBodies::section(std::string_view name) const {
  // A venue has tens to a few hundred sections: a scan is as fast as a hash here.
  for (const auto& s : sections) {
    if (s->of->name != name) continue;
    std::string head = head_of(version);
    std::string out;
    out.reserve(head.size() + s->of->name.size() + s->seats.size() + 32);
    out = head;
    out += ",\"section\":";
    append_string(out, s->of->name);
    out += ",\"seats\":[";
    out += s->seats;
    out += "]}";
    return out;
  }
  return std::nullopt;
}

SeatMapBodies seat_map_bodies(const app::SeatMap& m, const SeatMapBodies* previous) {
  SeatMapBodies b;
  b.version = m.version;
  b.layout = m.layout;
  if (m.layout) {
    const auto& sections = m.layout->sections;
    const auto& all = m.layout->venue.seats;
    // The same layout has the same sections, at the same places.
    const bool same_layout = previous != nullptr && previous->layout == m.layout &&
                             previous->sections.size() == sections.size();
    b.sections.reserve(sections.size());
    std::string states;  // the section's states now, one byte per seat
    for (std::size_t i = 0; i < sections.size(); ++i) {
      const auto& ls = sections[i];
      states.resize(ls.seats.size());
      for (std::size_t j = 0; j < ls.seats.size(); ++j) {
        const std::size_t at = ls.seats[j];
        const auto state = at < m.states.size() ? m.states[at] : app::SeatState::available;
        states[j] = static_cast<char>(state);
      }
      if (same_layout && previous->sections[i]->states == states) {
        b.sections.push_back(previous->sections[i]);
        continue;
      }
      b.sections.push_back(encode(ls, all, states));
      ++b.encoded;
    }
  }
  b.summary = head_of(m.version);
  b.summary += ",\"sections\":[";
  for (std::size_t i = 0; i < b.sections.size(); ++i) {
    const auto& s = *b.sections[i];
    if (i > 0) b.summary += ',';
    b.summary += "{\"name\":";
    append_string(b.summary, s.of->name);
    b.summary += ",\"seats\":";
    append_int(b.summary, s.count());
    b.summary += ",\"available\":";
    append_int(b.summary, s.available);
    b.summary += ",\"held\":";
    append_int(b.summary, s.held);
    b.summary += ",\"sold\":";
    append_int(b.summary, s.sold);
    b.summary += ",\"grades\":[";
    const auto& grades = s.of->grades;
    for (std::size_t g = 0; g < grades.size(); ++g) {
      if (g > 0) b.summary += ',';
      append_string(b.summary, grades[g]);
    }
    b.summary += "]}";
  }
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

SeatMapCache::Bodies SeatMapCache::last(std::string_view perf) const {
  auto it = map_.find(perf);
  return it == map_.end() ? nullptr : it->second.bodies;
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
