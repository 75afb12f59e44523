#pragma once
// Venue layouts never change once created, so every process caches them for good.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "domain/model.hpp"

namespace tk::app {

// A section's seats as the layout lists them, found once per layout: a seat map groups its seats
// by section at every build otherwise, which for a stadium is most of a rebuild's cost.
struct LayoutSection {
  std::string name;
  std::vector<std::uint32_t> seats;  // positions in venue.seats, layout order
  std::vector<std::string> grades;   // distinct, first-seen order
};

struct Layout {
  domain::Venue venue;
  std::unordered_map<std::string, std::size_t> index;  // seat id -> position in venue.seats
  std::vector<LayoutSection> sections;                 // in the order of their first seats
};

// The layout of `v`: its seat index and its sections.
std::shared_ptr<const Layout> make_layout(domain::Venue v);

class LayoutCache {
 public:
  std::shared_ptr<const Layout> get(const std::string& venue_id) const {
    std::lock_guard lk(mu_);
    auto it = map_.find(venue_id);
    return it == map_.end() ? nullptr : it->second;
  }
  std::shared_ptr<const Layout> put(domain::Venue v) {
    auto l = make_layout(std::move(v));
    std::lock_guard lk(mu_);
    return map_.emplace(l->venue.id, l).first->second;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Layout>> map_;
};

}  // namespace tk::app
