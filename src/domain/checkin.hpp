#pragma once
// Check-in rules, pure: what a scan's outcome means for the door, and whose credential may scan.
#include <string>
#include <string_view>

#include "common/clock.hpp"
#include "domain/model.hpp"

namespace tk::domain {

// What PostgreSQL said about one scan: whether this scan's UPDATE won, and the ticket's state
// as read afterwards (by a statement that sees the winner's commit).
struct ScanResult {
  bool found = false;    // the ticket row exists
  bool won = false;      // this scan turned valid -> checked_in
  TicketStatus status = TicketStatus::valid;
  std::string performance_id;
  std::string seat_id;
  Millis checked_in_at = 0;
};

enum class ScanVerdict { admitted, already_checked_in, void_ticket, unknown_ticket, retry };
// `retry`: the UPDATE lost but the row still reads valid (a concurrent un-void, never expected);
// the caller scans once more rather than answer anything it cannot prove.
ScanVerdict judge_scan(const ScanResult& r);

// Who is scanning: the operator (every performance) or a door token for one performance.
struct Scanner {
  bool admin = false;
  std::string performance_id;  // door token's scope
};
// Constant time in the ids' contents: a door token's scope is compared without early exit.
bool may_check_in(const Scanner& s, std::string_view ticket_performance_id);

}  // namespace tk::domain
