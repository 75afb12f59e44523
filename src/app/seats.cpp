#include "app/seats.hpp"

#include <algorithm>
#include <boost/asio/this_coro.hpp>
#include <iterator>

#include "app/errors.hpp"
#include "app/waiting_room.hpp"
#include "common/crypto/encoding.hpp"
#include "common/deadline.hpp"
#include "domain/admission.hpp"
#include "domain/rules.hpp"

namespace tk::app {
namespace {
// Set by the stores for a command that timed out or was in flight when its connection dropped.
bool outcome_unknown(const Error& e) {
  const auto* o = e.details.if_contains("outcome");
  return o && o->is_string() && o->as_string() == "unknown";
}
}  // namespace

const char* to_string(SeatState s) {
  switch (s) {
    case SeatState::available:
      return "available";
    case SeatState::held:
      return "held";
    case SeatState::sold:
      return "sold";
  }
  return "sold";
}

std::string make_hold_id(const std::string& perf_id) {
  return perf_id + "~" + crypto::new_id("hld_");
}

std::optional<std::string> perf_of_hold(std::string_view hold_id) {
  auto t = hold_id.find('~');
  if (t == std::string_view::npos || t == 0 || hold_id.size() > 128) return std::nullopt;
  for (char c : hold_id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '~';
    if (!ok) return std::nullopt;
  }
  return std::string(hold_id.substr(0, t));
}

Task<std::shared_ptr<const Layout>> Seats::layout_of(const std::string& venue_id) {
  if (auto l = d_.shared->layouts->get(venue_id)) co_return l;
  // The first readers of a venue arrive together: one of them loads it (a stadium is 100k rows).
  auto load = [this, &venue_id] { return load_layout(venue_id); };
  co_return co_await d_.flights->layouts.run(venue_id, load);
}

Task<std::shared_ptr<const Layout>> Seats::load_layout(std::string venue_id) {
  TK_CO_TRY(auto v, co_await d_.ports.catalog->get_venue(venue_id));
  if (!v) co_return Errc::not_found;
  co_return d_.shared->layouts->put(std::move(*v));
}

Task<std::vector<std::int64_t>> Seats::layout_indexes(const std::string& perf_id,
                                                      const std::vector<std::string>& seat_ids) {
  std::vector<std::int64_t> out(seat_ids.size(), -1);
  // The venue from the queue view where this process has the performance (a process serving
  // the sale does), else from the catalogue: a lookup must not restore a queue into Redis, as
  // the waiting room's `live` does for a performance it has not seen (a worker's refund of a
  // sale long closed).
  std::string venue_id;
  if (auto q = d_.shared->view->get(perf_id)) {
    venue_id = q->perf.venue_id;
  } else {
    auto p = co_await d_.ports.catalog->get_performance(perf_id);
    if (!p.ok() || !*p) co_return out;
    venue_id = (*p)->venue_id;
  }
  auto layout = co_await layout_of(venue_id);
  if (!layout.ok()) co_return out;
  const auto& index = (*layout)->index;
  for (std::size_t i = 0; i < seat_ids.size(); ++i) {
    if (auto it = index.find(seat_ids[i]); it != index.end())
      out[i] = static_cast<std::int64_t>(it->second);
  }
  co_return out;
}

Task<crypto::AccessToken> Seats::check_access(const Principal& who, const std::string& perf_id,
                                              std::string_view access_token) {
  auto a = crypto::decode_access_token(*d_.shared->signer, access_token, d_.now());
  if (!a || a->performance_id != perf_id || a->account_id != who.account_id) {
    co_return Errc::not_admitted;
  }
  // A use of the access token counts as presence: with a presence timeout, an admitted buyer who
  // never uses it gives the capacity back, with an idle timeout one who stopped using it does
  // (the tick script). Noted also when this process has not loaded the queue yet: a mark too
  // many costs nothing, one missing would release a buyer.
  if (d_.shared->presence != nullptr) {
    auto q = d_.shared->view->get(perf_id);
    if (!q || domain::keeps_marks(q->perf.queue)) {
      d_.shared->presence->note(perf_id, a->position);
    }
  }
  co_return std::move(*a);
}

Task<SeatMap> Seats::seat_map(std::string perf_id) {
  WaitingRoom room(d_);
  TK_CO_TRY(auto q, co_await room.live(perf_id));
  TK_CO_TRY(auto layout, co_await layout_of(q->perf.venue_id));
  TK_CO_TRY(auto st, co_await d_.ports.holds->seat_states(perf_id));
  Millis now = d_.now();
  SeatMap m;
  m.version = st.version;
  m.layout = layout;
  m.states.assign(layout->venue.seats.size(), SeatState::available);
  auto& state = m.states;
  for (const auto& [seat, exp] : st.held) {
    auto it = layout->index.find(seat);
    if (it != layout->index.end() && exp > now) {
      state[it->second] = SeatState::held;
      m.valid_until = std::min(m.valid_until, exp);
    }
  }
  if (st.sold_as_bits) {
    const std::size_t n = std::min(state.size(), st.sold_bits.size() * 8);
    for (std::size_t i = 0; i < n; ++i) {
      if ((static_cast<unsigned char>(st.sold_bits[i >> 3]) >> (7 - (i & 7))) & 1)
        state[i] = SeatState::sold;
    }
  } else {
    for (const auto& seat : st.sold) {
      auto it = layout->index.find(seat);
      if (it != layout->index.end()) state[it->second] = SeatState::sold;
    }
  }
  co_return m;
}

Task<std::int64_t> Seats::seat_version(std::string perf_id) {
  co_return co_await d_.ports.holds->version(std::move(perf_id));
}

Task<void> Seats::reload_markers(const std::string& perf_id) {
  // Every hold in flight finds the markers missing at once (a new sale, an emptied Redis): one
  // reload per performance and thread, the others wait for it.
  auto reload = [this, &perf_id] { return load_markers_from_orders(perf_id); };
  co_return co_await d_.flights->marker_reloads.run(perf_id, reload);
}

Task<void> Seats::load_markers_from_orders(std::string perf_id) {
  TK_CO_TRY(auto sold, co_await d_.ports.orders->sold_seats(perf_id));
  TK_CO_TRY(auto bought, co_await d_.ports.orders->bought_counts(perf_id));
  TK_CO_TRY(auto indexes, co_await layout_indexes(perf_id, sold));
  co_return co_await d_.ports.holds->load_markers(perf_id, sold, indexes, bought);
}

Task<Seats::MarkerRepair> Seats::reconcile_markers(const std::string& perf_id,
                                                   std::int64_t settled_sold) {
  TK_CO_TRY(auto counts, co_await d_.ports.holds->sold_counts(perf_id));
  if (counts.markers < settled_sold) {
    TK_CO_CHECK(co_await reload_markers(perf_id));
    co_return MarkerRepair::reloaded;
  }
  // The set is whole; the bitmap the seat maps read may lack markers written without their
  // index (or before the bitmap existed): maps read the ids meanwhile. Rebuilt from the set.
  if (counts.bits == counts.markers) co_return MarkerRepair::none;
  TK_CO_TRY(auto ids, co_await d_.ports.holds->sold_ids(perf_id));
  TK_CO_TRY(auto indexes, co_await layout_indexes(perf_id, ids));
  TK_CO_CHECK(co_await d_.ports.holds->set_sold_bits(perf_id, ids, indexes, true));
  co_return MarkerRepair::bitmap_rebuilt;
}

Task<domain::Hold> Seats::hold(const Principal& who, const crypto::AccessToken& access,
                               std::string perf_id, std::vector<std::string> seat_ids) {
  WaitingRoom room(d_);
  TK_CO_TRY(auto q, co_await room.live(perf_id));
  const auto& perf = q->perf;
  if (auto ec = domain::check_seat_selection(seat_ids, perf.max_seats_per_order)) {
    co_return Error{ec, {{"field", "seat_ids"}}};
  }
  TK_CO_TRY(auto layout, co_await layout_of(perf.venue_id));
  boost::json::array invalid;
  for (const auto& s : seat_ids) {
    if (!layout->index.count(s)) invalid.emplace_back(s);
  }
  if (!invalid.empty()) co_return Error{Errc::invalid_seats, {{"seat_ids", std::move(invalid)}}};
  std::vector<std::vector<std::string>> groups;
  groups.push_back(std::move(seat_ids));
  co_return co_await take(who, access, perf, std::move(groups));
}

Task<domain::Hold> Seats::hold_best(const Principal& who, const crypto::AccessToken& access,
                                    std::string perf_id, domain::BestAvailableRequest want,
                                    Millis hold_until) {
  WaitingRoom room(d_);
  TK_CO_TRY(auto q, co_await room.live(perf_id));
  const auto& perf = q->perf;
  if (want.count > perf.max_seats_per_order) co_return Errc::too_many_seats;
  if (want.grade && std::none_of(perf.price_grades.begin(), perf.price_grades.end(),
                                 [&](const auto& g) { return g.grade == *want.grade; })) {
    co_return Error{Errc::invalid_field, {{"field", "best_available.grade"}}};
  }
  TK_CO_TRY(auto layout, co_await layout_of(perf.venue_id));
  const auto& all = layout->venue.seats;
  if (want.section && std::none_of(all.begin(), all.end(), [&](const domain::SeatSpec& s) {
        return s.section == *want.section;
      })) {
    co_return Error{Errc::invalid_field, {{"field", "best_available.section"}}};
  }
  const auto grades = domain::grades_by_price(perf.price_grades);
  // The map may be a moment old: a group taken meanwhile makes the script try the next one, and
  // when every candidate went, a fresh map gives new ones.
  for (int attempt = 0; attempt < 3; ++attempt) {
    TK_CO_TRY(auto m, co_await seat_map(perf_id));
    std::vector<bool> free(m.states.size());
    for (std::size_t i = 0; i < m.states.size(); ++i) free[i] = m.states[i] == SeatState::available;
    auto picks =
        domain::best_available(m.layout->venue.seats, free, grades, want, kBestAvailableCandidates);
    if (picks.empty()) break;
    std::vector<std::vector<std::string>> groups;
    for (const auto& g : picks) {
      auto& ids = groups.emplace_back();
      for (auto i : g) ids.push_back(m.layout->venue.seats[i].id);
    }
    auto held = co_await take(who, access, perf, std::move(groups), hold_until);
    if (held || to_app(held.error().code) != Errc::seats_unavailable) co_return held;
  }
  co_return Error{Errc::seats_unavailable, {{"seat_ids", boost::json::array{}}}};
}

Task<domain::Hold> Seats::take(const Principal& who, const crypto::AccessToken& access,
                               const domain::Performance& perf,
                               std::vector<std::vector<std::string>> groups, Millis hold_until) {
  const std::string& perf_id = perf.id;
  Millis now = d_.now();
  switch (domain::effective_status(perf, now)) {
    case domain::SaleStatus::closed:
      co_return Errc::sale_closed;
    case domain::SaleStatus::sold_out:
      co_return Errc::sold_out;
    case domain::SaleStatus::scheduled:
      co_return Errc::sale_not_open;
    default:
      break;
  }
  HoldRequest r;
  r.hold_id = make_hold_id(perf_id);
  r.account_id = who.account_id;
  r.position = access.position;
  r.seat_ids = std::move(groups.front());
  r.alternatives.assign(std::make_move_iterator(groups.begin() + 1),
                        std::make_move_iterator(groups.end()));
  r.now = now;
  r.expires_at =
      hold_until > now ? hold_until : now + static_cast<Millis>(perf.hold_ttl_seconds) * 1000;
  r.max_per_account = perf.max_seats_per_account;
  r.seat_count = perf.seat_count;
  r.gc_ttl_ms = (r.expires_at - now) + d_.shared->settings.hold_gc_grace_ms;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto held = co_await d_.ports.holds->hold(perf_id, r);
    if (!held) {
      // The script may have run although its answer was lost: free what it may have taken.
      if (outcome_unknown(held.error())) {
        LostHold lost;
        lost.perf_id = perf_id;
        lost.hold_id = r.hold_id;
        lost.account_id = r.account_id;
        lost.expires_at = r.expires_at;
        // The release outlives this request: not under its deadline.
        auto ex = without_deadline(co_await boost::asio::this_coro::executor);
        d_.flights->lost_holds.release(ex, d_, lost);
      }
      co_return std::move(held).error();
    }
    auto out = std::move(held).value();
    switch (out.kind) {
      case HoldOutcome::Kind::held: {
        auto& seats = out.group == 0 ? r.seat_ids : r.alternatives.at(out.group - 1);
        co_return domain::Hold{r.hold_id,        perf_id,      who.account_id,
                               std::move(seats), r.expires_at, r.position};
      }
      case HoldOutcome::Kind::unavailable: {
        boost::json::array ids;
        for (auto& s : out.unavailable_seats) ids.emplace_back(s);
        co_return Error{Errc::seats_unavailable, {{"seat_ids", std::move(ids)}}};
      }
      case HoldOutcome::Kind::limit:
        co_return Errc::seat_limit_reached;
      case HoldOutcome::Kind::sold_out:
        co_return Errc::sold_out;
      case HoldOutcome::Kind::left:
        co_return Errc::not_admitted;
      case HoldOutcome::Kind::not_loaded:
        // Redis came back empty: sold seats must be known before anything can be held.
        TK_CO_CHECK(co_await reload_markers(perf_id));
        break;
    }
  }
  co_return Errc::unavailable;
}

Task<void> Seats::release(const Principal& who, std::string hold_id) {
  auto perf = perf_of_hold(hold_id);
  if (!perf) co_return Errc::not_found;
  TK_CO_TRY(auto h, co_await d_.ports.holds->get(*perf, hold_id));
  if (!h || h->account_id != who.account_id) co_return Errc::not_found;
  // PostgreSQL first: the pending order is cancelled and its seat claims freed; then the lease.
  // The cancel and a payment's commit serialise on the order's row, so exactly one wins: a
  // payment that committed first (its sold markers maybe not written yet) shows up here as paid.
  TK_CO_TRY(auto order, co_await d_.ports.orders->cancel_for_hold(hold_id));
  if (order == OrderRepo::HoldOrder::paid) {
    // The hold is consumed by the sale: write the markers the payment may not have written yet.
    TK_CO_TRY(auto indexes, co_await layout_indexes(*perf, h->seat_ids));
    TK_CO_CHECK(co_await d_.ports.holds->mark_sold(*perf, hold_id, who.account_id, h->position,
                                                   h->seat_ids, std::move(indexes)));
    co_return Errc::not_found;
  }
  TK_CO_TRY(bool released, co_await d_.ports.holds->release(*perf, hold_id, who.account_id));
  if (!released) co_return Errc::not_found;
  co_return Result<void>{};
}

}  // namespace tk::app
