#pragma once
#include <optional>
#include <string>
#include <vector>

#include "app/async.hpp"
#include "domain/model.hpp"

namespace tk::app {

struct NewOrder {
  domain::Order order;      // id, account, performance, hold, seats, total, currency, expires_at
  int max_per_account = 4;  // the fence re-checks the per-account limit in PostgreSQL
};

struct PlacedOrder {
  domain::Order order;
  bool created = false;  // false: the hold already had this order
};

struct IdempotencyBegin {
  // order_busy: another key's attempt on the same order is in progress (one at a time per order).
  enum class Kind { started, replay, reused, in_progress, order_busy } kind = Kind::started;
  bool took_over = false;  // an attempt left in doubt (crash) is resumed by this request
  int status = 0;          // replay
  std::string body;        // replay
  std::string attempt;     // started: the attempt this request runs (new, or the one taken over)
  // started with a new row: the order as read after the row was written (in the same round trip),
  // so the payment needs no read of its own.
  std::optional<domain::Order> order;
};

struct FinalSale {
  std::string order_id;
  std::string account_id;
  std::string idempotency_key;
  std::string attempt;  // the row is finalised only while this attempt still owns it
  std::string charge_id;
  std::vector<domain::Ticket> tickets;
  std::string response_body;   // stored on the idempotency row
  std::string outbox_payload;  // JSON for the order.paid outbox row
  std::string traceparent;     // the trace the order.paid row continues (empty: none)
  Millis now = 0;
};

struct InDoubtAttempt {
  std::string account_id;
  std::string key;
  std::string order_id;
  std::string attempt;
};

// PostgreSQL: orders and the seat fence, idempotency rows, the finalising transaction.
class OrderRepo {
 public:
  virtual ~OrderRepo() = default;
  // Claims the hold's seat rows (the fence) and inserts the order in one transaction; the same
  // hold returns its existing order (found in the transaction's first round trip, nothing
  // written). Errc::seats_unavailable (details.seat_ids) when a seat is
  // claimed or sold, Errc::seat_limit_reached when the account's limit would be exceeded.
  virtual Task<PlacedOrder> place(const NewOrder& o, Millis now) = 0;
  virtual Task<std::optional<domain::Order>> get(std::string order_id) = 0;
  virtual Task<std::optional<domain::Order>> by_hold(std::string hold_id) = 0;
  virtual Task<std::vector<domain::Order>> list_for_account(std::string account_id) = 0;
  // Cancels the pending order of a released hold and frees its claims. Decided under the order's
  // row lock, so a payment committing at the same moment is either refused (its claim is gone)
  // or reported here as `paid`.
  enum class HoldOrder { none, cancelled, paid };
  virtual Task<HoldOrder> cancel_for_hold(std::string hold_id) = 0;

  // Step 1 of a payment: the idempotency row, committed before anything else happens. A new row
  // gets `new_attempt`; a row whose lease ran out is taken over with the attempt it has. While
  // another key has an attempt in progress on the order, nothing is written (order_busy).
  // Errc::not_found, with nothing written, when the order is not the account's.
  virtual Task<IdempotencyBegin> begin_payment(std::string account_id, std::string key,
                                               std::string fingerprint, std::string order_id,
                                               std::string new_attempt, Millis now,
                                               Millis lease_ms) = 0;
  // Stores a final answer (paid, declined, conflict) for replays of the same key, if `attempt`
  // is still the key's attempt in progress (the first answer stored wins).
  virtual Task<void> complete_payment(std::string account_id, std::string key, std::string attempt,
                                      int status, std::string body) = 0;
  // Forgets an attempt that charged nothing and never can (its provider key is closed), so a
  // retry with the same key starts a new attempt.
  virtual Task<void> abandon_payment(std::string account_id, std::string key,
                                     std::string attempt) = 0;
  // Step 4: seats sold, tickets, order paid, stored response, outbox row — one transaction.
  // Returns false (and changes nothing) when the claim is no longer valid or the attempt no
  // longer owns the idempotency row.
  virtual Task<bool> finalise(const FinalSale& s) = 0;
  virtual Task<std::vector<InDoubtAttempt>> in_doubt(Millis now, int limit) = 0;

  // For re-loading Redis markers and for stats.
  virtual Task<std::vector<std::string>> sold_seats(std::string perf) = 0;
  virtual Task<std::vector<std::pair<std::string, int>>> bought_counts(std::string perf) = 0;
  virtual Task<std::int64_t> paid_orders(std::string perf) = 0;
  // Marks pending orders past their expiry as expired and frees their claims.
  virtual Task<int> expire_due(Millis now, int limit) = 0;
};

enum class ChargeStatus {
  approved,  // money taken
  declined,
  voided,  // taken and given back
  closed,  // the key was closed before any charge: nothing is or ever will be taken under it
};

struct ChargeResult {
  ChargeStatus status = ChargeStatus::declined;
  std::string charge_id;
  bool approved() const { return status == ChargeStatus::approved; }
};

// The payment provider. Calls carry our idempotency key so the provider dedupes as well.
class PaymentGateway {
 public:
  virtual ~PaymentGateway() = default;
  virtual Task<ChargeResult> charge(std::string provider_key, std::string order_ref,
                                    std::int64_t amount_cents, std::string currency,
                                    std::string card_token) = 0;
  // Gives the key's charge back; a key never charged is closed, so nothing can be charged under it
  // afterwards either.
  virtual Task<void> void_charge(std::string provider_key) = 0;
  // The key's charge, if the provider has one. If it has none, the key is closed first, in the
  // same step at the provider: a charge still in flight under it is refused when it arrives.
  // nullopt: nothing was charged under the key and nothing can be any more.
  virtual Task<std::optional<ChargeResult>> find_or_close(std::string provider_key) = 0;
  // Gives a charge back in full. Deduped by refund_key (our order id): a repeated call returns
  // the first refund's id and moves no money. Returns the provider's refund id.
  virtual Task<std::string> refund(std::string refund_key, std::string charge_id,
                                   std::int64_t amount_cents, std::string currency) = 0;
  virtual Millis timeout_ms() const = 0;
};

struct OutboxRow {
  std::int64_t id = 0;
  std::string topic;
  std::string payload;
  int attempts = 0;         // deliveries so far, this one included
  std::string traceparent;  // of the span that wrote the row (empty: none)
};

// Transactional outbox: rows are written by OrderRepo::finalise; the dispatcher claims due rows,
// delivers them and deletes them once every consumer has succeeded.
class OutboxRepo {
 public:
  virtual ~OutboxRepo() = default;
  virtual Task<std::vector<OutboxRow>> claim_due(int limit, Millis retry_after_ms) = 0;
  virtual Task<void> delivered(std::int64_t id) = 0;
  virtual Task<void> delivered_all(const std::vector<std::int64_t>& ids) = 0;
  virtual Task<std::int64_t> pending() = 0;
  // A delivery failed: due again after delay_ms, or parked (kept, never claimed again) when
  // `park`. `error` is our own error code's text, for operators.
  virtual Task<void> failed(std::int64_t id, Millis delay_ms, std::string error, bool park) = 0;
  virtual Task<std::int64_t> parked() = 0;
};

}  // namespace tk::app
