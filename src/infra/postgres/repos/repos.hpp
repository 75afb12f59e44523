#pragma once
// PostgreSQL implementations of the app's ports. One instance per io_context (its pool's).
#include <memory>
#include <unordered_map>

#include "app/ports/catalog.hpp"
#include "app/ports/consumers.hpp"
#include "app/ports/identity.hpp"
#include "app/ports/orders.hpp"
#include "app/ports/queue.hpp"
#include "app/ports/refunds.hpp"
#include "app/ports/search.hpp"
#include "app/ports/tickets.hpp"
#include "app/ports/waitlist.hpp"
#include "app/single_flight.hpp"
#include "infra/postgres/pool.hpp"
#include "infra/postgres/replica.hpp"

namespace tk::pgrepo {

class Accounts final : public app::AccountRepo {
 public:
  explicit Accounts(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<domain::Account> create(std::string id, std::string email, std::string name,
                                    std::string password_hash) override;
  app::Task<std::optional<domain::Account>> find_by_email(std::string email) override;
  app::Task<std::optional<domain::Account>> find_by_id(std::string id) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

class Sessions final : public app::SessionRepo {
 public:
  explicit Sessions(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<void> create(std::string session_id, const domain::Session& s, Millis now) override;
  app::Task<std::optional<domain::Session>> find(std::string session_id) override;
  app::Task<void> remove(std::string session_id) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

class CatalogReader final : public app::CatalogReader {
 public:
  explicit CatalogReader(std::shared_ptr<pg::Pool> read_pool) : pool_(std::move(read_pool)) {}
  // Reads on `replica` while `fresh` says so, on `primary` otherwise (stale or unreachable).
  CatalogReader(std::shared_ptr<pg::Pool> replica, std::shared_ptr<pg::Pool> primary,
                std::shared_ptr<const pg::ReplicaFreshness> fresh)
      : pool_(std::move(replica)), primary_(std::move(primary)), fresh_(std::move(fresh)) {}
  app::Task<std::vector<domain::Event>> list_events(Millis now) override;
  app::Task<std::optional<domain::Event>> get_event(std::string id, Millis now) override;
  app::Task<std::optional<domain::Performance>> get_performance(std::string id) override;
  app::Task<std::optional<domain::Venue>> get_venue(std::string id) override;
  app::Task<std::vector<domain::Event>> events_by_ids(std::vector<std::string> ids,
                                                      Millis now) override;

 private:
  pg::Pool& pool() const { return fresh_ && !fresh_->fresh() ? *primary_ : *pool_; }

  std::shared_ptr<pg::Pool> pool_, primary_;
  std::shared_ptr<const pg::ReplicaFreshness> fresh_;
};

class CatalogWriter final : public app::CatalogWriter {
 public:
  explicit CatalogWriter(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<domain::Venue> create_venue(std::string name,
                                        std::vector<app::NewSection> sections) override;
  app::Task<std::string> create_event(std::string title, std::string venue_id,
                                      std::string performer) override;
  app::Task<void> create_performance(const domain::Performance& p) override;
  app::Task<std::optional<domain::Performance>> update_performance(
      std::string id, app::PerformanceChange c) override;
  app::Task<std::optional<domain::Performance>> get_performance(std::string id) override;
  app::Task<std::optional<std::string>> event_venue(std::string event_id) override;
  app::Task<std::vector<domain::Performance>> live_performances() override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

// Search documents (table event_search, migration 0010): a weighted tsvector for word and prefix
// matches and a normalised text for substring and pg_trgm similarity matches.
class SearchIndex final : public app::SearchIndex {
 public:
  explicit SearchIndex(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<void> reindex(std::string event_id) override;
  app::Task<std::vector<std::string>> search(app::SearchQuery q, int limit) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

class QueueLedger final : public app::QueueLedger {
 public:
  explicit QueueLedger(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<app::QueueSnapshot> load(std::string perf, Millis now, Millis access_ttl_ms) override;
  app::Task<std::int64_t> reserve(std::string perf, std::int64_t at_least,
                                  std::int64_t block) override;
  app::Task<app::LedgerMarks> record_tick(std::string perf, const app::AdmissionTick& t,
                                          std::int64_t tail) override;
  app::Task<std::optional<app::AdmissionTick>> tick_for_position(std::string perf,
                                                                 std::int64_t position) override;
  app::Task<std::vector<app::AuditEntry>> audit(std::string perf, std::int64_t after,
                                                int limit) override;

 private:
  app::Task<std::int64_t> reserve_once(std::string perf, std::int64_t at_least, std::int64_t block);
  // A reservation in flight for one performance: joins that run out of reserved positions at
  // the same moment share its round trip instead of each locking the queue_state row in turn
  // (a flash crowd's joins would otherwise queue on that row and fill the connection pool).
  std::shared_ptr<pg::Pool> pool_;
  app::SingleFlight<std::int64_t> reserving_;
};

class PreQueue final : public app::PreQueueRepo {
 public:
  explicit PreQueue(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<app::PreQueueJoin> join(std::string perf, std::string account_id,
                                    std::int64_t account_num, Millis now) override;
  app::Task<app::PreQueueList> close(std::string perf) override;
  app::Task<app::PreQueueFairness> fairness(std::string perf) override;
  app::Task<bool> leave(std::string perf, std::int64_t entry) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

class Waitlist final : public app::WaitlistRepo {
 public:
  explicit Waitlist(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<app::WaitlistEntry> join(std::string perf, std::string account_id,
                                     int seat_count) override;
  app::Task<std::optional<app::WaitlistEntry>> find(std::string perf,
                                                    std::string account_id) override;
  app::Task<std::optional<app::WaitlistEntry>> leave(std::string perf,
                                                     std::string account_id) override;
  app::Task<std::vector<std::string>> open_performances() override;
  app::Task<std::int64_t> expire_offers(std::string perf, Millis now) override;
  app::Task<std::vector<app::WaitlistEntry>> waiting(std::string perf, int limit) override;
  app::Task<bool> offer(std::string perf, std::int64_t position, std::string hold_id,
                        Millis access_expires_at) override;
  app::Task<void> withdraw_offer(std::string perf, std::int64_t position,
                                 std::string hold_id) override;
  app::Task<std::optional<app::WaitlistOfferMail>> offer_mail(std::string perf,
                                                              std::int64_t position) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

class Orders final : public app::OrderRepo {
 public:
  explicit Orders(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<app::PlacedOrder> place(const app::NewOrder& o, Millis now) override;
  app::Task<std::optional<domain::Order>> get(std::string order_id) override;
  app::Task<std::optional<domain::Order>> by_hold(std::string hold_id) override;
  app::Task<std::vector<domain::Order>> list_for_account(std::string account_id) override;
  app::Task<HoldOrder> cancel_for_hold(std::string hold_id) override;
  app::Task<app::IdempotencyBegin> begin_payment(std::string account_id, std::string key,
                                                 std::string fingerprint, std::string order_id,
                                                 std::string new_attempt, Millis now,
                                                 Millis lease_ms) override;
  app::Task<void> complete_payment(std::string account_id, std::string key, std::string attempt,
                                   int status, std::string body) override;
  app::Task<void> abandon_payment(std::string account_id, std::string key,
                                  std::string attempt) override;
  app::Task<bool> finalise(const app::FinalSale& s) override;
  app::Task<std::vector<app::InDoubtAttempt>> in_doubt(Millis now, int limit) override;
  app::Task<std::vector<std::string>> sold_seats(std::string perf) override;
  app::Task<std::vector<std::pair<std::string, int>>> bought_counts(std::string perf) override;
  app::Task<std::int64_t> paid_orders(std::string perf) override;
  app::Task<int> expire_due(Millis now, int limit) override;

 private:
  app::Task<std::vector<domain::Order>> load_orders(std::string where_sql, std::string arg);
  std::shared_ptr<pg::Pool> pool_;
};

class Tickets final : public app::TicketRepo {
 public:
  explicit Tickets(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<domain::ScanResult> check_in(std::string ticket_id, Millis now) override;
  app::Task<std::optional<app::TicketInfo>> find(std::string ticket_id) override;
  app::Task<std::optional<app::TicketSheet>> sheet(std::string ticket_id) override;
  app::Task<std::vector<app::TicketSheet>> sheets_for_order(std::string order_id) override;

 private:
  app::Task<std::vector<app::TicketSheet>> load_sheets(std::string where_sql, std::string arg);
  std::shared_ptr<pg::Pool> pool_;
};

class Outbox final : public app::OutboxRepo {
 public:
  explicit Outbox(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<std::vector<app::OutboxRow>> claim_due(int limit, Millis retry_after_ms) override;
  app::Task<void> delivered(std::int64_t id) override;
  app::Task<void> delivered_all(const std::vector<std::int64_t>& ids) override;
  app::Task<std::int64_t> pending() override;
  app::Task<void> failed(std::int64_t id, Millis delay_ms, std::string error, bool park) override;
  app::Task<std::int64_t> parked() override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

class Refunds final : public app::RefundRepo {
 public:
  explicit Refunds(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<app::RefundAccepted> request(const app::RefundRequest& r) override;
  app::Task<std::optional<app::RefundWork>> work(std::string order_id) override;
  app::Task<bool> complete(std::string order_id, std::string provider_refund_id,
                           std::string outbox_payload, std::string traceparent,
                           Millis now) override;
  app::Task<std::vector<std::string>> unsold(std::string performance_id,
                                             std::vector<std::string> seat_ids) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

// Idempotency records of consumers (table processed_messages).
class ProcessedLog final : public app::ProcessedLog {
 public:
  explicit ProcessedLog(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<Begin> begin(std::string consumer, std::string message_id) override;
  app::Task<void> done(std::string consumer, std::string message_id) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

// What the receipt e-mail shows, by order id.
class ReceiptReader final : public app::ReceiptReader {
 public:
  explicit ReceiptReader(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  app::Task<app::ReceiptData> receipt(std::string order_id) override;

 private:
  std::shared_ptr<pg::Pool> pool_;
};

// Consumer "receipt_ledger" of order.paid: a row in `receipts` per paid order, written in one
// transaction with its "done" record.
class ReceiptLedger final : public app::Consumer {
 public:
  explicit ReceiptLedger(std::shared_ptr<pg::Pool> p) : pool_(std::move(p)) {}
  const std::string& name() const override { return name_; }
  const std::vector<std::string>& topics() const override { return topics_; }
  app::Task<void> handle(const app::Message& m, int prior_attempts) override;
  bool marks_done_itself() const override { return true; }

 private:
  std::shared_ptr<pg::Pool> pool_;
  std::string name_ = "receipt_ledger";
  std::vector<std::string> topics_ = {"order.paid"};
};

}  // namespace tk::pgrepo
