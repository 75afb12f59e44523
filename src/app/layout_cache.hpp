#pragma once
// Venue layouts never change once created, so every process caches them for good.
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "domain/model.hpp"

namespace tk::app {

struct Layout {
  domain::Venue venue;
  std::unordered_map<std::string, std::size_t> index;  // seat id -> position in venue.seats
};

class LayoutCache {
 public:
  std::shared_ptr<const Layout> get(const std::string& venue_id) const {
    std::lock_guard lk(mu_);
    auto it = map_.find(venue_id);
    return it == map_.end() ? nullptr : it->second;
  }
  std::shared_ptr<const Layout> put(domain::Venue v) {
    auto l = std::make_shared<Layout>();
    l->venue = std::move(v);
    for (std::size_t i = 0; i < l->venue.seats.size(); ++i)
      l->index.emplace(l->venue.seats[i].id, i);
    std::lock_guard lk(mu_);
    return map_.emplace(l->venue.id, l).first->second;
  }

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const Layout>> map_;
};

}  // namespace tk::app
