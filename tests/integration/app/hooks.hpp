#pragma once
// Test hooks around the real adapters: forwarding decorators of the PostgreSQL order repository
// and the payment provider (override one call to stop it at a chosen point), and an Event that
// one coroutine sets and another awaits, so tests order steps explicitly instead of sleeping.
#include <boost/asio.hpp>
#include <chrono>
#include <memory>

#include "app/ports/orders.hpp"

namespace tk::test {

// A one-shot signal between coroutines of one io_context.
class Event {
 public:
  explicit Event(boost::asio::any_io_executor ex)
      : timer_(std::make_unique<boost::asio::steady_timer>(
            ex, boost::asio::steady_timer::time_point::max())) {}
  void set() {
    set_ = true;
    timer_->cancel();
  }
  bool is_set() const { return set_; }
  boost::asio::awaitable<void> wait() {
    while (!set_) {
      auto [ec] = co_await timer_->async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      (void)ec;
    }
  }

 private:
  bool set_ = false;
  std::unique_ptr<boost::asio::steady_timer> timer_;
};

// Every call goes to the real repository; tests override the calls they hook.
class ForwardingOrderRepo : public app::OrderRepo {
 public:
  explicit ForwardingOrderRepo(app::OrderRepo& real) : r_(real) {}
  app::Task<app::PlacedOrder> place(const app::NewOrder& o, Millis now) override {
    return r_.place(o, now);
  }
  app::Task<std::optional<domain::Order>> get(std::string id) override {
    return r_.get(std::move(id));
  }
  app::Task<std::optional<domain::Order>> by_hold(std::string id) override {
    return r_.by_hold(std::move(id));
  }
  app::Task<std::vector<domain::Order>> list_for_account(std::string id) override {
    return r_.list_for_account(std::move(id));
  }
  app::Task<HoldOrder> cancel_for_hold(std::string id) override {
    return r_.cancel_for_hold(std::move(id));
  }
  app::Task<app::IdempotencyBegin> begin_payment(std::string account, std::string key,
                                                 std::string fp, std::string order,
                                                 std::string attempt, Millis now,
                                                 Millis lease) override {
    return r_.begin_payment(std::move(account), std::move(key), std::move(fp), std::move(order),
                            std::move(attempt), now, lease);
  }
  app::Task<void> complete_payment(std::string account, std::string key, std::string attempt,
                                   int status, std::string body) override {
    return r_.complete_payment(std::move(account), std::move(key), std::move(attempt), status,
                               std::move(body));
  }
  app::Task<void> abandon_payment(std::string account, std::string key,
                                  std::string attempt) override {
    return r_.abandon_payment(std::move(account), std::move(key), std::move(attempt));
  }
  app::Task<bool> finalise(const app::FinalSale& s) override { return r_.finalise(s); }
  app::Task<std::vector<app::InDoubtAttempt>> in_doubt(Millis now, int limit) override {
    return r_.in_doubt(now, limit);
  }
  app::Task<std::vector<std::string>> sold_seats(std::string perf) override {
    return r_.sold_seats(std::move(perf));
  }
  app::Task<std::vector<std::pair<std::string, int>>> bought_counts(std::string perf) override {
    return r_.bought_counts(std::move(perf));
  }
  app::Task<std::int64_t> paid_orders(std::string perf) override {
    return r_.paid_orders(std::move(perf));
  }
  app::Task<int> expire_due(Millis now, int limit) override { return r_.expire_due(now, limit); }

 protected:
  app::OrderRepo& r_;
};

// The real provider; tests override the calls they hook.
class ForwardingGateway : public app::PaymentGateway {
 public:
  explicit ForwardingGateway(app::PaymentGateway& real) : g_(real) {}
  app::Task<app::ChargeResult> charge(std::string provider_key, std::string order_ref,
                                      std::int64_t amount_cents, std::string currency,
                                      std::string card_token) override {
    return g_.charge(std::move(provider_key), std::move(order_ref), amount_cents,
                     std::move(currency), std::move(card_token));
  }
  app::Task<void> void_charge(std::string provider_key) override {
    return g_.void_charge(std::move(provider_key));
  }
  app::Task<std::optional<app::ChargeResult>> find_or_close(std::string provider_key) override {
    return g_.find_or_close(std::move(provider_key));
  }
  app::Task<std::string> refund(std::string refund_key, std::string charge_id,
                                std::int64_t amount_cents, std::string currency) override {
    return g_.refund(std::move(refund_key), std::move(charge_id), amount_cents,
                     std::move(currency));
  }
  Millis timeout_ms() const override { return g_.timeout_ms(); }

 protected:
  app::PaymentGateway& g_;
};

}  // namespace tk::test
