#include "app/catalogue.hpp"

#include <algorithm>
#include <set>

#include "app/errors.hpp"
#include "app/seats.hpp"
#include "common/crypto/encoding.hpp"
#include "domain/admission.hpp"
#include "domain/proof_of_work.hpp"
#include "domain/search.hpp"

namespace tk::app {

Task<std::vector<domain::Event>> Catalogue::events() {
  co_return co_await d_.ports.catalog->list_events(d_.now());
}

Task<std::vector<domain::Event>> Catalogue::search(std::string_view q) {
  auto terms = domain::parse_search(q);
  if (!terms) {
    Error e(Errc::invalid_field);
    e.details["field"] = "q";
    e.details["reason"] = "1..100 characters of text";
    co_return e;
  }
  if (d_.ports.search == nullptr) co_return Errc::unavailable;
  SearchQuery sq{std::move(terms->text), std::move(terms->tsquery), std::move(terms->like)};
  TK_CO_TRY(auto ids, co_await d_.ports.search->search(std::move(sq), kMaxSearchResults));
  if (ids.empty()) co_return std::vector<domain::Event>{};
  co_return co_await d_.ports.catalog->events_by_ids(std::move(ids), d_.now());
}

Task<domain::Event> Catalogue::event(std::string id) {
  TK_CO_TRY(auto e, co_await d_.ports.catalog->get_event(std::move(id), d_.now()));
  if (!e) co_return Errc::not_found;
  co_return std::move(*e);
}

Task<domain::Performance> Catalogue::performance(std::string id) {
  TK_CO_TRY(auto p, co_await d_.ports.catalog->get_performance(std::move(id)));
  if (!p) co_return Errc::not_found;
  co_return std::move(*p);
}

Task<std::shared_ptr<const Layout>> Catalogue::layout(const std::string& venue_id) {
  Seats seats(d_);
  co_return co_await seats.layout_of(venue_id);
}

namespace {
Error field_error(Errc e, std::string_view field, std::string_view why) {
  return Error{e, {{"field", field}, {"reason", why}}};
}
constexpr int kMaxSeatsPerVenue = 200000;
}  // namespace

Task<domain::Venue> Admin::create_venue(std::string name, std::vector<NewSection> sections) {
  if (name.empty() || name.size() > 200)
    co_return field_error(Errc::invalid_field, "name", "1..200 chars");
  if (sections.empty()) co_return field_error(Errc::invalid_field, "sections", "at least one");
  std::set<std::string> section_names;
  long total = 0;
  for (const auto& s : sections) {
    if (s.name.empty() || !section_names.insert(s.name).second) {
      co_return field_error(Errc::invalid_field, "sections.name", "non-empty and unique");
    }
    if (s.rows.empty()) co_return field_error(Errc::invalid_field, "sections.rows", "at least one");
    std::set<std::string> labels;
    for (const auto& r : s.rows) {
      if (r.label.empty() || !labels.insert(r.label).second) {
        co_return field_error(Errc::invalid_field, "rows.label",
                              "non-empty and unique per section");
      }
      if (r.grade.empty()) co_return field_error(Errc::invalid_field, "rows.grade", "non-empty");
      if (r.seats < 1 || r.seats > 1000)
        co_return field_error(Errc::out_of_range, "rows.seats", "1..1000");
      total += r.seats;
    }
  }
  if (total > kMaxSeatsPerVenue)
    co_return field_error(Errc::out_of_range, "sections", "at most 200000 seats");
  TK_CO_TRY(auto v,
            co_await d_.ports.catalog_writer->create_venue(std::move(name), std::move(sections)));
  changed();
  co_return v;
}

Task<std::string> Admin::create_event(std::string title, std::string venue_id,
                                      std::string performer) {
  if (title.empty() || title.size() > 200)
    co_return field_error(Errc::invalid_field, "title", "1..200 chars");
  if (performer.size() > 200)
    co_return field_error(Errc::invalid_field, "performer", "0..200 chars");
  TK_CO_TRY(auto id, co_await d_.ports.catalog_writer->create_event(
                         std::move(title), std::move(venue_id), std::move(performer)));
  changed();
  co_return id;
}

namespace {
std::error_code check_queue(const domain::QueueSettings& q, std::string* field) {
  if (q.admit_per_interval < 1) return *field = "queue.admit_per_interval", Errc::out_of_range;
  if (q.interval_ms < 50 || q.interval_ms > 60000)
    return *field = "queue.interval_ms", Errc::out_of_range;
  if (q.max_active < 1) return *field = "queue.max_active", Errc::out_of_range;
  if (q.access_ttl_seconds < 10 || q.access_ttl_seconds > 86400) {
    return *field = "queue.access_ttl_seconds", Errc::out_of_range;
  }
  if (q.pow_difficulty < 0 || q.pow_difficulty > domain::kMaxPowDifficulty) {
    return *field = "queue.pow_difficulty", Errc::out_of_range;
  }
  if (q.presence_timeout_seconds != 0 &&
      (q.presence_timeout_seconds < domain::kMinPresenceTimeout ||
       q.presence_timeout_seconds > domain::kMaxPresenceTimeout)) {
    return *field = "queue.presence_timeout_seconds", Errc::out_of_range;
  }
  if (q.idle_timeout_seconds != 0 && (q.idle_timeout_seconds < domain::kMinIdleTimeout ||
                                      q.idle_timeout_seconds > domain::kMaxIdleTimeout)) {
    return *field = "queue.idle_timeout_seconds", Errc::out_of_range;
  }
  return {};
}

// The sale settings and dates of a performance, the same on creation and on change.
std::error_code check_sale(const domain::Performance& p, int per_order_cap, std::string* field,
                           std::string* why) {
  if (p.max_seats_per_order < 1 || p.max_seats_per_order > per_order_cap) {
    *why = "1.." + std::to_string(per_order_cap);
    return *field = "max_seats_per_order", Errc::out_of_range;
  }
  if (p.max_seats_per_account < 1 || p.max_seats_per_account > 1000)
    return *why = "1..1000", *field = "max_seats_per_account", Errc::out_of_range;
  if (p.hold_ttl_seconds < 1 || p.hold_ttl_seconds > 3600)
    return *why = "1..3600", *field = "hold_ttl_seconds", Errc::out_of_range;
  if (p.sale_opens_at > p.starts_at)
    return *why = "must not be after starts_at", *field = "sale_opens_at", Errc::invalid_field;
  if (p.queue_opens_at != 0 && p.queue_opens_at >= p.sale_opens_at)
    return *why = "must be before sale_opens_at", *field = "queue_opens_at", Errc::invalid_field;
  return {};
}
}  // namespace

Task<std::string> Admin::create_performance(NewPerformance n) {
  TK_CO_TRY(auto venue_id, co_await d_.ports.catalog_writer->event_venue(n.event_id));
  if (!venue_id) co_return Errc::not_found;
  TK_CO_TRY(auto venue, co_await d_.ports.catalog->get_venue(*venue_id));
  if (!venue) co_return Errc::not_found;

  domain::Performance p;
  p.id = crypto::new_id("prf_");
  p.event_id = n.event_id;
  p.venue_id = *venue_id;
  p.starts_at = n.starts_at;
  p.sale_opens_at = n.sale_opens_at;
  p.stored_status = domain::SaleStatus::scheduled;
  p.max_seats_per_order = n.max_seats_per_order.value_or(4);
  p.max_seats_per_account = n.max_seats_per_account.value_or(p.max_seats_per_order);
  p.hold_ttl_seconds = n.hold_ttl_seconds.value_or(300);
  p.queue.admit_per_interval = n.admit_per_interval.value_or(100);
  p.queue.interval_ms = n.interval_ms.value_or(1000);
  p.queue.max_active = n.max_active.value_or(1000);
  p.queue.access_ttl_seconds = n.access_ttl_seconds.value_or(600);
  p.queue.pow_difficulty = n.pow_difficulty.value_or(0);
  p.queue.presence_timeout_seconds = n.presence_timeout_seconds.value_or(0);
  p.queue.idle_timeout_seconds = n.idle_timeout_seconds.value_or(0);
  p.seat_count = static_cast<int>(venue->seats.size());
  p.refundable_until = n.refundable_until.value_or(0);
  p.queue_opens_at = n.queue_opens_at.value_or(0);
  // The seed's commitment is public from now on: a pre-queue opening later was committed to.
  if (p.queue_opens_at != 0 && p.queue_opens_at <= d_.now())
    co_return field_error(Errc::invalid_field, "queue_opens_at", "must be in the future");
  std::string field, why;
  if (auto ec = check_sale(p, d_.shared->settings.max_seats_per_order_cap, &field, &why))
    co_return field_error(to_app(ec), field, why);
  if (auto ec = check_queue(p.queue, &field))
    co_return field_error(Errc::out_of_range, field, "see contract ranges");
  // Every grade of the venue needs exactly one price; no price for a grade the venue lacks.
  std::set<std::string> venue_grades;
  for (const auto& s : venue->seats) venue_grades.insert(s.grade);
  std::set<std::string> priced;
  for (const auto& g : n.price_grades) {
    if (g.price_cents < 0 || g.price_cents > 1'000'000'000'00LL) {
      co_return field_error(Errc::out_of_range, "price_grades.price_cents", ">= 0");
    }
    if (g.currency.size() != 3 || !std::all_of(g.currency.begin(), g.currency.end(),
                                               [](char c) { return c >= 'A' && c <= 'Z'; })) {
      co_return field_error(Errc::invalid_field, "price_grades.currency", "ISO 4217 code");
    }
    if (!venue_grades.count(g.grade))
      co_return field_error(Errc::invalid_field, "price_grades.grade", "not a grade of the venue");
    if (!priced.insert(g.grade).second)
      co_return field_error(Errc::invalid_field, "price_grades.grade", "duplicate");
    if (g.currency != n.price_grades.front().currency) {
      co_return field_error(Errc::invalid_field, "price_grades.currency",
                            "one currency per performance");
    }
  }
  if (priced != venue_grades)
    co_return field_error(Errc::invalid_field, "price_grades", "every venue grade needs a price");
  p.price_grades = std::move(n.price_grades);
  TK_CO_CHECK(co_await d_.ports.catalog_writer->create_performance(p));
  changed();
  co_return p.id;
}

Task<domain::Performance> Admin::update_performance(std::string id, PerformanceChange c) {
  if (c.status &&
      (*c.status == domain::SaleStatus::scheduled || *c.status == domain::SaleStatus::sold_out)) {
    co_return field_error(Errc::invalid_field, "status", "on_sale, paused or closed");
  }
  TK_CO_TRY(auto cur, co_await d_.ports.catalog_writer->get_performance(id));
  if (!cur) co_return Errc::not_found;
  domain::Performance next = *cur;
  if (c.starts_at) next.starts_at = *c.starts_at;
  if (c.sale_opens_at) next.sale_opens_at = *c.sale_opens_at;
  if (c.max_seats_per_order) next.max_seats_per_order = *c.max_seats_per_order;
  if (c.max_seats_per_account) next.max_seats_per_account = *c.max_seats_per_account;
  if (c.hold_ttl_seconds) next.hold_ttl_seconds = *c.hold_ttl_seconds;
  if (c.queue_opens_at || c.reset_queue_opens_at) {
    // A pre-queue's times are fixed once it opened (its entries were promised a draw), and a new
    // one opens after its commitment was published.
    const Millis now = d_.now();
    if (cur->queue_opens_at != 0 && now >= cur->queue_opens_at)
      co_return field_error(Errc::invalid_field, "queue_opens_at", "the pre-queue has opened");
    if (c.queue_opens_at && *c.queue_opens_at <= now)
      co_return field_error(Errc::invalid_field, "queue_opens_at", "must be in the future");
    next.queue_opens_at = c.reset_queue_opens_at ? 0 : *c.queue_opens_at;
  }
  {
    std::string f, why;
    if (auto ec = check_sale(next, d_.shared->settings.max_seats_per_order_cap, &f, &why))
      co_return field_error(to_app(ec), f, why);
  }
  domain::QueueSettings q = cur->queue;
  if (c.admit_per_interval) q.admit_per_interval = *c.admit_per_interval;
  if (c.interval_ms) q.interval_ms = *c.interval_ms;
  if (c.max_active) q.max_active = *c.max_active;
  if (c.access_ttl_seconds) q.access_ttl_seconds = *c.access_ttl_seconds;
  if (c.pow_difficulty) q.pow_difficulty = *c.pow_difficulty;
  if (c.presence_timeout_seconds) q.presence_timeout_seconds = *c.presence_timeout_seconds;
  if (c.idle_timeout_seconds) q.idle_timeout_seconds = *c.idle_timeout_seconds;
  std::string field;
  if (auto ec = check_queue(q, &field))
    co_return field_error(Errc::out_of_range, field, "see contract ranges");
  if (cur->stored_status == domain::SaleStatus::closed && c.status &&
      *c.status != domain::SaleStatus::closed) {
    co_return field_error(Errc::invalid_field, "status", "a closed sale stays closed");
  }
  TK_CO_TRY(auto p, co_await d_.ports.catalog_writer->update_performance(std::move(id), c));
  if (!p) co_return Errc::not_found;
  d_.shared->view->update_perf(*p);  // this process sees the change at once; others on refresh
  changed();
  co_return std::move(*p);
}

void Admin::changed() { d_.shared->catalogue_version.fetch_add(1, std::memory_order_release); }

Task<domain::Performance> Admin::performance(std::string id) {
  TK_CO_TRY(auto p, co_await d_.ports.catalog_writer->get_performance(std::move(id)));
  if (!p) co_return Errc::not_found;
  co_return std::move(*p);
}

Task<PerformanceStats> Admin::stats(std::string id) {
  TK_CO_TRY(auto p, co_await d_.ports.catalog_writer->get_performance(id));
  if (!p) co_return Errc::not_found;
  Millis now = d_.now();
  TK_CO_TRY(auto q, co_await d_.ports.queue->counters(id));
  TK_CO_TRY(auto h, co_await d_.ports.holds->counters(id, now));
  TK_CO_TRY(auto paid, co_await d_.ports.orders->paid_orders(id));
  PerformanceStats s;
  // Unclaimed gap positions (Redis lost data; nobody showed up for them) are nobody.
  std::int64_t unclaimed_waiting = 0;
  if (q.gap.to > q.serving) {
    auto lo = std::max(q.gap.from, q.serving);
    auto claimed = q.claimed.end() - std::upper_bound(q.claimed.begin(), q.claimed.end(), lo);
    unclaimed_waiting = (q.gap.to - lo) - claimed;
  }
  s.waiting = std::max<std::int64_t>(0, q.tail - q.serving - unclaimed_waiting);
  s.admitted_total = q.serving;
  s.active = std::max<std::int64_t>(
      0, q.serving - q.expired_upto - q.finished_in_window - q.unclaimed_admitted);
  s.holds_active = h.holds_active;
  s.holds_expired_total = h.holds_expired_total;
  // PostgreSQL decides what is sold; Redis knows what is held right now.
  s.seats_sold = p->sold_count;
  s.seats_held = h.seats_held;
  s.seats_available = std::max<std::int64_t>(0, p->seat_count - s.seats_sold - s.seats_held);
  s.orders_paid = paid;
  LiveQueue lq;
  lq.perf = *p;
  lq.ticks = std::move(q.ticks);
  s.admission_rate_per_s = lq.admission_rate(now);
  co_return s;
}

}  // namespace tk::app
