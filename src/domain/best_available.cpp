#include "domain/best_available.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <tuple>
#include <unordered_map>

namespace tk::domain {
namespace {

// One row of the layout: its seats in number order, and where it ranks.
struct Row {
  std::vector<std::size_t> seats;
  std::size_t section_order = 0;
  std::size_t row_order = 0;  // within its section, front first
  int centre2 = 0;            // twice the centre seat number
};

// Rank of a candidate: grade, row, twice the distance from the row's centre, section, then the
// first seat (a total order, so equal requests get equal answers).
using Key = std::tuple<std::size_t, std::size_t, int, std::size_t, std::size_t>;

std::vector<Row> rows_of(const std::vector<SeatSpec>& seats) {
  std::vector<Row> rows;
  std::unordered_map<std::string, std::size_t> section_order, rows_in_section;
  std::unordered_map<std::string, std::size_t> row_at;  // "section\nrow" -> index in rows
  for (std::size_t i = 0; i < seats.size(); ++i) {
    const auto& s = seats[i];
    auto [sec, new_section] = section_order.try_emplace(s.section, section_order.size());
    auto [at, new_row] = row_at.try_emplace(s.section + '\n' + s.row, rows.size());
    if (new_row) {
      Row r;
      r.section_order = sec->second;
      r.row_order = rows_in_section[s.section]++;
      rows.push_back(std::move(r));
    }
    (void)new_section;
    rows[at->second].seats.push_back(i);
  }
  for (auto& r : rows) {
    std::sort(r.seats.begin(), r.seats.end(),
              [&](std::size_t a, std::size_t b) { return seats[a].number < seats[b].number; });
    r.centre2 = seats[r.seats.front()].number + seats[r.seats.back()].number;
  }
  return rows;
}

}  // namespace

std::vector<std::string> grades_by_price(const std::vector<PriceGrade>& grades) {
  std::vector<const PriceGrade*> g;
  for (const auto& x : grades) g.push_back(&x);
  std::stable_sort(g.begin(), g.end(), [](const PriceGrade* a, const PriceGrade* b) {
    return a->price_cents > b->price_cents;
  });
  std::vector<std::string> out;
  for (const auto* x : g) out.push_back(x->grade);
  return out;
}

std::vector<std::vector<std::size_t>> best_available(
    const std::vector<SeatSpec>& seats, const std::vector<bool>& free,
    const std::vector<std::string>& grades_best_first, const BestAvailableRequest& r,
    std::size_t max_groups) {
  std::vector<std::vector<std::size_t>> out;
  if (r.count <= 0 || max_groups == 0 || free.size() != seats.size()) return out;
  const auto count = static_cast<std::size_t>(r.count);
  auto rank = [&](const std::string& grade) {
    auto it = std::find(grades_best_first.begin(), grades_best_first.end(), grade);
    return static_cast<std::size_t>(it - grades_best_first.begin());
  };
  auto eligible = [&](std::size_t i) {
    return free[i] && (!r.grade || seats[i].grade == *r.grade) &&
           (!r.section || seats[i].section == *r.section);
  };
  const auto rows = rows_of(seats);

  // Blocks of `count` adjacent eligible seats; a block's grade is its worst seat's.
  std::vector<std::pair<Key, std::pair<std::size_t, std::size_t>>> blocks;  // row, first slot
  for (std::size_t ri = 0; ri < rows.size(); ++ri) {
    const auto& row = rows[ri];
    std::size_t run = 0;
    for (std::size_t j = 0; j < row.seats.size(); ++j) {
      const auto i = row.seats[j];
      const bool next_to_last = j > 0 && seats[i].number == seats[row.seats[j - 1]].number + 1;
      run = eligible(i) ? (next_to_last ? run + 1 : 1) : 0;
      if (run < count) continue;
      const std::size_t first = j + 1 - count;
      std::size_t grade = 0;
      for (std::size_t k = first; k <= j; ++k)
        grade = std::max(grade, rank(seats[row.seats[k]].grade));
      const int centre2 = seats[row.seats[first]].number + seats[i].number;
      blocks.push_back({Key{grade, row.row_order, std::abs(centre2 - row.centre2),
                            row.section_order, row.seats[first]},
                        {ri, first}});
    }
  }
  if (!blocks.empty()) {
    std::sort(blocks.begin(), blocks.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    // Disjoint groups: concurrent requests that lose the best one find the next one whole.
    std::vector<bool> taken(seats.size(), false);
    for (const auto& [key, at] : blocks) {
      const auto& row = rows[at.first];
      std::vector<std::size_t> g(
          row.seats.begin() + static_cast<std::ptrdiff_t>(at.second),
          row.seats.begin() + static_cast<std::ptrdiff_t>(at.second + count));
      if (std::any_of(g.begin(), g.end(), [&](std::size_t i) { return taken[i]; })) continue;
      for (auto i : g) taken[i] = true;
      out.push_back(std::move(g));
      if (out.size() == max_groups) break;
    }
    return out;
  }

  // No row has room: the best seats one by one.
  std::vector<std::pair<Key, std::size_t>> singles;
  for (const auto& row : rows) {
    for (auto i : row.seats) {
      if (!eligible(i)) continue;
      singles.push_back({Key{rank(seats[i].grade), row.row_order,
                             std::abs(2 * seats[i].number - row.centre2), row.section_order, i},
                         i});
    }
  }
  if (singles.size() < count) return out;
  const std::size_t groups = std::min(max_groups, singles.size() / count);
  const std::size_t need = groups * count;
  std::partial_sort(singles.begin(), singles.begin() + static_cast<std::ptrdiff_t>(need),
                    singles.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t g = 0; g < groups; ++g) {
    std::vector<std::size_t> group;
    for (std::size_t k = 0; k < count; ++k) group.push_back(singles[g * count + k].second);
    out.push_back(std::move(group));
  }
  return out;
}

}  // namespace tk::domain
