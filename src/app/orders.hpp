#pragma once
// Orders (the seat fence in PostgreSQL) and payment with Stripe-style idempotency.
#include <string>
#include <vector>

#include "app/deps.hpp"
#include "app/errors.hpp"
#include "app/identity.hpp"

namespace tk::app {

class Orders {
 public:
  explicit Orders(Deps d) : d_(d) {}
  Task<PlacedOrder> place(const Principal& who, std::string hold_id);
  Task<domain::Order> get(const Principal& who, std::string order_id);
  Task<std::vector<domain::Order>> mine(const Principal& who);

 private:
  Deps d_;
};

struct PaymentRequest {
  std::string order_id;
  std::string idempotency_key;
  std::string fingerprint;  // of method + path + body
  std::string method;
  std::string card_token;
  std::string traceparent;  // of the request's span: the order.paid message continues its trace
};

// The answer to a payment request, stored on the idempotency row and replayed verbatim.
struct PaymentAnswer {
  int status = 200;
  std::string body;  // JSON text
};

class Payments {
 public:
  explicit Payments(Deps d) : d_(d) {}
  // Errors returned here changed nothing and are not stored (404, 409 in progress/reused, 503).
  // Every decided outcome (paid, declined, already paid, hold expired) is a PaymentAnswer.
  Task<PaymentAnswer> pay(const Principal& who, const PaymentRequest& r);
  // Resolves attempts whose lease ran out (a crash, or a process still running late): finalises,
  // voids or forgets them. Returns how many were resolved.
  Task<int> reconcile(int limit);

 private:
  // Who runs an attempt: the request that started it, a retry that took it over after its lease
  // ran out (the first try may have charged), or the reconciler (never charges, only resolves).
  enum class Runner { starter, resumer, reconciler };
  // `order` as read after the attempt's row was written (another key may have paid before).
  Task<PaymentAnswer> settle(domain::Order order, const std::string& account_id,
                             const std::string& key, const std::string& attempt,
                             const std::string& card_token, Runner runner,
                             const std::string& traceparent);
  Deps d_;
};

// The key a payment attempt charges under at the provider.
std::string provider_key(const std::string& account_id, const std::string& idempotency_key,
                         const std::string& attempt);
std::string paid_body(const domain::Order& o);
std::string error_body(Errc code, std::string_view message);

}  // namespace tk::app
