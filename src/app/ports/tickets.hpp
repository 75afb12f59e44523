#pragma once
// Tickets after the sale: the door's first-scan decision and what an e-ticket prints.
#include <optional>
#include <string>
#include <vector>

#include "app/async.hpp"
#include "domain/checkin.hpp"
#include "domain/model.hpp"

namespace tk::app {

struct TicketInfo {
  std::string id;
  std::string order_id;
  std::string account_id;
  std::string performance_id;
  std::string seat_id;
  std::string code;
  domain::TicketStatus status = domain::TicketStatus::valid;
  Millis checked_in_at = 0;
};

// Everything an e-ticket page shows about one ticket.
struct TicketSheet {
  TicketInfo ticket;
  std::string event_title;
  std::string venue_name;
  Millis starts_at = 0;
  std::string section;
  std::string row;
  int seat_number = 0;
  std::string grade;
  std::int64_t price_cents = 0;
  std::string currency;
  std::string buyer_name;
  std::string buyer_email;
};

class TicketRepo {
 public:
  virtual ~TicketRepo() = default;
  // The first scan wins in PostgreSQL (UPDATE ... WHERE status = 'valid'); every other scan,
  // from any process, reads the state the winner left.
  virtual Task<domain::ScanResult> check_in(std::string ticket_id, Millis now) = 0;
  virtual Task<std::optional<TicketInfo>> find(std::string ticket_id) = 0;
  virtual Task<std::optional<TicketSheet>> sheet(std::string ticket_id) = 0;
  // In seat order; an order without tickets (not paid) gives an empty list.
  virtual Task<std::vector<TicketSheet>> sheets_for_order(std::string order_id) = 0;
};

}  // namespace tk::app
