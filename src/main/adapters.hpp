#pragma once
// The storage adapters of one io_context (shared-nothing): PostgreSQL pools, the Redis client and
// every port implementation on top of them. Used by the service's workers and by the use-case
// integration tests, so both are wired the same way.
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "app/deps.hpp"
#include "common/crypto/blocking_pool.hpp"
#include "infra/payment/fake_provider.hpp"
#include "infra/pdf/ticket_documents.hpp"
#include "infra/postgres/pool.hpp"
#include "infra/postgres/repos/repos.hpp"
#include "infra/redis/client.hpp"
#include "infra/redis/stores/rankings.hpp"
#include "infra/redis/stores/stores.hpp"

namespace tk::service {

struct AdapterOptions {
  std::string pg_url;
  std::string pg_read_url;  // catalogue reads (a replica); empty or pg_url: the primary pool
  // Set when pg_read_url names a replica: catalogue reads follow its verdict (process-wide).
  std::shared_ptr<const pg::ReplicaFreshness> read_fresh;
  int pg_pool_size = 8;
  std::chrono::milliseconds pg_unhealthy_after{0};  // see PoolOptions::unhealthy_after
  std::chrono::milliseconds pg_wait_target{0};      // see PoolOptions::wait_target
  redis::Endpoint redis;
  redis::Options redis_options;
  payment::FakeProviderOptions payment;
  crypto::BlockingPool* render_pool = nullptr;  // PDF rendering (process-wide); nullptr: inline
  pdf::RenderOptions pdf;
};

struct Adapters {
  static std::unique_ptr<Adapters> create(boost::asio::any_io_executor ex, const AdapterOptions& o);
  app::Ports ports() const;
  void stop();  // closes pools and the Redis connection

  std::shared_ptr<pg::Pool> pool, read_pool;
  std::shared_ptr<redis::Client> redis;
  std::unique_ptr<pgrepo::Accounts> accounts;
  std::unique_ptr<pgrepo::Sessions> session_records;
  std::unique_ptr<pgrepo::CatalogReader> catalog;
  std::unique_ptr<pgrepo::CatalogWriter> catalog_writer;
  std::unique_ptr<pgrepo::QueueLedger> ledger;
  std::unique_ptr<pgrepo::PreQueue> prequeue;
  std::unique_ptr<pgrepo::Waitlist> waitlist;
  std::unique_ptr<pgrepo::Orders> orders;
  std::unique_ptr<pgrepo::Outbox> outbox;
  std::unique_ptr<pgrepo::ProcessedLog> processed;
  std::unique_ptr<pgrepo::ReceiptReader> receipts;
  std::unique_ptr<pgrepo::ReceiptLedger> receipt_ledger;
  std::unique_ptr<pgrepo::Tickets> tickets;
  std::unique_ptr<pgrepo::Refunds> refunds;
  std::unique_ptr<pgrepo::SearchIndex> search;
  std::unique_ptr<redisstore::Rankings> rankings;
  std::unique_ptr<pdf::TicketDocuments> documents;
  std::unique_ptr<redisstore::Sessions> sessions;
  std::unique_ptr<redisstore::Queue> queue;
  std::unique_ptr<redisstore::Holds> holds;
  std::unique_ptr<payment::FakeProvider> payments;
};

}  // namespace tk::service
