#pragma once
// E-ticket documents of an order: what the receipt e-mail attaches and what
// GET /v1/tickets/{id}/pdf serves. The PDF renderer (infra) implements it; the mail consumer and
// the ticket handler use it.
#include <string>
#include <vector>

#include "app/async.hpp"

namespace tk::app {

struct Document {
  std::string filename;      // e.g. "ticket-tkt_123.pdf"
  std::string content_type;  // "application/pdf"
  std::string data;          // the bytes
};

class TicketDocuments {
 public:
  virtual ~TicketDocuments() = default;
  // One PDF per ticket of the order (voided tickets included only when `include_void`).
  virtual Task<std::vector<Document>> for_order(const std::string& order_id,
                                                bool include_void = false) = 0;
  // One ticket's PDF.
  virtual Task<Document> for_ticket(const std::string& ticket_id) = 0;
};

}  // namespace tk::app
