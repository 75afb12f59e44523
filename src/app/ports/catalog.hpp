#pragma once
#include <optional>
#include <string>
#include <vector>

#include "app/async.hpp"
#include "domain/model.hpp"

namespace tk::app {

// Catalogue reads go through a read-only connection so a replica can serve them later.
class CatalogReader {
 public:
  virtual ~CatalogReader() = default;
  virtual Task<std::vector<domain::Event>> list_events(Millis now) = 0;
  virtual Task<std::optional<domain::Event>> get_event(std::string id, Millis now) = 0;
  virtual Task<std::optional<domain::Performance>> get_performance(std::string id) = 0;
  virtual Task<std::optional<domain::Venue>> get_venue(std::string id) = 0;
  // The events with these ids, in the order of `ids` (unknown ids are skipped).
  virtual Task<std::vector<domain::Event>> events_by_ids(std::vector<std::string> ids,
                                                         Millis now) = 0;
};

struct NewSection {
  std::string name;
  struct Row {
    std::string label;
    int seats = 0;
    std::string grade;
  };
  std::vector<Row> rows;
};

struct PerformanceChange {
  std::optional<domain::SaleStatus> status;
  std::optional<int> admit_per_interval, interval_ms, max_active, access_ttl_seconds;
  std::optional<int> pow_difficulty;
  std::optional<int> presence_timeout_seconds;
  std::optional<int> idle_timeout_seconds;
  // Dates and sale settings an operator may correct after creation.
  std::optional<Millis> starts_at, sale_opens_at;
  std::optional<int> max_seats_per_order, max_seats_per_account, hold_ttl_seconds;
  // A new end of the refund window, or back to the default rule (starts_at minus 24 h).
  std::optional<Millis> refundable_until;
  bool reset_refundable_until = false;
  // A pre-queue opening at this time, or none (only before it opened: see Admin).
  std::optional<Millis> queue_opens_at;
  bool reset_queue_opens_at = false;
};

// Writes always go to the primary.
class CatalogWriter {
 public:
  virtual ~CatalogWriter() = default;
  virtual Task<domain::Venue> create_venue(std::string name, std::vector<NewSection> sections) = 0;
  // Errc::not_found when the venue does not exist.
  // Also writes catalogue.changed {event_id} to the outbox in the same transaction (the search
  // index follows from it).
  virtual Task<std::string> create_event(std::string title, std::string venue_id,
                                         std::string performer) = 0;
  // Creates the performance, its price grades, one fence row per seat and its queue state.
  virtual Task<void> create_performance(const domain::Performance& p) = 0;
  virtual Task<std::optional<domain::Performance>> update_performance(std::string id,
                                                                      PerformanceChange c) = 0;
  // Primary read (decisions on a sale are never made from a replica).
  virtual Task<std::optional<domain::Performance>> get_performance(std::string id) = 0;
  virtual Task<std::optional<std::string>> event_venue(std::string event_id) = 0;
  // Performances whose sale may need admission ticks (not closed, not sold out).
  virtual Task<std::vector<domain::Performance>> live_performances() = 0;
};

}  // namespace tk::app
