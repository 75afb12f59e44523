#include "app/orders.hpp"

#include <boost/asio/this_coro.hpp>
#include <map>

#include "app/errors.hpp"
#include "app/seats.hpp"
#include "app/waiting_room.hpp"
#include "common/crypto/encoding.hpp"
#include "common/crypto/ticket_codes.hpp"
#include "common/crypto/tokens.hpp"
#include "common/deadline.hpp"
#include "domain/rules.hpp"

namespace tk::app {

namespace json = boost::json;

Task<PlacedOrder> Orders::place(const Principal& who, std::string hold_id) {
  auto perf_id = perf_of_hold(hold_id);
  if (!perf_id) co_return Errc::not_found;
  // A second call for the same hold returns the same order: found by the placing transaction
  // while the hold lives, here once it is gone (expired, released or sold).
  TK_CO_TRY(auto h, co_await d_.ports.holds->get(*perf_id, hold_id));
  Millis now = d_.now();
  if (!h || h->account_id != who.account_id || h->expires_at <= now) {
    TK_CO_TRY(auto existing, co_await d_.ports.orders->by_hold(hold_id));
    if (existing && existing->account_id == who.account_id) {
      co_return PlacedOrder{std::move(*existing), false};
    }
    if (!h || h->account_id != who.account_id || existing) co_return Errc::not_found;
    co_return Errc::hold_expired;
  }
  // Settings and prices from memory: the waiting room's view holds the performance (price
  // grades and limits never change once it is created) and layouts are cached for good. Reading
  // them from PostgreSQL per order (a 40k-seat venue) made orders 30x slower than their SQL.
  WaitingRoom room(d_);
  TK_CO_TRY(auto live, co_await room.live(*perf_id));
  const domain::Performance* perf = &live->perf;
  Seats seats(d_);
  TK_CO_TRY(auto layout, co_await seats.layout_of(perf->venue_id));
  std::map<std::string, const domain::PriceGrade*, std::less<>> prices;
  for (const auto& g : perf->price_grades) prices[g.grade] = &g;
  NewOrder n;
  n.order.id = crypto::new_id("ord_");
  n.order.account_id = who.account_id;
  n.order.performance_id = *perf_id;
  n.order.hold_id = hold_id;
  n.order.seat_ids = h->seat_ids;
  n.order.expires_at = h->expires_at;  // the order lives exactly as long as its hold
  for (const auto& s : h->seat_ids) {
    auto at = layout->index.find(s);
    if (at == layout->index.end()) co_return Errc::internal;  // held seats come from the layout
    auto g = prices.find(layout->venue.seats[at->second].grade);
    if (g == prices.end()) co_return Errc::internal;
    n.order.total_cents += g->second->price_cents;
    n.order.currency = g->second->currency;
  }
  n.max_per_account = perf->max_seats_per_account;
  TK_CO_TRY(auto placed, co_await d_.ports.orders->place(std::move(n), now));
  if (placed.order.account_id != who.account_id) co_return Errc::not_found;
  co_return std::move(placed);
}

Task<domain::Order> Orders::get(const Principal& who, std::string order_id) {
  TK_CO_TRY(auto o, co_await d_.ports.orders->get(std::move(order_id)));
  if (!o || o->account_id != who.account_id) co_return Errc::not_found;
  co_return std::move(*o);
}

Task<std::vector<domain::Order>> Orders::mine(const Principal& who) {
  co_return co_await d_.ports.orders->list_for_account(who.account_id);
}

std::string provider_key(const std::string& account_id, const std::string& key,
                         const std::string& attempt) {
  // Namespaced by account: two accounts may pick the same Idempotency-Key. Scoped to the attempt:
  // a given-up attempt's key is closed at the provider, and the retry must be able to charge.
  // Attempts from before attempts existed ('') keep the key they charged under.
  std::string pk = account_id + ":" + key;
  if (!attempt.empty()) pk.append(":").append(attempt);
  return pk;
}

std::string paid_body(const domain::Order& o) {
  json::array tickets;
  for (const auto& t : o.tickets) {
    tickets.push_back(json::object{{"id", t.id},
                                   {"seat_id", t.seat_id},
                                   {"code", t.code},
                                   {"status", domain::to_string(t.status)}});
  }
  return json::serialize(
      json::object{{"order_id", o.id}, {"status", "paid"}, {"tickets", std::move(tickets)}});
}

std::string error_body(Errc code, std::string_view message) {
  return json::serialize(json::object{{"error", json::object{{"code", code_name(code)},
                                                             {"message", message},
                                                             {"details", json::object{}}}}});
}

namespace {
PaymentAnswer answer(Errc code, std::string_view message, int status) {
  return PaymentAnswer{status, error_body(code, message)};
}
}  // namespace

Task<PaymentAnswer> Payments::pay(const Principal& who, const PaymentRequest& r) {
  Millis now = d_.now();
  // The row stays locked while the provider may still answer; after that a retry may take over.
  Millis lease = d_.ports.payments->timeout_ms() + d_.shared->settings.payment_margin_ms;
  std::string new_attempt = crypto::new_id("");
  // Errc::not_found (nothing written) for an order that is not the caller's.
  TK_CO_TRY(auto begin, co_await d_.ports.orders->begin_payment(
                            who.account_id, r.idempotency_key, r.fingerprint, r.order_id,
                            std::move(new_attempt), now, lease));
  switch (begin.kind) {
    case IdempotencyBegin::Kind::replay:
      co_return PaymentAnswer{begin.status, std::move(begin.body)};
    case IdempotencyBegin::Kind::reused:
      co_return Errc::idempotency_key_reused;
    case IdempotencyBegin::Kind::in_progress:
      co_return Errc::idempotency_in_progress;
    case IdempotencyBegin::Kind::order_busy: {
      // Another key is paying this order. Only one attempt per order reaches the provider, so
      // two keys can never both charge; this one learns how the other ended by asking again.
      TK_CO_TRY(auto now_order, co_await d_.ports.orders->get(r.order_id));
      if (now_order && now_order->stored_status == domain::OrderStatus::paid) {
        co_return Errc::order_already_paid;
      }
      co_return Errc::idempotency_in_progress;
    }
    case IdempotencyBegin::Kind::started:
      break;
  }
  // Read after the attempt's row was written: another key may have paid since the client looked.
  std::optional<domain::Order> order = std::move(begin.order);
  if (!order) {
    TK_CO_TRY(auto read, co_await d_.ports.orders->get(r.order_id));
    order = std::move(read);
  }
  if (!order) co_return Errc::not_found;
  co_return co_await settle(std::move(*order), who.account_id, r.idempotency_key, begin.attempt,
                            r.card_token, begin.took_over ? Runner::resumer : Runner::starter,
                            r.traceparent);
}

Task<PaymentAnswer> Payments::settle(domain::Order order, const std::string& account,
                                     const std::string& key, const std::string& attempt,
                                     const std::string& card_token, Runner runner,
                                     const std::string& traceparent) {
  auto& orders = *d_.ports.orders;
  auto& provider = *d_.ports.payments;
  const std::string pk = provider_key(account, key, attempt);
  auto finish = [&](PaymentAnswer a) -> Task<PaymentAnswer> {
    TK_CO_CHECK(co_await orders.complete_payment(account, key, attempt, a.status, a.body));
    co_return a;
  };
  Millis now = d_.now();

  std::optional<ChargeResult> charge;
  if (runner == Runner::reconciler) {
    // The lease ran out, but the attempt's process may be alive with its charge still in flight:
    // "never seen" is only final once the key is closed, so a late charge is refused.
    TK_CO_TRY(auto found, co_await provider.find_or_close(pk));
    if (!found) {  // nothing was or can be charged: forget it, a retry starts a new attempt
      TK_CO_CHECK(co_await orders.abandon_payment(account, key, attempt));
      co_return PaymentAnswer{0, {}};
    }
    if (!found->approved())
      co_return co_await finish(answer(Errc::payment_declined, "payment declined", 402));
    charge = std::move(*found);
  }

  // Before answering that nothing was charged: an attempt taken over from a try that died or
  // runs late may hold a charge this request never saw. Voiding closes the key if it has none.
  auto give_back = [&]() -> Task<void> {
    if (charge || runner == Runner::resumer) TK_CO_CHECK(co_await provider.void_charge(pk));
    co_return Status{};
  };
  if (order.stored_status == domain::OrderStatus::paid) {
    if (charge && order.charge_id == charge->charge_id) {
      PaymentAnswer a{200, paid_body(order)};  // not a braced temporary across co_await (GCC 12)
      co_return co_await finish(std::move(a));
    }
    TK_CO_CHECK(co_await give_back());
    co_return co_await finish(answer(Errc::order_already_paid, "order already paid", 409));
  }
  auto refuse_expired = [&]() -> Task<PaymentAnswer> {
    TK_CO_CHECK(co_await give_back());
    co_return co_await finish(
        answer(Errc::hold_expired, "the hold expired; nothing was charged", 409));
  };
  if (domain::effective_status(order, now) != domain::OrderStatus::pending) {
    co_return co_await refuse_expired();
  }
  if (!charge) {
    if (domain::check_payment_window(order.expires_at, now, provider.timeout_ms(),
                                     d_.shared->settings.payment_margin_ms)) {
      co_return co_await refuse_expired();
    }
    // The same rule against the request's own budget: a charge is only started when the
    // provider's answer and the sale's commit can both arrive before the request's deadline.
    const auto left = time_left(deadline_of(co_await boost::asio::this_coro::executor),
                                std::chrono::steady_clock::now());
    if (left.count() < provider.timeout_ms() + d_.shared->settings.payment_margin_ms) {
      // Nothing was sent under this attempt's key: forget it so a retry starts afresh. An
      // attempt taken over may hold an earlier try's charge: that one is left to the reconciler.
      if (runner == Runner::starter) (void)co_await orders.abandon_payment(account, key, attempt);
      co_return Error{Errc::unavailable, {{"reason", "request budget too short to charge"}}};
    }
    // Outside any transaction, with our key so the provider dedupes a retried charge.
    auto c = co_await provider.charge(pk, order.id, order.total_cents, order.currency, card_token);
    if (!c) co_return Errc::unavailable;  // outcome unknown: the attempt stays in doubt
    // Given up by the reconciler while our call was on its way: nothing was charged, and the row
    // is no longer ours to answer on. A retry with the same key starts a new attempt.
    if (c->status == ChargeStatus::closed) co_return Errc::unavailable;
    if (!c->approved())
      co_return co_await finish(answer(Errc::payment_declined, "payment declined", 402));
    charge = std::move(*c);
  }
  fault_point(*d_.shared, FaultPoint::crash_after_charge);

  domain::Order paid = order;
  paid.stored_status = domain::OrderStatus::paid;
  paid.charge_id = charge->charge_id;
  for (const auto& seat : order.seat_ids) {
    domain::Ticket t;
    t.id = crypto::new_id("tkt_");
    t.seat_id = seat;
    const crypto::TicketCode tc{t.id, order.performance_id, seat};
    t.code = d_.shared->ticket_signer != nullptr ? d_.shared->ticket_signer->sign(tc)
                                                 : crypto::encode(*d_.shared->signer, tc);
    paid.tickets.push_back(std::move(t));
  }
  FinalSale sale;
  sale.order_id = order.id;
  sale.account_id = account;
  sale.idempotency_key = key;
  sale.attempt = attempt;
  sale.charge_id = charge->charge_id;
  sale.tickets = paid.tickets;
  sale.response_body = paid_body(paid);
  sale.traceparent = traceparent;
  sale.outbox_payload = json::serialize(json::object{{"order_id", order.id},
                                                     {"account_id", account},
                                                     {"performance_id", order.performance_id},
                                                     {"total_cents", order.total_cents},
                                                     {"currency", order.currency},
                                                     {"ticket_ids", [&] {
                                                        json::array a;
                                                        for (auto& t : paid.tickets)
                                                          a.emplace_back(t.id);
                                                        return a;
                                                      }()}});
  sale.now = now;
  auto done = co_await orders.finalise(sale);
  if (!done) co_return Errc::unavailable;  // commit outcome unknown: the reconciler decides
  if (!*done) {
    TK_CO_TRY(auto again, co_await orders.get(order.id));
    if (again && again->stored_status == domain::OrderStatus::paid &&
        again->charge_id == charge->charge_id) {
      PaymentAnswer a{200, paid_body(*again)};
      co_return co_await finish(std::move(a));
    }
    // The claim is gone (expired or cancelled meanwhile): give the money back.
    co_return co_await refuse_expired();
  }
  fault_point(*d_.shared, FaultPoint::crash_after_commit);
  // After commit: permanent sold markers in Redis. Best effort; a reconcile re-loads them.
  Seats seats(d_);
  auto found = co_await seats.layout_indexes(order.performance_id, order.seat_ids);
  std::vector<std::int64_t> indexes;
  if (found.ok()) indexes = std::move(*found);
  (void)co_await d_.ports.holds->mark_sold(order.performance_id, order.hold_id, account, 0,
                                           order.seat_ids, std::move(indexes));
  co_return PaymentAnswer{200, std::move(sale.response_body)};
}

Task<int> Payments::reconcile(int limit) {
  TK_CO_TRY(auto rows, co_await d_.ports.orders->in_doubt(d_.now(), limit));
  int resolved = 0;
  for (const auto& r : rows) {
    TK_CO_TRY(auto order, co_await d_.ports.orders->get(r.order_id));
    if (!order) continue;
    auto a = co_await settle(*order, r.account_id, r.key, r.attempt, "", Runner::reconciler, "");
    if (a) ++resolved;
  }
  co_return resolved;
}

}  // namespace tk::app
