#include <gtest/gtest.h>

#include "domain/checkin.hpp"

namespace tk::domain {
namespace {

TEST(CheckInRules, JudgeScan) {
  ScanResult r;
  EXPECT_EQ(judge_scan(r), ScanVerdict::unknown_ticket);
  r.found = true;
  r.won = true;
  r.status = TicketStatus::checked_in;
  EXPECT_EQ(judge_scan(r), ScanVerdict::admitted);
  r.won = false;
  EXPECT_EQ(judge_scan(r), ScanVerdict::already_checked_in);
  r.status = TicketStatus::void_;
  EXPECT_EQ(judge_scan(r), ScanVerdict::void_ticket);
  r.status = TicketStatus::valid;  // lost the UPDATE yet reads valid: never answer from that
  EXPECT_EQ(judge_scan(r), ScanVerdict::retry);
}

TEST(CheckInRules, DoorTokenScope) {
  EXPECT_TRUE(may_check_in({true, ""}, "prf_a"));
  EXPECT_TRUE(may_check_in({false, "prf_a"}, "prf_a"));
  EXPECT_FALSE(may_check_in({false, "prf_a"}, "prf_b"));
  EXPECT_FALSE(may_check_in({false, "prf_a"}, "prf_aa"));
  EXPECT_FALSE(may_check_in({false, ""}, ""));
}

TEST(CheckInRules, StatusNames) {
  for (auto s : {TicketStatus::valid, TicketStatus::checked_in, TicketStatus::void_}) {
    EXPECT_EQ(parse_ticket_status(to_string(s)), s);
  }
  EXPECT_EQ(std::string(to_string(TicketStatus::void_)), "void");
  EXPECT_FALSE(parse_ticket_status("used"));
}

}  // namespace
}  // namespace tk::domain
