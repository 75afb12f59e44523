#pragma once
// What every use case needs: the ports of its thread (shared-nothing: one set per io_context)
// and the process-wide pieces (clock, signer, password hasher, queue view, settings).
#include <atomic>
#include <cstdint>

#include "app/in_flight_limit.hpp"
#include "app/layout_cache.hpp"
#include "app/lost_holds.hpp"
#include "app/ports/catalog.hpp"
#include "app/ports/holds.hpp"
#include "app/ports/identity.hpp"
#include "app/ports/orders.hpp"
#include "app/ports/queue.hpp"
#include "app/ports/rankings.hpp"
#include "app/ports/refunds.hpp"
#include "app/ports/search.hpp"
#include "app/ports/ticket_documents.hpp"
#include "app/ports/tickets.hpp"
#include "app/ports/waitlist.hpp"
#include "app/presence_marks.hpp"
#include "app/queue_view.hpp"
#include "app/single_flight.hpp"
#include "common/clock.hpp"

namespace tk::crypto {
class Signer;
class TicketCodeSigner;
class PasswordHasher;
}  // namespace tk::crypto

namespace tk::app {

struct Settings {
  Millis session_ttl_ms = 24LL * 3600 * 1000;
  // Positions reserved in PostgreSQL per round trip: at 16,000 joins/s, four a second. A Redis
  // restart skips at most this many positions (the tail resumes above every reserved one).
  std::int64_t queue_reserve_block = 4096;
  Millis payment_margin_ms = 2000;        // hold must outlive provider timeout + this margin
  Millis hold_gc_grace_ms = 3600 * 1000;  // Redis TTL past expiry (garbage collection only)
  int max_seats_per_order_cap = 20;
  // Admitted buyers still able to buy never outnumber the unsold seats / seats per order x this
  // percent (0: no inventory bound; see the tick script).
  int admission_inventory_percent = 0;
};

// Test builds only: crash points for fault tests (see TK_TEST_HOOKS).
enum class FaultPoint { none, crash_after_charge, crash_after_commit, crash_after_refund };

struct Ports {
  AccountRepo* accounts = nullptr;
  SessionStore* sessions = nullptr;
  CatalogReader* catalog = nullptr;
  CatalogWriter* catalog_writer = nullptr;
  QueueStore* queue = nullptr;
  QueueLedger* ledger = nullptr;
  HoldStore* holds = nullptr;
  OrderRepo* orders = nullptr;
  PaymentGateway* payments = nullptr;
  SessionRepo* session_records = nullptr;
  TicketRepo* tickets = nullptr;
  TicketDocuments* ticket_documents = nullptr;
  RefundRepo* refunds = nullptr;
  SearchIndex* search = nullptr;     // derived: catalogue search documents
  RankingStore* rankings = nullptr;  // derived: sales per event and time bucket
  PreQueueRepo* prequeue = nullptr;
  WaitlistRepo* waitlist = nullptr;
};

struct Shared {
  const Clock* clock = nullptr;
  const crypto::Signer* signer = nullptr;
  // Ed25519 ticket codes. Unset (some tests): codes are MAC-signed by `signer`, as before.
  const crypto::TicketCodeSigner* ticket_signer = nullptr;
  crypto::PasswordHasher* hasher = nullptr;
  // Password hashes in flight per client address (sign-ups and log-ins); nullptr: no bound.
  InFlightLimit* hashes_per_client = nullptr;
  QueueView* view = nullptr;
  LayoutCache* layouts = nullptr;
  PresenceMarks* presence = nullptr;  // polls seen, written to Redis by the presence loop
  Settings settings;
  FaultPoint fault = FaultPoint::none;
  // Bumped by every operator change to the catalogue in this process, so caches of public reads
  // drop what they built before it (other processes' changes show within the caches' bound).
  std::atomic<std::uint64_t> catalogue_version{0};

  Shared() = default;
  // A copy (a second process in tests) shares the pointers and starts its own catalogue version.
  Shared(const Shared& o)
      : clock(o.clock),
        signer(o.signer),
        ticket_signer(o.ticket_signer),
        hasher(o.hasher),
        hashes_per_client(o.hashes_per_client),
        view(o.view),
        layouts(o.layouts),
        presence(o.presence),
        settings(o.settings),
        fault(o.fault),
        catalogue_version(o.catalogue_version.load(std::memory_order_relaxed)) {}
  Shared& operator=(const Shared&) = delete;
};

// Work in flight on one io_context that concurrent requests join instead of repeating.
struct Flights {
  SingleFlight<void> marker_reloads;                                  // by performance id
  SingleFlight<void> queue_restores;                                  // by performance id
  SingleFlight<std::shared_ptr<const PreQueueOrder>> prequeue_draws;  // by performance id
  SingleFlight<std::shared_ptr<const Layout>> layouts;                // by venue id
  LostHolds lost_holds;  // releases of holds whose answer was lost
};

struct Deps {
  Ports ports;
  Shared* shared = nullptr;
  Flights* flights = nullptr;  // of this io_context
  Millis now() const { return shared->clock->now_ms(); }
};

// Runs a fault point: in test builds the process dies on the spot, as a kill -9 would.
void fault_point(const Shared& s, FaultPoint p);

}  // namespace tk::app
