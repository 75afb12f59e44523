#pragma once
// Refunds of paid orders: the request (buyer or operator), the worker consumer that gives the
// money back and puts the seats on sale again, and the refund e-mail consumer.
//
//   API:    request -> one transaction (tickets void, order refund_pending, outbox
//           order.refund_requested) -> 202
//   worker: order.refund_requested -> provider refund (deduped by order id) -> one transaction
//           (seats available, sales count lowered, order refunded, outbox order.refunded) ->
//           Redis sold markers removed, seat-map version bumped
//   worker: order.refunded -> one refund e-mail
#include <string>

#include "app/deps.hpp"
#include "app/errors.hpp"
#include "app/identity.hpp"
#include "app/ports/consumers.hpp"

namespace tk::app {

class Refunds {
 public:
  explicit Refunds(Deps d) : d_(d) {}
  // The buyer's route: their own order (not_found otherwise), inside the refund window.
  Task<RefundAccepted> request(const Principal& who, std::string order_id, std::string key,
                               std::string traceparent = {});
  // The operator's route: any order, no time limit.
  Task<RefundAccepted> request_as_admin(std::string order_id, std::string key,
                                        std::string traceparent = {});

 private:
  Deps d_;
};

// Consumer "refund" of order.refund_requested. Safe to run again at any step: the provider
// dedupes the refund by order id, the completing transaction runs once (it checks the order's
// status under its row lock), and only markers of seats PostgreSQL no longer counts as sold are
// removed from Redis.
class RefundConsumer final : public Consumer {
 public:
  explicit RefundConsumer(Deps d) : d_(d) {}
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& topics() const override { return topics_; }
  Task<void> handle(const Message& m, int prior_attempts) override;

 private:
  Deps d_;
  std::string name_ = "refund";
  std::vector<std::string> topics_ = {"order.refund_requested"};
};

// Consumer "refund_mail" of order.refunded: one bilingual e-mail per refunded order
// (X-Ticketing-Kind: refund), sent like the receipt (stable Message-ID, at least once).
class RefundMailConsumer final : public Consumer {
 public:
  RefundMailConsumer(ReceiptReader& reader, Mailer& mailer, std::string from_address);
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& topics() const override { return topics_; }
  Task<void> handle(const Message& m, int prior_attempts) override;

 private:
  ReceiptReader& reader_;
  Mailer& mailer_;
  std::string domain_;
  std::string name_ = "refund_mail";
  std::vector<std::string> topics_ = {"order.refunded"};
};

}  // namespace tk::app
