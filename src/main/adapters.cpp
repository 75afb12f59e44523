#include "main/adapters.hpp"

namespace tk::service {

std::unique_ptr<Adapters> Adapters::create(boost::asio::any_io_executor ex,
                                           const AdapterOptions& o) {
  auto a = std::make_unique<Adapters>();
  pg::PoolOptions po;
  po.conninfo = o.pg_url;
  po.size = o.pg_pool_size;
  po.unhealthy_after = o.pg_unhealthy_after;
  po.wait_target = o.pg_wait_target;
  a->pool = pg::Pool::create(ex, po);
  pg::PoolOptions ro = po;
  ro.conninfo = o.pg_read_url.empty() ? o.pg_url : o.pg_read_url;
  ro.read_only = true;
  ro.size = std::max(2, o.pg_pool_size / 2);
  a->read_pool = pg::Pool::create(ex, ro);
  a->redis = redis::Client::create(ex, o.redis, o.redis_options);
  a->redis->start();
  a->accounts = std::make_unique<pgrepo::Accounts>(a->pool);
  a->session_records = std::make_unique<pgrepo::Sessions>(a->pool);
  a->catalog = o.read_fresh
                   ? std::make_unique<pgrepo::CatalogReader>(a->read_pool, a->pool, o.read_fresh)
                   : std::make_unique<pgrepo::CatalogReader>(a->read_pool);
  a->catalog_writer = std::make_unique<pgrepo::CatalogWriter>(a->pool);
  a->ledger = std::make_unique<pgrepo::QueueLedger>(a->pool);
  a->prequeue = std::make_unique<pgrepo::PreQueue>(a->pool);
  a->waitlist = std::make_unique<pgrepo::Waitlist>(a->pool);
  a->orders = std::make_unique<pgrepo::Orders>(a->pool);
  a->outbox = std::make_unique<pgrepo::Outbox>(a->pool);
  a->processed = std::make_unique<pgrepo::ProcessedLog>(a->pool);
  a->receipts = std::make_unique<pgrepo::ReceiptReader>(a->pool);
  a->receipt_ledger = std::make_unique<pgrepo::ReceiptLedger>(a->pool);
  a->tickets = std::make_unique<pgrepo::Tickets>(a->pool);
  a->refunds = std::make_unique<pgrepo::Refunds>(a->pool);
  a->search = std::make_unique<pgrepo::SearchIndex>(a->pool);
  a->rankings = std::make_unique<redisstore::Rankings>(a->redis);
  a->documents = std::make_unique<pdf::TicketDocuments>(a->tickets.get(), o.render_pool, o.pdf);
  a->sessions = std::make_unique<redisstore::Sessions>(a->redis);
  a->queue = std::make_unique<redisstore::Queue>(a->redis);
  a->holds = std::make_unique<redisstore::Holds>(a->redis);
  a->payments = std::make_unique<payment::FakeProvider>(a->pool, o.payment);
  return a;
}

app::Ports Adapters::ports() const {
  app::Ports p{accounts.get(), sessions.get(), catalog.get(), catalog_writer.get(), queue.get(),
               ledger.get(),   holds.get(),    orders.get(),  payments.get()};
  p.session_records = session_records.get();
  p.tickets = tickets.get();
  p.ticket_documents = documents.get();
  p.refunds = refunds.get();
  p.search = search.get();
  p.rankings = rankings.get();
  p.prequeue = prequeue.get();
  p.waitlist = waitlist.get();
  return p;
}

void Adapters::stop() {
  redis->stop();
  pool->close();
  read_pool->close();
}

}  // namespace tk::service
