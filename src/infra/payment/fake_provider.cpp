#include "infra/payment/fake_provider.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/crypto/encoding.hpp"
#include "common/deadline.hpp"
#include "infra/postgres/repos/support.hpp"

namespace tk::payment {

using app::Task;
using pg::arg;
using pgrepo::map_error;
using pgrepo::P;

namespace {
app::ChargeStatus status_of(std::string_view s) {
  if (s == "charged") return app::ChargeStatus::approved;
  if (s == "voided") return app::ChargeStatus::voided;
  if (s == "cancelled") return app::ChargeStatus::closed;
  return app::ChargeStatus::declined;
}

// A 'cancelled' entry for a key ($1 id, $2 key): it competes with a charge for the same unique
// key, so whichever comes first decides. Callers add what to do when the key has a row already.
constexpr std::string_view kCloseKey =
    "INSERT INTO provider_charges (id, provider_key, order_ref, amount_cents, currency, status) "
    "VALUES ($1, $2, '', 0, '', 'cancelled') ON CONFLICT (provider_key) ";
}  // namespace

Task<app::ChargeResult> FakeProvider::charge(std::string key, std::string order_ref,
                                             std::int64_t amount, std::string currency,
                                             std::string token) {
  if (opt_.latency.count() > 0) {
    // The call waits at most the provider timeout, and never past the request's deadline. A
    // provider slower than that counts as not answering: the caller cannot tell whether the
    // charge happened (here it did not; the reconciler closes the key either way).
    auto ex = co_await boost::asio::this_coro::executor;
    const auto now = std::chrono::steady_clock::now();
    const auto give_up = std::min(now + opt_.timeout, deadline_of(ex));
    const bool answers = now + opt_.latency <= give_up;
    boost::asio::steady_timer t(ex, answers ? now + opt_.latency : give_up);
    co_await t.async_wait(boost::asio::use_awaitable);
    if (!answers) co_return Error{app::Errc::unavailable, {{"provider", "no answer in time"}}};
  }
  const char* status = token == "tok_ok" ? "charged" : "declined";
  // Dedupe by key: a retried charge returns the first outcome and charges nothing more.
  PG_TRY(auto r, co_await pool_->query(
                     "INSERT INTO provider_charges (id, provider_key, order_ref, amount_cents, "
                     "currency, status) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (provider_key) "
                     "DO UPDATE SET provider_key = EXCLUDED.provider_key RETURNING id, status",
                     P(arg(crypto::new_id("ch_")), arg(key), arg(order_ref), arg(amount),
                       arg(currency), arg(status))));
  // Only a live charge is approved: a key voided meanwhile (by a lost claim or the reconciler)
  // must not come back as money taken, or a retry would finalise a sale on a voided charge; a key
  // closed before it was charged stays uncharged.
  co_return app::ChargeResult{status_of(r.text(0, 1)), std::string(r.text(0, 0))};
}

Task<void> FakeProvider::void_charge(std::string key) {
  std::string sql(kCloseKey);
  sql +=
      "DO UPDATE SET status = 'voided', voided_at = now() WHERE provider_charges.status = "
      "'charged'";
  PG_TRY(auto r, co_await pool_->query(sql, P(arg(crypto::new_id("ch_")), arg(key))));
  (void)r;
  co_return Status{};
}

Task<std::optional<app::ChargeResult>> FakeProvider::find_or_close(std::string key) {
  using Found = std::optional<app::ChargeResult>;
  // A charge after this insert gets 'cancelled' back; a charge before it is found below.
  std::string sql(kCloseKey);
  sql += "DO NOTHING";
  PG_TRY(auto closed, co_await pool_->query(sql, P(arg(crypto::new_id("ch_")), arg(key))));
  if (closed.affected() == 1) co_return Found{};
  // A separate statement: its snapshot sees a charge committed while the insert waited on it.
  PG_TRY(auto r,
         co_await pool_->query("SELECT id, status FROM provider_charges WHERE provider_key = $1",
                               P(arg(key))));
  if (r.empty()) co_return app::Errc::internal;  // provider rows are never deleted
  auto found = app::ChargeResult{status_of(r.text(0, 1)), std::string(r.text(0, 0))};
  if (found.status == app::ChargeStatus::closed) co_return Found{};  // closed by an earlier run
  co_return Found(std::move(found));
}

Task<std::string> FakeProvider::refund(std::string key, std::string charge_id, std::int64_t amount,
                                       std::string currency) {
  // Only a live charge can be refunded (a voided one gave the money back already).
  PG_TRY(auto ch, co_await pool_->query("SELECT status FROM provider_charges WHERE id = $1",
                                        P(arg(charge_id))));
  if (ch.empty() || ch.text(0, 0) != "charged") co_return app::Errc::invalid_field;
  // Dedupe by key: a repeated refund returns the first one and moves no money.
  PG_TRY(auto r,
         co_await pool_->query(
             "INSERT INTO provider_refunds (id, refund_key, charge_id, amount_cents, "
             "currency) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (refund_key) DO UPDATE "
             "SET refund_key = EXCLUDED.refund_key RETURNING id",
             P(arg(crypto::new_id("re_")), arg(key), arg(charge_id), arg(amount), arg(currency))));
  co_return std::string(r.text(0, 0));
}

}  // namespace tk::payment
