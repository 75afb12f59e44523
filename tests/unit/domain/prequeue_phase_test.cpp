// When a performance's pre-queue takes joins and when it is drawn.
#include <gtest/gtest.h>

#include "domain/model.hpp"

namespace tk::domain {
namespace {

Performance sale() {
  Performance p;
  p.queue_opens_at = 1'000;
  p.sale_opens_at = 5'000;
  p.stored_status = SaleStatus::scheduled;
  p.seat_count = 10;
  return p;
}

TEST(PreQueuePhase, OpensAtItsTimeAndIsDrawnAtTheSales) {
  auto p = sale();
  EXPECT_FALSE(in_prequeue(p, 999));
  EXPECT_FALSE(prequeue_due(p, 999));
  EXPECT_TRUE(in_prequeue(p, 1'000));
  EXPECT_TRUE(in_prequeue(p, 4'999));
  EXPECT_FALSE(prequeue_due(p, 4'999));
  EXPECT_FALSE(in_prequeue(p, 5'000));
  EXPECT_TRUE(prequeue_due(p, 5'000));
}

TEST(PreQueuePhase, AnOperatorOpeningEarlyDrawsAPauseDoesNot) {
  auto p = sale();
  p.stored_status = SaleStatus::on_sale;
  EXPECT_TRUE(prequeue_due(p, 2'000));
  EXPECT_FALSE(in_prequeue(p, 2'000));
  p.stored_status = SaleStatus::paused;
  EXPECT_TRUE(in_prequeue(p, 2'000));
  EXPECT_FALSE(prequeue_due(p, 2'000));
  p.stored_status = SaleStatus::closed;
  EXPECT_FALSE(in_prequeue(p, 2'000));
  EXPECT_FALSE(prequeue_due(p, 6'000));
}

TEST(PreQueuePhase, NoPreQueueNoPhase) {
  auto p = sale();
  p.queue_opens_at = 0;
  EXPECT_FALSE(in_prequeue(p, 2'000));
  EXPECT_FALSE(prequeue_due(p, 6'000));
}

}  // namespace
}  // namespace tk::domain
