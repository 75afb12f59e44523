#include "app/layout_cache.hpp"

#include <algorithm>

namespace tk::app {

std::shared_ptr<const Layout> make_layout(domain::Venue v) {
  auto l = std::make_shared<Layout>();
  l->venue = std::move(v);
  const auto& seats = l->venue.seats;
  l->index.reserve(seats.size());
  // A section's seats are usually contiguous in layout order: a search only when the name changes.
  LayoutSection* cur = nullptr;
  for (std::size_t i = 0; i < seats.size(); ++i) {
    const auto& seat = seats[i];
    l->index.emplace(seat.id, i);
    if (!cur || cur->name != seat.section) {
      auto it = std::find_if(l->sections.begin(), l->sections.end(),
                             [&](const LayoutSection& s) { return s.name == seat.section; });
      cur = it != l->sections.end() ? &*it : &l->sections.emplace_back(LayoutSection{seat.section});
    }
    cur->seats.push_back(static_cast<std::uint32_t>(i));
    if (std::find(cur->grades.begin(), cur->grades.end(), seat.grade) == cur->grades.end()) {
      cur->grades.push_back(seat.grade);
    }
  }
  return l;
}

}  // namespace tk::app
