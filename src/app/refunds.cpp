#include "app/refunds.hpp"

#include <boost/json.hpp>

#include "app/receipt_mail.hpp"
#include "app/seats.hpp"
#include "common/log.hpp"

namespace tk::app {

namespace json = boost::json;

namespace {
// The order id of an outbox payload, or an invalid_field error (the message can never succeed).
Result<std::string> order_of(const Message& m) {
  boost::system::error_code ec;
  auto v = json::parse(m.payload, ec);
  const json::string* oid = nullptr;
  if (!ec && v.is_object()) {
    if (const auto* f = v.as_object().if_contains("order_id")) oid = f->if_string();
  }
  if (!oid || oid->empty()) {
    Error e(Errc::invalid_field);  // by assignment: GCC 12 and braced lists in coroutines
    e.details["reason"] = "payload without order_id";
    return e;
  }
  return std::string(*oid);
}
}  // namespace

Task<RefundAccepted> Refunds::request(const Principal& who, std::string order_id, std::string key,
                                      std::string traceparent) {
  RefundRequest r;
  r.traceparent = std::move(traceparent);
  r.order_id = std::move(order_id);
  r.account_id = who.account_id;
  r.idempotency_key = std::move(key);
  r.by = domain::RefundRequester::buyer;
  r.now = d_.now();
  co_return co_await d_.ports.refunds->request(r);
}

Task<RefundAccepted> Refunds::request_as_admin(std::string order_id, std::string key,
                                               std::string traceparent) {
  RefundRequest r;
  r.traceparent = std::move(traceparent);
  r.order_id = std::move(order_id);
  r.idempotency_key = std::move(key);
  r.by = domain::RefundRequester::admin;
  r.now = d_.now();
  co_return co_await d_.ports.refunds->request(r);
}

Task<void> RefundConsumer::handle(const Message& m, int prior_attempts) {
  TK_CO_TRY(auto order_id, order_of(m));
  TK_CO_TRY(auto w, co_await d_.ports.refunds->work(order_id));
  if (!w) {
    Error e(Errc::invalid_field);
    e.details["reason"] = "no refund requested for this order";
    co_return e;
  }
  if (prior_attempts > 0) {
    json::object f;
    f["order"] = order_id;
    f["prior_attempts"] = prior_attempts;
    log::info("refund resumed", f);
  }
  if (!w->refunded) {
    // Outside any transaction; the provider dedupes by the order id, so a run after a crash
    // anywhere below gets the first refund back instead of a second one.
    TK_CO_TRY(auto refund_id, co_await d_.ports.payments->refund(order_id, w->charge_id,
                                                                 w->total_cents, w->currency));
    fault_point(*d_.shared, FaultPoint::crash_after_refund);
    json::array seats;
    for (const auto& s : w->seat_ids) seats.emplace_back(s);
    std::string payload = json::serialize(json::object{{"order_id", order_id},
                                                       {"account_id", w->account_id},
                                                       {"performance_id", w->performance_id},
                                                       {"refund_id", refund_id},
                                                       {"total_cents", w->total_cents},
                                                       {"currency", w->currency},
                                                       {"seat_ids", std::move(seats)}});
    TK_CO_TRY(bool committed,
              co_await d_.ports.refunds->complete(order_id, refund_id, std::move(payload),
                                                  m.traceparent, d_.now()));
    (void)committed;  // false: an earlier run committed; the markers below may still be left
  }
  // After the commit: PostgreSQL already lets these seats be claimed; until the markers go,
  // Redis still refuses holds on them (the safe direction). Only seats PostgreSQL does not count
  // as sold lose their marker, so a run repeated after the seat was sold again leaves it alone.
  TK_CO_TRY(auto released, co_await d_.ports.refunds->unsold(w->performance_id, w->seat_ids));
  if (!released.empty()) {
    Seats seats(d_);
    TK_CO_TRY(auto indexes, co_await seats.layout_indexes(w->performance_id, released));
    TK_CO_CHECK(co_await d_.ports.holds->unmark_sold(w->performance_id, w->account_id,
                                                     std::move(released), std::move(indexes)));
  }
  co_return Status{};
}

RefundMailConsumer::RefundMailConsumer(ReceiptReader& reader, Mailer& mailer,
                                       std::string from_address)
    : reader_(reader), mailer_(mailer), domain_(mail_domain(from_address)) {}

Task<void> RefundMailConsumer::handle(const Message& msg, int prior_attempts) {
  TK_CO_TRY(auto order_id, order_of(msg));
  auto data = co_await reader_.receipt(order_id);
  if (!data) {
    if (data.code() == Errc::not_found) {
      Error e(Errc::invalid_field);
      e.details["reason"] = "unknown order";
      co_return e;
    }
    co_return std::move(data).error();
  }
  if (prior_attempts > 0) {
    json::object f;
    f["order"] = order_id;
    f["prior_attempts"] = prior_attempts;
    log::warn("refund e-mail sent again", f);
  }
  auto mail = compose_refund(*data, domain_);
  co_return co_await mailer_.send(mail);
}

}  // namespace tk::app
