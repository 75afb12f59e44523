#include "domain/refund.hpp"

#include <gtest/gtest.h>

using namespace tk::domain;

namespace {
RefundFacts paid_order() {
  RefundFacts f;
  f.order_status = OrderStatus::paid;
  f.tickets = {TicketStatus::valid, TicketStatus::valid};
  f.starts_at = 100'000'000;
  f.refundable_until = f.starts_at - kDefaultRefundWindowMs;
  f.now = f.refundable_until - 1;
  return f;
}
}  // namespace

TEST(Refund, PaidOrderInsideTheWindowIsAllowed) {
  EXPECT_EQ(judge_refund(paid_order()), RefundVerdict::allowed);
}

TEST(Refund, WindowEndsAtRefundableUntilForBuyersOnly) {
  auto f = paid_order();
  f.now = f.refundable_until;
  EXPECT_EQ(judge_refund(f), RefundVerdict::too_late);
  f.by = RefundRequester::admin;
  EXPECT_EQ(judge_refund(f), RefundVerdict::allowed);
  f.now = f.starts_at + 1;  // the operator may refund after the show (a cancelled concert)
  EXPECT_EQ(judge_refund(f), RefundVerdict::allowed);
}

TEST(Refund, StartedPerformanceIsTooLateEvenWithALaterWindow) {
  auto f = paid_order();
  f.refundable_until = f.starts_at + 3600'000;
  f.now = f.starts_at;
  EXPECT_EQ(judge_refund(f), RefundVerdict::too_late);
}

TEST(Refund, CheckedInTicketBlocksEveryone) {
  auto f = paid_order();
  f.tickets[1] = TicketStatus::checked_in;
  EXPECT_EQ(judge_refund(f), RefundVerdict::checked_in);
  f.by = RefundRequester::admin;
  EXPECT_EQ(judge_refund(f), RefundVerdict::checked_in);
}

TEST(Refund, OnlyPaidOrders) {
  auto f = paid_order();
  for (auto s : {OrderStatus::pending, OrderStatus::expired, OrderStatus::cancelled}) {
    f.order_status = s;
    EXPECT_EQ(judge_refund(f), RefundVerdict::not_paid) << to_string(s);
  }
  for (auto s : {OrderStatus::refund_pending, OrderStatus::refunded}) {
    f.order_status = s;
    EXPECT_EQ(judge_refund(f), RefundVerdict::already_refunded) << to_string(s);
  }
}

TEST(Refund, DefaultWindowIsStartsAtMinus24Hours) {
  Performance p;
  p.starts_at = 200'000'000;
  EXPECT_EQ(refundable_until(p), p.starts_at - 24LL * 3600 * 1000);
  p.refundable_until = 150'000'000;
  EXPECT_EQ(refundable_until(p), 150'000'000);
  EXPECT_STREQ(to_string(OrderStatus::refund_pending), "refund_pending");
  EXPECT_EQ(parse_order_status("refunded"), OrderStatus::refunded);
}
