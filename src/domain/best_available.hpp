#pragma once
// "Best available": the server chooses the seats. Pure: the venue's layout and which seats are
// free in, groups of candidate seats out, best first. The hold script then takes the first group
// that is still wholly free, atomically, so buyers asking at once get different groups.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "domain/model.hpp"

namespace tk::domain {

struct BestAvailableRequest {
  int count = 0;
  std::optional<std::string> grade;    // only seats of this grade
  std::optional<std::string> section;  // only seats of this section
};

// Candidate groups of `r.count` seats (indexes into `seats`), best first, at most `max_groups`.
// Adjacent seats in one row (consecutive numbers) when any row has room: blocks ordered by grade
// (`grades_best_first`; a grade not listed ranks last), then row (front first: a section's rows
// in layout order), then distance from the row's centre, then section order. When no row has
// `count` adjacent free seats: the best free seats one by one in that order, cut into disjoint
// groups. Empty: fewer than `count` free seats match.
std::vector<std::vector<std::size_t>> best_available(
    const std::vector<SeatSpec>& seats, const std::vector<bool>& free,
    const std::vector<std::string>& grades_best_first, const BestAvailableRequest& r,
    std::size_t max_groups);

// Grades from the most to the least expensive (ties: the order given).
std::vector<std::string> grades_by_price(const std::vector<PriceGrade>& grades);

}  // namespace tk::domain
