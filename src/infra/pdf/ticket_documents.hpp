#pragma once
// app::TicketDocuments on PostgreSQL reads and the PDF renderer. One instance per io_context (its
// repo's); rendering runs on a shared BlockingPool, never on the I/O thread.
#include "app/ports/ticket_documents.hpp"
#include "app/ports/tickets.hpp"
#include "common/crypto/blocking_pool.hpp"
#include "infra/pdf/renderer.hpp"

namespace tk::pdf {

// One e-ticket page from what PostgreSQL has about a ticket.
TicketPage page_of(const app::TicketSheet& s);

class TicketDocuments final : public app::TicketDocuments {
 public:
  // pool: where rendering runs (a full queue answers unavailable); nullptr renders inline (tests).
  TicketDocuments(app::TicketRepo* repo, crypto::BlockingPool* pool, RenderOptions opt = {})
      : repo_(repo), pool_(pool), opt_(std::move(opt)) {}

  app::Task<std::vector<app::Document>> for_order(const std::string& order_id,
                                                  bool include_void = false) override;
  app::Task<app::Document> for_ticket(const std::string& ticket_id) override;

 private:
  app::Task<app::Document> render_one(TicketPage page);
  app::TicketRepo* repo_;
  crypto::BlockingPool* pool_;
  RenderOptions opt_;
};

}  // namespace tk::pdf
