#include "app/waitlist.hpp"

#include "app/errors.hpp"
#include "app/seats.hpp"
#include "app/waiting_room.hpp"
#include "common/log.hpp"

namespace tk::app {

const char* to_string(WaitlistState s) {
  switch (s) {
    case WaitlistState::waiting:
      return "waiting";
    case WaitlistState::offered:
      return "offered";
    case WaitlistState::expired:
      return "expired";
    case WaitlistState::left:
      return "left";
    case WaitlistState::bought:
      return "bought";
  }
  return "waiting";
}

std::string offer_access_token(const crypto::Signer& signer, const WaitlistEntry& e) {
  return crypto::encode(
      signer, crypto::AccessToken{e.performance_id, e.account_id, 0, e.access_expires_at});
}

namespace {

// Entries looked at per round: the seats that came back rarely serve more.
constexpr int kOfferBatch = 50;

std::size_t free_seats(const SeatMap& m) {
  std::size_t n = 0;
  for (auto s : m.states) n += s == SeatState::available;
  return n;
}

}  // namespace

Task<WaitlistEntry> Waitlist::join(const Principal& who, std::string perf_id, int seat_count) {
  WaitingRoom room(d_);
  TK_CO_TRY(auto q, co_await room.live(perf_id));
  const Millis now = d_.now();
  if (domain::effective_status(q->perf, now) == domain::SaleStatus::closed) {
    co_return Errc::sale_closed;
  }
  if (seat_count < 1 || seat_count > q->perf.max_seats_per_order) {
    co_return Error{Errc::out_of_range, {{"field", "count"}}};
  }
  // After sell-out only: while a seat is free, the buyer can hold it instead.
  Seats seats(d_);
  TK_CO_TRY(auto m, co_await seats.seat_map(perf_id));
  if (free_seats(m) > 0) co_return Errc::not_sold_out;
  co_return co_await d_.ports.waitlist->join(perf_id, who.account_id, seat_count);
}

Task<WaitlistView> Waitlist::mine(const Principal& who, std::string perf_id) {
  TK_CO_TRY(auto e, co_await d_.ports.waitlist->find(perf_id, who.account_id));
  if (!e || e->state == WaitlistState::left) co_return Errc::not_on_waitlist;
  WaitlistView v;
  // An offer whose window ended reads as expired before the loop has recorded it.
  if (e->state == WaitlistState::offered && e->access_expires_at <= d_.now()) {
    e->state = WaitlistState::expired;
  }
  if (e->state == WaitlistState::offered) {
    v.access_token = offer_access_token(*d_.shared->signer, *e);
  }
  v.entry = std::move(*e);
  co_return v;
}

Task<void> Waitlist::leave(const Principal& who, std::string perf_id) {
  TK_CO_TRY(auto e, co_await d_.ports.waitlist->leave(perf_id, who.account_id));
  if (!e) co_return Errc::not_on_waitlist;
  if (e->state == WaitlistState::offered && !e->hold_id.empty()) {
    // The offered seats go to the next one at once rather than when the offer would expire.
    Seats seats(d_);
    auto r = co_await seats.release(who, e->hold_id);
    if (!r && to_app(r.error().code) != Errc::not_found) {
      log::warn("waiting list: the hold of an offer given up was not released, it expires",
                {{"performance", perf_id}, {"hold", e->hold_id}});
    }
  }
  co_return Status{};
}

Task<int> Waitlist::offer_round(std::string perf_id) {
  const Millis now = d_.now();
  TK_CO_CHECK(co_await d_.ports.waitlist->expire_offers(perf_id, now));
  TK_CO_TRY(auto entries, co_await d_.ports.waitlist->waiting(perf_id, kOfferBatch));
  if (entries.empty()) co_return 0;
  WaitingRoom room(d_);
  TK_CO_TRY(auto q, co_await room.live(perf_id));
  if (domain::effective_status(q->perf, now) == domain::SaleStatus::closed) co_return 0;
  Seats seats(d_);
  TK_CO_TRY(auto m, co_await seats.seat_map(perf_id));
  std::size_t free = free_seats(m);
  const Millis until = now + static_cast<Millis>(q->perf.queue.access_ttl_seconds) * 1000;
  int offers = 0;
  for (const auto& e : entries) {
    if (free == 0) break;
    if (static_cast<std::size_t>(e.seat_count) > free) continue;  // a later, smaller one fits
    Principal who{e.account_id, 0, {}, 0};
    crypto::AccessToken access{perf_id, e.account_id, 0, until};
    domain::BestAvailableRequest want;
    want.count = e.seat_count;
    // The hold comes first: a crash before the entry is marked leaves a hold that expires, and
    // the entry, still waiting, is offered again (the per-account limit bounds what it holds).
    auto held = co_await seats.hold_best(who, access, perf_id, want, until);
    if (!held) {
      const auto code = to_app(held.error().code);
      if (code == Errc::seat_limit_reached || code == Errc::too_many_seats) continue;
      if (code == Errc::seats_unavailable || code == Errc::sold_out) break;  // taken meanwhile
      co_return std::move(held).error();
    }
    TK_CO_TRY(bool marked, co_await d_.ports.waitlist->offer(perf_id, e.position, held->id, until));
    if (!marked) {  // the buyer left meanwhile: the seats go back
      (void)co_await seats.release(who, held->id);
      continue;
    }
    log::info("waiting list: seats offered",
              {{"performance", perf_id}, {"position", e.position}, {"seats", e.seat_count}});
    free -= static_cast<std::size_t>(e.seat_count);
    ++offers;
  }
  co_return offers;
}

Task<int> Waitlist::offer_all() {
  TK_CO_TRY(auto perfs, co_await d_.ports.waitlist->open_performances());
  int offers = 0;
  Status first;
  for (const auto& id : perfs) {
    auto r = co_await offer_round(id);
    if (r) {
      offers += *r;
    } else if (first) {
      first = std::move(r).error();
    }
  }
  if (!first) co_return std::move(first).error();
  co_return offers;
}

}  // namespace tk::app
