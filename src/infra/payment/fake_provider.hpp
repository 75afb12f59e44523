#pragma once
// The built-in fake payment provider: approves "tok_ok", declines every other token, dedupes by
// our idempotency key, can close a key that was never charged (like cancelling a payment intent)
// and keeps its charge ledger in PostgreSQL (provider_charges) so tests can count charges; refunds
// have a ledger of their own (provider_refunds), deduped by the refund key.
// Latency is configurable to mimic a real provider's round trip; a call waits at most `timeout`
// and never past the calling request's deadline (common/deadline.hpp).
#include <memory>

#include "app/ports/orders.hpp"
#include "infra/postgres/pool.hpp"

namespace tk::payment {

struct FakeProviderOptions {
  std::chrono::milliseconds latency{0};
  std::chrono::milliseconds timeout{5000};
};

class FakeProvider final : public app::PaymentGateway {
 public:
  FakeProvider(std::shared_ptr<pg::Pool> pool, FakeProviderOptions o)
      : pool_(std::move(pool)), opt_(o) {}
  app::Task<app::ChargeResult> charge(std::string provider_key, std::string order_ref,
                                      std::int64_t amount_cents, std::string currency,
                                      std::string card_token) override;
  app::Task<void> void_charge(std::string provider_key) override;
  app::Task<std::optional<app::ChargeResult>> find_or_close(std::string provider_key) override;
  app::Task<std::string> refund(std::string refund_key, std::string charge_id,
                                std::int64_t amount_cents, std::string currency) override;
  Millis timeout_ms() const override { return opt_.timeout.count(); }

 private:
  std::shared_ptr<pg::Pool> pool_;
  FakeProviderOptions opt_;
};

}  // namespace tk::payment
