#include "domain/checkin.hpp"

namespace tk::domain {

ScanVerdict judge_scan(const ScanResult& r) {
  if (!r.found) return ScanVerdict::unknown_ticket;
  if (r.won) return ScanVerdict::admitted;
  switch (r.status) {
    case TicketStatus::checked_in:
      return ScanVerdict::already_checked_in;
    case TicketStatus::void_:
      return ScanVerdict::void_ticket;
    case TicketStatus::valid:
      return ScanVerdict::retry;
  }
  return ScanVerdict::retry;
}

bool may_check_in(const Scanner& s, std::string_view ticket_performance_id) {
  if (s.admin) return true;
  const std::string_view scope = s.performance_id;
  if (scope.empty() || scope.size() != ticket_performance_id.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < scope.size(); ++i) {
    diff |= static_cast<unsigned char>(scope[i] ^ ticket_performance_id[i]);
  }
  return diff == 0;
}

}  // namespace tk::domain
