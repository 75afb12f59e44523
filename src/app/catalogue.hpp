#pragma once
// Public catalogue reads and the operator's catalogue/sale management.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/deps.hpp"

namespace tk::app {

inline constexpr int kMaxSearchResults = 50;

class Catalogue {
 public:
  explicit Catalogue(Deps d) : d_(d) {}
  Task<std::vector<domain::Event>> events();
  // Events matching `q` (1..100 characters, else invalid_field "q"), best first, at most
  // kMaxSearchResults.
  Task<std::vector<domain::Event>> search(std::string_view q);
  Task<domain::Event> event(std::string id);
  Task<domain::Performance> performance(std::string id);
  // From the process-wide layout cache (a venue's layout never changes once created).
  Task<std::shared_ptr<const Layout>> layout(const std::string& venue_id);

 private:
  Deps d_;
};

struct NewPerformance {
  std::string event_id;
  Millis starts_at = 0;
  Millis sale_opens_at = 0;
  std::vector<domain::PriceGrade> price_grades;
  std::optional<int> max_seats_per_order, max_seats_per_account, hold_ttl_seconds;
  std::optional<int> admit_per_interval, interval_ms, max_active, access_ttl_seconds;
  std::optional<int> pow_difficulty;
  std::optional<int> presence_timeout_seconds;
  std::optional<int> idle_timeout_seconds;
  std::optional<Millis> refundable_until;  // unset: starts_at minus 24 h
  std::optional<Millis> queue_opens_at;    // unset: no pre-queue
};

struct PerformanceStats {
  std::int64_t waiting = 0;
  std::int64_t admitted_total = 0;
  std::int64_t active = 0;
  std::int64_t holds_active = 0;
  std::int64_t holds_expired_total = 0;
  std::int64_t seats_available = 0;
  std::int64_t seats_held = 0;
  std::int64_t seats_sold = 0;
  std::int64_t orders_paid = 0;
  double admission_rate_per_s = 0;
};

class Admin {
 public:
  explicit Admin(Deps d) : d_(d) {}
  Task<domain::Venue> create_venue(std::string name, std::vector<NewSection> sections);
  Task<std::string> create_event(std::string title, std::string venue_id,
                                 std::string performer = {});
  Task<std::string> create_performance(NewPerformance p);
  Task<domain::Performance> update_performance(std::string id, PerformanceChange c);
  Task<domain::Performance> performance(std::string id);
  Task<PerformanceStats> stats(std::string id);

 private:
  void changed();  // after a successful write: public read caches rebuild
  Deps d_;
};

}  // namespace tk::app
